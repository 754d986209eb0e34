//! Persons: the record every other type hangs off.

mod mutation;
mod prefetch;
mod query;
mod types;

pub use mutation::PersonMutation;
pub use query::PersonQuery;
pub(crate) use types::organization_by_id;
pub(crate) use types::PersonNode;
