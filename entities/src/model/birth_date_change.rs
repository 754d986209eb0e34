use sea_orm::entity::prelude::*;

/// One change of a person's birth date, with the old and the new value: the birth date decides
/// whether a guardian may read the record, so changing it is audited like consent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "birth_date_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub at: DateTimeUtc,
    pub changed_by: String,
    pub request_id: String,
    pub old_date: Date,
    pub new_date: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
