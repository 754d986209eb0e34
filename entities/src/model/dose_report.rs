use sea_orm::entity::prelude::*;

/// What a `doses` row alone does not say: a later report merged into the dose as its duplicate
/// (kind `MERGED`, with that report's provenance and code as reported), or a data-quality flag
/// (kind `SHARES_ANTIGENS`: given the same day as `related_dose_id`, which shares only some of
/// its antigens; both are kept so that no reported antigen is lost).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "dose_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub dose_id: Uuid,
    pub person_id: Uuid,
    pub kind: String,
    pub cvx: String,
    pub related_dose_id: Option<Uuid>,
    pub reported_by_org_id: Option<Uuid>,
    pub administered_by_org_id: Option<Uuid>,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
    pub request_id: String,
}

/// `kind` of a report merged into an existing dose.
pub const MERGED: &str = "MERGED";
/// `kind` of a data-quality flag: same day, some antigens shared.
pub const SHARES_ANTIGENS: &str = "SHARES_ANTIGENS";

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
