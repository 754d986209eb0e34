//! Opaque IDs: UUIDs on the wire, checked at the edge.

use async_graphql::ID;
use uuid::Uuid;

use crate::ApiError;

/// Parses an `ID` argument, naming the argument in the error.
pub(crate) fn parse(id: &ID, argument: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::BadInput(format!("{argument} `{}` is not a valid ID", id.as_str())))
}

pub(crate) fn to_id(id: Uuid) -> ID {
    ID(id.to_string())
}
