//! Health-plan memberships.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::codes::{AccessAction, OrganizationKind};
use crate::model::{membership, organization};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::write_guard::person_for_write;
use crate::{Access, Store, StoreError};

impl Store {
    pub async fn memberships_for(
        &self,
        access: &Access,
        person_ids: &[Uuid],
    ) -> Result<Vec<membership::Model>, StoreError> {
        self.relation_of(access, person_ids, |r| &r.memberships)
            .await
    }

    /// Records a plan membership; adding an existing one returns it unchanged.
    pub async fn add_membership(
        &self,
        access: &Access,
        person_id: Uuid,
        organization_id: Uuid,
    ) -> Result<membership::Model, StoreError> {
        let txn = self.begin_write_for(access).await?;
        let org = organization::Entity::find_by_id(organization_id)
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::not_found("organization", organization_id))?;
        if org.kind != OrganizationKind::HealthPlan {
            return Err(StoreError::Invalid(
                "memberships are at a HEALTH_PLAN organization".into(),
            ));
        }
        person_for_write(&txn, access, person_id).await?;
        let existing = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(person_id))
            .filter(membership::Column::OrganizationId.eq(organization_id))
            .one(&*txn)
            .await?;
        let row = match existing {
            Some(m) => m,
            None => {
                membership::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    person_id: Set(person_id),
                    organization_id: Set(organization_id),
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
                vec!["Membership".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}
