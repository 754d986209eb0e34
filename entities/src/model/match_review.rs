use sea_orm::entity::prelude::*;

use crate::codes::{ReviewState, SubmissionSource};

/// A pair the matching engine could not decide: `person_id` (created from a submission) may be
/// `candidate_id`. Registry staff merge the pair or dismiss it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "match_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub candidate_id: Uuid,
    /// The engine's score in bits.
    pub score: f64,
    pub state: ReviewState,
    pub source: SubmissionSource,
    /// The submitting organization, when there was one.
    pub organization_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub request_id: String,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
