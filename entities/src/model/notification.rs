use sea_orm::entity::prelude::*;

/// One reminder sent to a person (or its outcome): the notification log the frequency cap
/// and bad addresses are read from.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub job_id: Option<Uuid>,
    pub channel: String,
    pub outcome: String,
    /// A digest of the address the letter went to: returned mail marks that address bad,
    /// and a new address is good again.
    pub address_key: Option<String>,
    pub at: DateTimeUtc,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
