//! Whether the primary database answers, so requests fail fast while it does not.
//!
//! Without this, every request during an outage would wait out the pool's acquire timeout
//! (the pool keeps retrying refused connections until then) before failing. Once a request
//! has seen the database unavailable, later ones are refused at once, and one probe — a fresh
//! connection outside the pool, every [`PROBE_EVERY`] — finds out when it is back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseConnectionType};

/// How often the probe tries while the database is down: the bound on how long requests keep
/// failing after it is back.
pub(crate) const PROBE_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Default)]
pub(crate) struct Health {
    down: AtomicBool,
    outages: AtomicU64,
}

impl Health {
    pub(crate) fn is_up(&self) -> bool {
        !self.down.load(Ordering::Acquire)
    }

    pub(crate) fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// Marks the database down and starts the probe, unless it is already down.
    pub(crate) fn report_down(self: &Arc<Self>, db: &DatabaseConnection) {
        if self.down.swap(true, Ordering::AcqRel) {
            return;
        }
        self.outages.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("database unavailable; refusing requests until it answers again");
        let health = self.clone();
        let db = db.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                if answers(&db).await {
                    health.down.store(false, Ordering::Release);
                    tracing::info!("database available again");
                    return;
                }
            }
        });
    }
}

/// One round trip on a new connection (PostgreSQL), or through the pool (SQLite, a local
/// file that has no outage to wait out).
async fn answers(db: &DatabaseConnection) -> bool {
    use sea_orm::sqlx::{Connection, PgConnection};
    match &db.inner {
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            let options = db.get_postgres_connection_pool().connect_options();
            let attempt = async {
                let mut conn = PgConnection::connect_with(&options).await.ok()?;
                let ok = conn.ping().await.is_ok();
                let _ = conn.close().await;
                ok.then_some(())
            };
            matches!(
                tokio::time::timeout(Duration::from_secs(2), attempt).await,
                Ok(Some(()))
            )
        }
        _ => db.execute_unprepared("SELECT 1").await.is_ok(),
    }
}
