//! Consent: participation, a lock to one provider, reminders, and the history of changes.

use chrono::Utc;
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::codes::{AccessAction, ConsentChannel, OrganizationKind, Participation};
use crate::model::{
    consent_event, contraindication, dose, dose_report, enrollment, guardian_link, membership,
    organization, person,
};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::write_guard::person_for_write;
use crate::{Access, Store, StoreError};

/// What to do with the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockChange {
    Keep,
    LockTo(Uuid),
    Unlock,
}

#[derive(Debug, Clone)]
pub struct ConsentChange {
    pub participation: Option<Participation>,
    pub lock: LockChange,
    pub reminders: Option<bool>,
    pub channel: ConsentChannel,
}

/// Organizations a record can be locked to: the ones that give care.
fn is_provider(kind: OrganizationKind) -> bool {
    matches!(
        kind,
        OrganizationKind::Clinic
            | OrganizationKind::Hospital
            | OrganizationKind::Pharmacy
            | OrganizationKind::PublicHealthAgency
    )
}

impl Store {
    /// Consent history of the visible persons among `person_ids`, oldest first.
    pub async fn consent_history_for(
        &self,
        access: &Access,
        person_ids: &[Uuid],
    ) -> Result<Vec<consent_event::Model>, StoreError> {
        self.relation_of(access, person_ids, |r| &r.consent_history)
            .await
    }

    /// Changes consent and appends the change to its history. Opting out keeps only the
    /// minimal demographics needed to honour it (name, birth date, gender, the opt-out and its
    /// history): contact data, doses (with their reports), contraindications, enrollments,
    /// memberships and reported guardian links — those of the person's guardians and those
    /// naming the person as someone's guardian — are removed in the same transaction.
    ///
    /// Verified links stay, in both directions: the policy lets the person's own guardian see
    /// the opted-out record and opt them back in, which needs the link that makes them that
    /// guardian; and a parent opting out of the registry does not give up their child's
    /// record. A verified link grants; it is not hearsay about the person, and the guardian
    /// side of it shows only to callers who may see the guardian's record, which an opted-out
    /// guardian's is not.
    pub async fn set_consent(
        &self,
        access: &Access,
        person_id: Uuid,
        change: ConsentChange,
    ) -> Result<person::Model, StoreError> {
        let txn = self.begin_write_for(access).await?;
        let current = person_for_write(&txn, access, person_id).await?;
        let locked_to = match change.lock {
            LockChange::Keep => current.locked_to_org_id,
            LockChange::Unlock => None,
            LockChange::LockTo(org) => {
                let org_row = organization::Entity::find_by_id(org)
                    .one(&*txn)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Invalid(format!("lockedToId {org} is not an organization"))
                    })?;
                if !is_provider(org_row.kind) {
                    return Err(StoreError::Invalid(
                        "a record can only be locked to a provider organization".into(),
                    ));
                }
                Some(org)
            }
        };
        let participation = change.participation.unwrap_or(current.participation);
        let reminders = change.reminders.unwrap_or(current.reminders);
        let opting_out = participation == Participation::OptedOut
            && current.participation != Participation::OptedOut;

        let mut model: person::ActiveModel = current.into();
        model.participation = Set(participation);
        model.locked_to_org_id = Set(locked_to);
        model.reminders = Set(reminders);
        model.updated_at = Set(Utc::now());
        if opting_out {
            model.address_line1 = Set(None);
            model.address_line2 = Set(None);
            model.city = Set(None);
            model.state = Set(None);
            model.postal_code = Set(None);
            model.phone = Set(None);
            model.email = Set(None);
            dose_report::Entity::delete_many()
                .filter(dose_report::Column::PersonId.eq(person_id))
                .exec(&*txn)
                .await?;
            dose::Entity::delete_many()
                .filter(dose::Column::PersonId.eq(person_id))
                .exec(&*txn)
                .await?;
            // What VXUs reported beside the doses (issue 16) goes with them.
            crate::model::hl7_dose_detail::Entity::delete_many()
                .filter(crate::model::hl7_dose_detail::Column::PersonId.eq(person_id))
                .exec(&*txn)
                .await?;
            crate::model::vaccine_refusal::Entity::delete_many()
                .filter(crate::model::vaccine_refusal::Column::PersonId.eq(person_id))
                .exec(&*txn)
                .await?;
            enrollment::Entity::delete_many()
                .filter(enrollment::Column::PersonId.eq(person_id))
                .exec(&*txn)
                .await?;
            membership::Entity::delete_many()
                .filter(membership::Column::PersonId.eq(person_id))
                .exec(&*txn)
                .await?;
            let links = guardian_link::Entity::find()
                .filter(
                    Condition::any()
                        .add(guardian_link::Column::PersonId.eq(person_id))
                        .add(guardian_link::Column::GuardianId.eq(person_id)),
                )
                .filter(guardian_link::Column::VerifiedAt.is_null())
                .all(&*txn)
                .await?;
            for link in &links {
                // The other end's record lists (or is listed by) this person: its cached copy
                // changes too.
                txn.touch(link.person_id);
                txn.touch(link.guardian_id);
            }
            guardian_link::Entity::delete_many()
                .filter(guardian_link::Column::Id.is_in(links.iter().map(|l| l.id)))
                .exec(&*txn)
                .await?;
            contraindication::Entity::delete_many()
                .filter(contraindication::Column::PersonId.eq(person_id))
                .exec(&*txn)
                .await?;
        }
        let row = model.update(&*txn).await?;
        consent_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(person_id),
            at: Set(Utc::now()),
            changed_by: Set(access.principal.subject.clone()),
            channel: Set(change.channel.as_str().to_owned()),
            participation: Set(participation),
            locked_to_org_id: Set(locked_to),
            reminders: Set(reminders),
        }
        .insert(&*txn)
        .await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Consent,
                vec![person_id],
                vec!["Consent".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}
