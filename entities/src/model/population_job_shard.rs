use sea_orm::entity::prelude::*;

/// One person-id range of a job: `[lo, hi)`, `None` meaning unbounded. Claimed by one
/// instance at a time under a lease; a lease that runs out lets another instance take it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "population_job_shards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i32,
    pub lo: Option<Uuid>,
    pub hi: Option<Uuid>,
    pub status: String,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub persons: i64,
    pub attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
