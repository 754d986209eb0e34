//! School and child-care enrollments.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::codes::{AccessAction, OrganizationKind};
use crate::model::{enrollment, organization};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::write_guard::person_for_write;
use crate::{Access, Store, StoreError};

/// Grades a school or child-care enrollment may carry: child care and early childhood
/// (`CC`, `EC`), pre-kindergarten, kindergarten and grades 1 to 12.
pub const GRADES: [&str; 16] = [
    "CC", "EC", "PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
];

/// Parses "2026-2027": two consecutive years.
pub(crate) fn school_year(text: &str) -> Result<String, StoreError> {
    let bad = || StoreError::Invalid(format!("schoolYear `{text}` is not like \"2026-2027\""));
    let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
    let (a, b): (i32, i32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a.to_string().len() != 4 || b != a + 1 {
        return Err(bad());
    }
    Ok(format!("{a}-{b}"))
}

impl Store {
    pub async fn enrollments_for(
        &self,
        access: &Access,
        person_ids: &[Uuid],
    ) -> Result<Vec<enrollment::Model>, StoreError> {
        self.relation_of(access, person_ids, |r| &r.enrollments)
            .await
    }

    /// Enrolls a person; enrolling again for the same school year updates the grade.
    pub async fn enroll(
        &self,
        access: &Access,
        person_id: Uuid,
        organization_id: Uuid,
        school_year_text: &str,
        grade: &str,
    ) -> Result<enrollment::Model, StoreError> {
        let year = school_year(school_year_text)?;
        let grade = grade.trim().to_uppercase();
        if !GRADES.contains(&grade.as_str()) {
            return Err(StoreError::Invalid(format!(
                "grade `{grade}` is not one of {}",
                GRADES.join(", ")
            )));
        }
        let txn = self.begin_write_for(access).await?;
        let org = organization::Entity::find_by_id(organization_id)
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::not_found("organization", organization_id))?;
        if !matches!(
            org.kind,
            OrganizationKind::School | OrganizationKind::ChildCare
        ) {
            return Err(StoreError::Invalid(
                "enrollments are at a SCHOOL or CHILD_CARE organization".into(),
            ));
        }
        person_for_write(&txn, access, person_id).await?;
        let existing = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(person_id))
            .filter(enrollment::Column::OrganizationId.eq(organization_id))
            .filter(enrollment::Column::SchoolYear.eq(year.as_str()))
            .one(&*txn)
            .await?;
        let row = match existing {
            Some(e) => {
                let mut e: enrollment::ActiveModel = e.into();
                e.grade = Set(grade);
                e.update(&*txn).await?
            }
            None => {
                enrollment::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    person_id: Set(person_id),
                    organization_id: Set(organization_id),
                    school_year: Set(year),
                    grade: Set(grade),
                    created_at: Set(Utc::now()),
                }
                .insert(&*txn)
                .await?
            }
        };
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![person_id],
                vec!["Enrollment".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::school_year;

    #[test]
    fn school_year_must_be_two_consecutive_years() {
        assert_eq!(school_year("2026-2027").ok().as_deref(), Some("2026-2027"));
        assert!(school_year("2026-2028").is_err());
        assert!(school_year("26-27").is_err());
        assert!(school_year("2026").is_err());
    }
}
