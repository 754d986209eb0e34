//! What the store counts, for metrics, tests and benchmarks.

use std::sync::atomic::Ordering;

use super::Store;
use crate::StoreError;

/// Connections of the pool: open (idle or in use) and the most it may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// Statements executed so far (all connections of this store).
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The connection pool's current use, for metrics.
    pub fn pool_stats(&self) -> PoolStats {
        use sea_orm::DatabaseConnectionType as T;
        // The variant is matched first, so the pool getters (which panic on the wrong
        // backend) are only called on their own.
        let (size, idle, max) = match &self.db.inner {
            T::SqlxPostgresPoolConnection(_) => {
                let pool = self.db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            T::SqlxSqlitePoolConnection(_) => {
                let pool = self.db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        PoolStats {
            open: size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }

    /// A cheap round trip, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }
}
