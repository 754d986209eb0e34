use sea_orm::entity::prelude::*;

/// A population job (reminder/recall, outbreak at-risk list, coverage, lot recall): what was
/// asked (`params`), what the policy granted when it was asked (`grant`), and its progress.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "population_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub params: String,
    pub grant: String,
    pub owner_subject: String,
    pub owner_role: String,
    pub owner_org_id: Option<Uuid>,
    pub as_of: Date,
    /// Persons in the shards' id ranges (the work to do, before any filter).
    pub total: i64,
    /// Persons of finished shards.
    pub done: i64,
    pub shards_total: i32,
    pub shards_done: i32,
    /// Output rows written.
    pub results: i64,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
