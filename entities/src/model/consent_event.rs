use sea_orm::entity::prelude::*;

use crate::codes::Participation;

/// One change of a person's consent; the state after the change is stored whole, so history
/// reads need no replay.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "consent_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub at: DateTimeUtc,
    pub changed_by: String,
    pub channel: String,
    pub participation: Participation,
    pub locked_to_org_id: Option<Uuid>,
    pub reminders: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
