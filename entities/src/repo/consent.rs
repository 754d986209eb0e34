//! Consent: participation, a lock to one provider, reminders, and the history of changes.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::codes::{AccessAction, ConsentChannel, OrganizationKind, Participation};
use crate::model::{consent_event, contraindication, dose, organization, person};
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
    /// minimal demographics needed to honour it: contact data, doses and contraindications
    /// are removed.
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
            dose::Entity::delete_many()
                .filter(dose::Column::PersonId.eq(person_id))
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
