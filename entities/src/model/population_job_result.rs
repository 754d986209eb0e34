use sea_orm::entity::prelude::*;

/// One person in a job's output. The key (job, person) makes duplicated output impossible.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "population_job_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub shard: i32,
    pub category: String,
    pub household: String,
    /// The output row as JSON (see `entities::repo::population::ResultRow`).
    pub row: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
