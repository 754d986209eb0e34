use sea_orm::entity::prelude::*;

/// A refusal reported in a VXU (RXA-20 `RE`, reason in RXA-18): no dose was given.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vaccine_refusals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub cvx: String,
    pub refused_on: Date,
    pub reason: Option<String>,
    pub reported_by_org_id: Option<Uuid>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
