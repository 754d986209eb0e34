//! Doses, their evaluation, recommendations and contraindications.

mod mutation;
mod types;

pub use mutation::DoseMutation;
pub use types::{ContraindicationNode, DoseNode, RecommendationNode};
