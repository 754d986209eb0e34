//! Who the simulated callers are, found in the seeded database.
//!
//! The seed's ids depend on its random stream, so the organizations and the persons each of
//! them may read are looked up after seeding, with the access policy's row rules applied in
//! the queries: a provider's patients are the participating children it gave doses to, not
//! locked to another organization; a school's students are its participating, unlocked
//! enrollments of the current school year.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use entities::codes::OrganizationKind;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Statement};
use uuid::Uuid;

use crate::mix::Patient;

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("reading the seeded database: {0}")]
    Db(#[from] DbErr),
    #[error("organization kind `{0}` is not one izgraph stores")]
    Kind(String),
    #[error("the seeded database has no {0}; seed more persons")]
    Missing(&'static str),
}

/// A seeded organization.
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: Uuid,
    pub kind: OrganizationKind,
    pub name: String,
}

/// A school or child care's current roster, as far as it may read it.
#[derive(Debug, Default)]
pub struct Enrolled {
    pub grades: BTreeSet<String>,
    pub students: Vec<Uuid>,
}

#[derive(Debug)]
pub struct Fixtures {
    pub organizations: Vec<Organization>,
    /// Per provider organization, its patients in id order.
    pub patients: BTreeMap<Uuid, Vec<Patient>>,
    /// Per school or child-care organization.
    pub enrolled: BTreeMap<Uuid, Enrolled>,
}

const PATIENTS: &str = "
SELECT DISTINCT d.administered_by_org_id AS org, p.id, p.first_name, p.last_name, p.date_of_birth
FROM doses d JOIN persons p ON p.id = d.person_id
WHERE d.administered_by_org_id IS NOT NULL
  AND p.participation = 'PARTICIPATING'
  AND (p.locked_to_org_id IS NULL OR p.locked_to_org_id = d.administered_by_org_id)
ORDER BY 1, 2";

const ENROLLED: &str = "
SELECT e.organization_id AS org, e.grade, e.person_id,
       p.participation = 'PARTICIPATING' AND p.locked_to_org_id IS NULL AS readable
FROM enrollments e JOIN persons p ON p.id = e.person_id
WHERE e.school_year = (SELECT max(school_year) FROM enrollments)
ORDER BY 1, 3";

async fn rows(db: &DatabaseConnection, sql: &str) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
}

impl Fixtures {
    /// Reads them; patients born after `latest_dose_date` are left out, since no dose could be
    /// recorded for them that day.
    pub async fn read(
        db: &DatabaseConnection,
        latest_dose_date: NaiveDate,
    ) -> Result<Fixtures, FixtureError> {
        let mut organizations = Vec::new();
        for r in rows(db, "SELECT id, kind, name FROM organizations ORDER BY name").await? {
            let kind: String = r.try_get("", "kind")?;
            organizations.push(Organization {
                id: r.try_get("", "id")?,
                kind: OrganizationKind::parse(&kind).ok_or(FixtureError::Kind(kind))?,
                name: r.try_get("", "name")?,
            });
        }
        let mut patients: BTreeMap<Uuid, Vec<Patient>> = BTreeMap::new();
        for r in rows(db, PATIENTS).await? {
            let patient = Patient {
                id: r.try_get("", "id")?,
                first_name: r.try_get("", "first_name")?,
                last_name: r.try_get("", "last_name")?,
                date_of_birth: r.try_get("", "date_of_birth")?,
            };
            if patient.date_of_birth <= latest_dose_date {
                patients
                    .entry(r.try_get("", "org")?)
                    .or_default()
                    .push(patient);
            }
        }
        let mut enrolled: BTreeMap<Uuid, Enrolled> = BTreeMap::new();
        for r in rows(db, ENROLLED).await? {
            let e = enrolled.entry(r.try_get("", "org")?).or_default();
            e.grades.insert(r.try_get("", "grade")?);
            if r.try_get::<bool>("", "readable")? {
                e.students.push(r.try_get("", "person_id")?);
            }
        }
        enrolled.retain(|_, e| !e.students.is_empty());
        if patients.is_empty() {
            return Err(FixtureError::Missing("provider with patients"));
        }
        if enrolled.is_empty() {
            return Err(FixtureError::Missing("school with enrolled students"));
        }
        Ok(Fixtures {
            organizations,
            patients,
            enrolled,
        })
    }

    pub fn organization(&self, id: Uuid) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }
}
