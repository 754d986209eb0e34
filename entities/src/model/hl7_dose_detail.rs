use sea_orm::entity::prelude::*;

/// What a VXU's ORDER group said about a dose beyond the `doses` row: the sender and its order
/// id (ORC-3, which later updates and deletes name), whether it was administered or historical
/// (RXA-9), completion status (RXA-20), lot expiry (RXA-16), VFC eligibility (OBX 64994-7) and
/// the VIS documents given (OBX 69764-9 / 29768-9 / 29769-7, as JSON).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hl7_dose_details")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dose_id: Uuid,
    pub person_id: Uuid,
    pub sender_org_id: Option<Uuid>,
    pub filler_order: Option<String>,
    pub historical: bool,
    pub completion_status: String,
    pub lot_expiration: Option<Date>,
    pub vfc_eligibility: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub vis: Option<String>,
    pub control_id: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
