//! Applying migrations, one instance at a time.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;

use super::{Backend, Store};
use crate::migration::Migrator;
use crate::StoreError;

/// The advisory lock key that serializes migration runs on one database ("izgraph" in ASCII).
const MIGRATION_LOCK: i64 = 0x0069_7a67_7261_7068;

impl Store {
    /// Applies pending migrations; a no-op on an up-to-date database.
    ///
    /// Runs are serialized, so instances that start together (a rollout, an autoscaler, or
    /// `izgraph migrate` beside a running server) apply each migration once: the others wait,
    /// then find nothing pending. PostgreSQL: an advisory lock held by a connection of the
    /// run's own. SQLite: an exclusive lock on a file beside the database.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if self.backend() != Backend::Postgres {
            let _lock = self.sqlite_migration_lock().await?;
            Migrator::up(&self.db, None).await?;
            return Ok(());
        }
        let options = self.db.get_postgres_connection_pool().connect_options();
        let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with((*options).clone())
            .await
            .map_err(|e| {
                StoreError::from(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
                    e.into(),
                )))
            })?;
        let session = sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
        let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK})");
        session.execute_unprepared(&lock).await?;
        let migrated = Migrator::up(&session, None).await;
        // Closing the session releases the lock whatever happened.
        session.close().await.ok();
        migrated?;
        Ok(())
    }

    /// Blocks until this process holds `<database>-migrate.lock` (released when the file is
    /// dropped). An in-memory database has no other process to wait for.
    async fn sqlite_migration_lock(&self) -> Result<Option<std::fs::File>, StoreError> {
        let db_file = self
            .db
            .get_sqlite_connection_pool()
            .connect_options()
            .get_filename()
            .to_owned();
        if db_file.as_os_str().is_empty() || db_file.as_os_str() == ":memory:" {
            return Ok(None);
        }
        let mut name = db_file.into_os_string();
        name.push("-migrate.lock");
        let locked = tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&name)?;
            file.lock()?;
            Ok::<_, std::io::Error>(file)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("migration lock: {e}")))?
        .map_err(|e| StoreError::Unavailable(format!("migration lock: {e}")))?;
        Ok(Some(locked))
    }

    /// Number of migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        Ok(Migrator::get_pending_migrations(&self.db).await?.len())
    }
}
