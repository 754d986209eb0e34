use sea_orm::entity::prelude::*;

/// `guardian_id` is the guardian of `person_id`. A link is *reported* (by a provider, an HL7
/// NK1 segment, a school) until registry staff or a birth record *verify* it; only a verified
/// link gives the guardian access (`shared/spec/access-policy.md`, Guardian relationships).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "guardian_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub guardian_id: Uuid,
    pub relationship: String,
    pub created_at: DateTimeUtc,
    /// When the link was verified; `None`: reported only.
    #[serde(default)]
    pub verified_at: Option<DateTimeUtc>,
    /// Who verified it (a registry staff subject, or `birth-record`).
    #[serde(default)]
    pub verified_by: Option<String>,
}

impl Model {
    /// Whether this link makes its guardian a `guardian` of the person: verified links only.
    pub fn grants_access(&self) -> bool {
        self.verified_at.is_some()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
