//! Doses, their evaluation, recommendations and contraindications.

mod lookup;
mod mutation;
mod types;

pub(crate) use lookup::dose_by_id;

pub use mutation::DoseMutation;
pub use types::{ContraindicationNode, DoseNode, RecommendationNode};
