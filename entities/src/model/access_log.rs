use sea_orm::entity::prelude::*;

use crate::codes::{AccessAction, AccessOutcome};

/// An append-only access-log entry. `seq` orders the hash chain.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub subject: String,
    pub role: String,
    pub organization_id: Option<Uuid>,
    pub purpose: Option<String>,
    pub action: AccessAction,
    /// JSON array of person ids (also indexed through `access_log_persons`).
    pub person_ids: String,
    /// JSON array of field paths read or written.
    pub fields: String,
    pub request_id: String,
    pub outcome: AccessOutcome,
    pub reason: Option<String>,
    pub previous_hash: String,
    pub hash: String,
    /// JSON `{"fields": {person id: [field]}, "coSubjects": [person id]}` (see the migration
    /// `m20261203_000001_p14a_access_log_detail`); null on entries written before it.
    pub person_detail: Option<String>,
    /// The caller's `x-request-id`, bounded and sanitized; `request_id` is the server's.
    pub client_request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
