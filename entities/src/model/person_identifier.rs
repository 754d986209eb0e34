use sea_orm::entity::prelude::*;

use crate::codes::IdentifierKind;

/// An identifier another system gave the person: an MRN per assigning authority, a Medicaid
/// id, an SSN's keyed hash. `authority` is as submitted (an HL7 assigning authority, an
/// organization id); `reported_by_org_id` is who sent it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "person_identifiers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub kind: IdentifierKind,
    pub authority: String,
    pub value: String,
    pub reported_by_org_id: Option<Uuid>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
