use uuid::Uuid;

/// What can go wrong in the storage layer. The GraphQL layer maps each variant to one error
/// code; `Database` is the only one a client never sees the details of.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: Uuid },
    #[error("the record is locked to another provider")]
    RecordLocked,
    #[error("the caller may not {0}")]
    Forbidden(&'static str),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn not_found(entity: &'static str, id: Uuid) -> Self {
        StoreError::NotFound { entity, id }
    }
}
