use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "doses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub cvx: String,
    pub date_given: Date,
    pub mvx: Option<String>,
    pub lot_number: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub administered_by_org_id: Option<Uuid>,
    pub reported_by_org_id: Option<Uuid>,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
