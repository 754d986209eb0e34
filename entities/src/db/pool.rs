//! The connection pool's settings, shared by the primary and the replica.

use std::time::Duration;

use sea_orm::ConnectOptions;

/// Pool settings shared by the primary and the replica. Acquiring a connection waits at
/// most [`ACQUIRE_TIMEOUT`]: longer than any queue a healthy database builds, short enough
/// that the first requests of an outage do not hang (later ones fail at once, see
/// [`crate::health`]).
pub(super) fn options(url: &str, max_connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    }
    options
}

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
