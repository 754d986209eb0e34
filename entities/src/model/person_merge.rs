use sea_orm::entity::prelude::*;

/// A merge of `duplicate_id` into `survivor_id`. `moved` (JSON) lists what the merge changed,
/// so that an unmerge puts back exactly that.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "person_merges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub survivor_id: Uuid,
    pub duplicate_id: Uuid,
    pub merged_at: DateTimeUtc,
    pub merged_by: String,
    pub request_id: String,
    #[sea_orm(column_type = "Text")]
    pub moved: String,
    pub unmerged_at: Option<DateTimeUtc>,
    pub unmerged_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
