//! Doses, their evaluation, recommendations and contraindications.

mod lookup;
mod mutation;
mod node;
mod types;

pub(crate) use lookup::dose_by_id;

pub use mutation::DoseMutation;
pub use node::DoseNode;
pub use types::{ContraindicationNode, RecommendationNode};
