use sea_orm::entity::prelude::*;

/// A CVX code counts toward each of its vaccine groups (MMRV: MMR and Varicella).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vaccine_groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub cvx: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub vaccine_group: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
