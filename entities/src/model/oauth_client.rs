//! A registered OAuth2 client (`oauth_clients`). The role is stored as its claim spelling;
//! [`crate::repo::oauth_clients`] turns rows into typed [`OAuthClient`](crate::repo::oauth_clients::OAuthClient)s.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    /// The client id (`client_id`, and the `sub` of its tokens).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: Option<String>,
    pub role: String,
    pub organization_id: Option<Uuid>,
    /// The most the client may ask for (space-separated); `None`: every right of its role.
    pub scope: Option<String>,
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
