use sea_orm::entity::prelude::*;

use crate::codes::{ContraindicationKind, ImmunityDocumenter};

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
    /// For `IMMUNITY`: who documented it; `None` on rows recorded before it was asked.
    pub documented_by: Option<ImmunityDocumenter>,
    /// For `IMMUNITY` from a history of disease: when the disease occurred.
    pub disease_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
