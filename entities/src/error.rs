use uuid::Uuid;

/// What can go wrong in the storage layer. The GraphQL layer maps each variant to one error
/// code; `Database` is the only one a client never sees the details of.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[source] sea_orm::DbErr),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: Uuid },
    #[error("the record is locked to another provider")]
    RecordLocked,
    #[error("the caller may not {0}")]
    Forbidden(&'static str),
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A write lost a race for a unique row (two requests creating the same thing at once):
    /// retrying sees the winner's row.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A database that cannot be reached (down, restarting, refusing connections, out of
/// connections) is the caller's to retry, not a fault in the request: it becomes
/// [`StoreError::Unavailable`] here, once, so every layer above sees one kind.
/// A unique constraint the statement broke is [`StoreError::Conflict`].
impl From<sea_orm::DbErr> for StoreError {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unavailable(&err) {
            StoreError::Unavailable(err.to_string())
        } else if matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ) {
            // The constraint's text names tables and values: logged, never sent.
            tracing::info!(error = %err, "unique constraint conflict");
            StoreError::Conflict("a concurrent write created the same record; try again".into())
        } else {
            StoreError::Database(err)
        }
    }
}

fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

fn sqlx_unavailable(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(_)
        | Error::Tls(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::Protocol(_) => true,
        // SQLSTATE class 08 (connection exception), 57P01–57P03 (the server shutting down or
        // starting up), 53300 (too many connections).
        Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl StoreError {
    pub(crate) fn not_found(entity: &'static str, id: Uuid) -> Self {
        StoreError::NotFound { entity, id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;

    #[tokio::test]
    async fn a_broken_unique_constraint_is_a_conflict_and_a_broken_statement_is_not() {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        db.execute_unprepared("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .await
            .expect("create");
        db.execute_unprepared("INSERT INTO t VALUES ('a')")
            .await
            .expect("first insert");
        let twice = db
            .execute_unprepared("INSERT INTO t VALUES ('a')")
            .await
            .expect_err("second insert");
        assert!(matches!(StoreError::from(twice), StoreError::Conflict(_)));
        let broken = db
            .execute_unprepared("SELECT * FROM missing")
            .await
            .expect_err("no such table");
        let err = StoreError::from(broken);
        assert!(matches!(err, StoreError::Database(_)));
        assert!(
            std::error::Error::source(&err).is_some(),
            "the cause is kept"
        );
    }
}
