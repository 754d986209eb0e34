use sea_orm::entity::prelude::*;

use crate::codes::ContraindicationKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "contraindications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub kind: ContraindicationKind,
    pub vaccine_group: Option<String>,
    pub reason: Option<String>,
    pub recorded_at: DateTimeUtc,
    pub expires_on: Option<Date>,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
