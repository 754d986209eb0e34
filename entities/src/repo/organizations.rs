//! Organizations: the registry's directory of providers, schools, plans and agencies.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::codes::{AccessAction, OrganizationKind};
use crate::model::{organization, organization_facility};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::hl7::FACILITY_ID_CHARS;
use crate::{Access, Store, StoreError};

impl Store {
    pub async fn organization(&self, id: Uuid) -> Result<Option<organization::Model>, StoreError> {
        Ok(organization::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn organizations_by_ids(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<organization::Model>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(organization::Entity::find()
            .filter(organization::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?)
    }

    pub async fn organizations_of_kind(
        &self,
        kind: OrganizationKind,
    ) -> Result<Vec<organization::Model>, StoreError> {
        Ok(organization::Entity::find()
            .filter(organization::Column::Kind.eq(kind))
            .order_by_asc(organization::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn create_organization(
        &self,
        access: &Access,
        name: &str,
        kind: OrganizationKind,
        facility_id: Option<&str>,
    ) -> Result<organization::Model, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "name must be 1 to 200 characters".into(),
            ));
        }
        let facility_id = match facility_id.map(str::trim) {
            None | Some("") => None,
            Some(f)
                if f.chars().count() > FACILITY_ID_CHARS
                    || !f
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
            {
                return Err(StoreError::Invalid(format!(
                    "facilityId must be 1 to {FACILITY_ID_CHARS} letters, digits, `-`, `_` or `.`"
                )))
            }
            Some(f) => Some(f.to_owned()),
        };
        let txn = self.begin_write_for(access).await?;
        if let Some(f) = &facility_id {
            if organization_facility::Entity::find_by_id(f.clone())
                .one(&*txn)
                .await?
                .is_some()
            {
                return Err(StoreError::Conflict(
                    "another organization has this facilityId".into(),
                ));
            }
        }
        let row = organization::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name.to_owned()),
            kind: Set(kind),
            created_at: Set(Utc::now()),
        }
        .insert(&*txn)
        .await?;
        if let Some(f) = facility_id {
            organization_facility::ActiveModel {
                facility_id: Set(f),
                organization_id: Set(row.id),
            }
            .insert(&*txn)
            .await?;
        }
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![],
                vec!["Organization.create".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}
