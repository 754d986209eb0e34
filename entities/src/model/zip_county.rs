use sea_orm::entity::prelude::*;

/// The county a ZIP code lies in (its main county for the few that cross a line).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "zip_counties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub postal_code: String,
    pub county: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
