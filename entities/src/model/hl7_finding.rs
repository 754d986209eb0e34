use sea_orm::entity::prelude::*;

/// One ERR of an acknowledgement as the data-quality report counts it: severity, HL7 table
/// 0357 code, CDC table 0533 code and the location (`RXA^1^16`), never the value.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hl7_findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub message_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub severity: String,
    pub hl7_code: String,
    pub app_code: Option<String>,
    pub location: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
