//! Rosters: who is enrolled at a school or child-care organization in a school year.
//!
//! The caller's row scope is part of both statements, so a roster never lists a record the
//! caller may not read; the records it leaves out (locked to another provider, opted out)
//! are only counted, so a school's totals still add up to its enrollment.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QuerySelect, RelationDef,
};
use uuid::Uuid;

use crate::model::{enrollment, person};
use crate::repo::enrollments::{school_year, GRADES};
use crate::repo::{Cursor, CursorKind};
use crate::scope_sql::{person_condition, Locks};
use crate::{Access, ReadTarget, Store, StoreError};

/// Which roster: an organization's enrollments in a school year, optionally of one grade.
#[derive(Debug, Clone)]
pub struct RosterFilter {
    pub organization_id: Uuid,
    /// Like "2026-2027".
    pub school_year: String,
    pub grade: Option<String>,
}

/// A student the caller may read, with the grade of their enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub person: person::Model,
    pub grade: String,
    /// The date of the person's first enrollment at the organization (any school year): the
    /// start of the statute's completion window for a started series.
    pub enrolled_on: NaiveDate,
}

/// The enrollment's grade beside the person's own columns. The person is decoded without a
/// column prefix: `select_also` prefixes every column, which costs a formatted name per column
/// and row (26,000 of them for a 1,000-student roster).
const GRADE_COLUMN: &str = "roster_grade";
const ENROLLED_COLUMN: &str = "roster_enrolled_at";

impl sea_orm::FromQueryResult for RosterEntry {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(RosterEntry {
            person: person::Model::from_query_result(res, pre)?,
            grade: res.try_get(pre, GRADE_COLUMN)?,
            enrolled_on: res
                .try_get::<DateTime<Utc>>(pre, ENROLLED_COLUMN)?
                .date_naive(),
        })
    }
}

/// The readable part of a roster and the size of the rest.
#[derive(Debug, Clone)]
pub struct Roster {
    pub entries: Vec<RosterEntry>,
    /// Enrollments whose person the caller may not read (locked or opted out).
    pub hidden: u64,
}

/// A student's place in roster order (last name, first name, id) and its cursor form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RosterKey {
    last_name: String,
    first_name: String,
    id: Uuid,
}

impl RosterKey {
    pub fn of(p: &person::Model) -> RosterKey {
        RosterKey {
            last_name: p.last_name_key.clone(),
            first_name: p.first_name_key.clone(),
            id: p.id,
        }
    }

    /// This key as a cursor sealed for `access`'s principal.
    pub fn cursor(&self, store: &Store, access: &Access) -> Cursor {
        store.cursor_key.seal(
            access,
            CursorKind::Roster,
            &[&self.last_name, &self.first_name, &self.id.to_string()],
        )
    }

    /// The key a cursor of [`RosterKey::cursor`] holds, if it was sealed for `access`'s
    /// principal.
    pub fn parse(store: &Store, access: &Access, cursor: &Cursor) -> Result<RosterKey, StoreError> {
        let malformed = || StoreError::Invalid("malformed cursor".into());
        let mut parts = store
            .cursor_key
            .open(access, CursorKind::Roster, cursor, 3)
            .ok_or_else(malformed)?;
        let id = parts
            .pop()
            .and_then(|s| s.parse().ok())
            .ok_or_else(malformed)?;
        let first_name = parts.pop().ok_or_else(malformed)?;
        let last_name = parts.pop().ok_or_else(malformed)?;
        Ok(RosterKey {
            last_name,
            first_name,
            id,
        })
    }
}

impl Store {
    /// The roster `filter` names, as far as `access` may read it: two statements whatever its
    /// size (the readable enrollments, and a count of the others).
    pub async fn roster(
        &self,
        access: &Access,
        filter: &RosterFilter,
    ) -> Result<Roster, StoreError> {
        let year = school_year(&filter.school_year)?;
        let grade = match filter.grade.as_deref().map(|g| g.trim().to_uppercase()) {
            None => None,
            Some(g) if GRADES.contains(&g.as_str()) => Some(g),
            Some(g) => {
                return Err(StoreError::Invalid(format!(
                    "grade `{g}` is not one of {}",
                    GRADES.join(", ")
                )))
            }
        };
        // The readable students with their enrollment, in one statement.
        let enrolled_person: RelationDef = enrollment::Entity::belongs_to(person::Entity)
            .from(enrollment::Column::PersonId)
            .to(person::Column::Id)
            .into();
        let mut students = person::Entity::find()
            .join(JoinType::InnerJoin, enrolled_person.rev())
            .filter(enrollment::Column::OrganizationId.eq(filter.organization_id))
            .filter(enrollment::Column::SchoolYear.eq(year.as_str()))
            .filter(person_condition(&access.scope, Locks::Enforce));
        if let Some(g) = &grade {
            students = students.filter(enrollment::Column::Grade.eq(g.as_str()));
        }
        // The first enrollment at this organization, by a correlated subquery on the
        // (person, organization) index: no statement more per roster.
        let first = Alias::new("first_enrollment");
        let enrolled_at = Query::select()
            .expr(Func::min(Expr::col((
                first.clone(),
                enrollment::Column::CreatedAt,
            ))))
            .from_as(enrollment::Entity, first.clone())
            .and_where(
                Expr::col((first.clone(), enrollment::Column::PersonId))
                    .equals((enrollment::Entity, enrollment::Column::PersonId)),
            )
            .and_where(
                Expr::col((first, enrollment::Column::OrganizationId)).eq(filter.organization_id),
            )
            .to_owned();
        let (db, target) = self.reader(access).await;
        let mut entries = students
            .column_as(enrollment::Column::Grade, GRADE_COLUMN)
            .column_as(
                Expr::SubQuery(None, Box::new(enrolled_at.into())),
                ENROLLED_COLUMN,
            )
            .into_model::<RosterEntry>()
            .all(db)
            .await?;
        let mut others = enrollment::Entity::find()
            .filter(enrollment::Column::OrganizationId.eq(filter.organization_id))
            .filter(enrollment::Column::SchoolYear.eq(year))
            .filter(enrollment::Column::PersonId.not_in_subquery(readable(access)));
        if let Some(g) = grade {
            others = others.filter(enrollment::Column::Grade.eq(g));
        }
        let mut hidden = others.count(db).await?;
        if target == ReadTarget::Replica {
            // The replica's answer is candidates: a student its stale facts admit but the
            // primary's do not is counted as hidden, not listed.
            let ids: Vec<Uuid> = entries.iter().map(|e| e.person.id).collect();
            let admitted = self.admitted_on_primary(access, &ids).await?;
            let before = entries.len();
            entries.retain(|e| admitted.contains(&e.person.id));
            hidden += (before - entries.len()) as u64;
        }
        Ok(Roster { entries, hidden })
    }
}

/// `SELECT id FROM persons WHERE <row scope, locked records left out>`.
fn readable(access: &Access) -> SelectStatement {
    Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .cond_where(person_condition(&access.scope, Locks::Enforce))
        .to_owned()
}
