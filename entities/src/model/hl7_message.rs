use sea_orm::entity::prelude::*;

/// One HL7 message received from a sender, with its acknowledgement code and counts of errors
/// and warnings: the denominator of the data-quality report. No content of the message.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hl7_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub kind: String,
    pub ack_code: String,
    pub errors: i32,
    pub warnings: i32,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
