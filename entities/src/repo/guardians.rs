//! Guardian links between persons.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::codes::AccessAction;
use crate::model::{guardian_link, person};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::write_guard::person_for_write;
use crate::{Access, Store, StoreError};
use policies::{RowScope, Visibility};

/// A visible person's guardian.
#[derive(Debug, Clone)]
pub struct GuardianOf {
    pub ward_id: Uuid,
    pub relationship: String,
    pub guardian: person::Model,
}

impl Store {
    /// Guardians of the visible persons among `ward_ids` whose own records the caller may see.
    pub async fn guardians_for(
        &self,
        access: &Access,
        ward_ids: &[Uuid],
    ) -> Result<Vec<GuardianOf>, StoreError> {
        let links = self
            .relation_of(access, ward_ids, |r| &r.guardian_links)
            .await?;
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let guardian_ids: Vec<Uuid> = links.iter().map(|l| l.guardian_id).collect();
        let guardians = self.records_unscoped(&guardian_ids).await?;
        // A guardian is a person like any other: admitted by the row scope that `person(id:)`
        // applies, or left out. (A guardian principal is not in their own row scope, so their
        // record is not readable through a ward either.)
        Ok(links
            .into_iter()
            .filter_map(|l| {
                let record = guardians.get(&l.guardian_id)?;
                let shown = access.scope.admits(&record.facts()) == Visibility::Visible;
                shown.then(|| GuardianOf {
                    ward_id: l.person_id,
                    relationship: l.relationship,
                    guardian: record.person.clone(),
                })
            })
            .collect())
    }

    /// Links `guardian_id` as a guardian of `person_id`; re-linking updates the relationship.
    ///
    /// A provider's link is *reported*: data about the family, not a grant of access. Registry
    /// staff's link is *verified* (staff verify against a birth record or court order before
    /// they record it). Re-reporting a verified link keeps it verified.
    pub async fn add_guardian(
        &self,
        access: &Access,
        person_id: Uuid,
        guardian_id: Uuid,
        relationship: &str,
    ) -> Result<person::Model, StoreError> {
        let relationship = relationship.trim();
        if relationship.is_empty() || relationship.chars().count() > 60 {
            return Err(StoreError::Invalid(
                "relationship must be 1 to 60 characters".into(),
            ));
        }
        if person_id == guardian_id {
            return Err(StoreError::Invalid(
                "a person cannot be their own guardian".into(),
            ));
        }
        let txn = self.begin_write_for(access).await?;
        let ward = person_for_write(&txn, access, person_id).await?;
        let guardian = person_for_write(&txn, access, guardian_id).await?;
        if guardian.date_of_birth >= ward.date_of_birth {
            return Err(StoreError::Invalid(
                "a guardian must be older than the person".into(),
            ));
        }
        let existing = guardian_link::Entity::find()
            .filter(guardian_link::Column::PersonId.eq(person_id))
            .filter(guardian_link::Column::GuardianId.eq(guardian_id))
            .one(&*txn)
            .await?;
        let staff = access.scope == RowScope::All;
        let verification = || {
            (
                Set(Some(Utc::now())),
                Set(Some(access.principal.subject.clone())),
            )
        };
        match existing {
            Some(link) => {
                let was_verified = link.grants_access();
                let mut link: guardian_link::ActiveModel = link.into();
                link.relationship = Set(relationship.to_owned());
                if staff && !was_verified {
                    (link.verified_at, link.verified_by) = verification();
                }
                link.update(&*txn).await?;
            }
            None => {
                let (verified_at, verified_by) = if staff {
                    verification()
                } else {
                    (Set(None), Set(None))
                };
                guardian_link::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    person_id: Set(person_id),
                    guardian_id: Set(guardian_id),
                    relationship: Set(relationship.to_owned()),
                    created_at: Set(Utc::now()),
                    verified_at,
                    verified_by,
                }
                .insert(&*txn)
                .await?;
            }
        }
        append(
            &*txn,
            access,
            // About the ward's record; the guardian is named as its co-subject, so the entry
            // is not in the guardian's own view of the log.
            NewEntry::allowed(
                AccessAction::Write,
                vec![person_id, guardian_id],
                vec!["Person.guardians".into()],
            )
            .with_co_subjects(vec![guardian_id]),
        )
        .await?;
        txn.commit().await?;
        Ok(ward)
    }

    /// Marks the reported link `guardian_id` → `person_id` verified: registry staff only (the
    /// write right `verify_guardian` needs `admin`), after checking a birth record or court
    /// order. From then on the guardian may read the person's record while they are a minor.
    pub async fn verify_guardian(
        &self,
        access: &Access,
        person_id: Uuid,
        guardian_id: Uuid,
    ) -> Result<person::Model, StoreError> {
        if access.scope != RowScope::All {
            return Err(StoreError::Forbidden("verify a guardian relationship"));
        }
        let txn = self.begin_write_for(access).await?;
        let ward = person_for_write(&txn, access, person_id).await?;
        txn.touch(guardian_id);
        let link = guardian_link::Entity::find()
            .filter(guardian_link::Column::PersonId.eq(person_id))
            .filter(guardian_link::Column::GuardianId.eq(guardian_id))
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::not_found("guardian link", guardian_id))?;
        if !link.grants_access() {
            let mut link: guardian_link::ActiveModel = link.into();
            link.verified_at = Set(Some(Utc::now()));
            link.verified_by = Set(Some(access.principal.subject.clone()));
            link.update(&*txn).await?;
        }
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![person_id, guardian_id],
                vec!["Person.guardians.verified".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(ward)
    }
}
