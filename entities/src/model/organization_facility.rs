use sea_orm::entity::prelude::*;

/// An organization's facility identifier (a state-assigned provider id or VFC PIN): what HL7
/// messages name it by (MSH-4.1, RXA-11.4). One per organization, unique.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_facilities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub facility_id: String,
    pub organization_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
