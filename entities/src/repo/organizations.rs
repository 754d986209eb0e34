//! Organizations: the registry's directory of providers, schools, plans and agencies.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::codes::{AccessAction, OrganizationKind};
use crate::model::organization;
use crate::repo::access_log::{append, NewEntry};
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
    ) -> Result<organization::Model, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "name must be 1 to 200 characters".into(),
            ));
        }
        let txn = self.begin_write_for(access).await?;
        let row = organization::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name.to_owned()),
            kind: Set(kind),
            created_at: Set(Utc::now()),
        }
        .insert(&*txn)
        .await?;
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
