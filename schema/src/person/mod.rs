//! Persons: the record every other type hangs off.

mod mutation;
mod node;
mod prefetch;
mod query;
mod types;

pub use mutation::PersonMutation;
pub(crate) use node::PersonNode;
pub(crate) use prefetch::prefetch_references;
pub use query::PersonQuery;
pub(crate) use query::{person_by_id, person_reference};
pub(crate) use types::organization_by_id;
pub(crate) use types::PersonInput;
