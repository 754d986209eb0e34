use sea_orm::entity::prelude::*;

/// Index of access-log entries by person, so "who looked at this record" is a range scan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log_persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// Named by the entry, which is not about this person's record (see the migration
    /// `m20261203_000001_p14a_access_log_detail`).
    pub co_subject: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
