//! Connecting to the database and running migrations.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;
use crate::{CodeSet, StoreError};

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The storage handle: a connection pool plus the reference data every write needs.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) codes: Arc<CodeSet>,
}

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite://…`). SQLite files are created if missing
    /// and run in WAL mode so readers never wait for the single writer.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        if url.starts_with("sqlite:") {
            options.map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
            });
        }
        let db = Database::connect(options).await?;
        let codes = CodeSet::embedded().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Store {
            db,
            codes: Arc::new(codes),
        })
    }

    /// Applies pending migrations; a no-op on an up-to-date database.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Number of migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        Ok(Migrator::get_pending_migrations(&self.db).await?.len())
    }

    /// A cheap round trip, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    pub fn codes(&self) -> &CodeSet {
        &self.codes
    }

    /// The raw connection, for tests and tools that inspect the database directly.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database has any person yet (decides demo seeding on first start).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        use sea_orm::{EntityTrait, PaginatorTrait};
        Ok(crate::model::person::Entity::find().count(&self.db).await? == 0)
    }

    pub(crate) fn backend_of(db: &impl ConnectionTrait) -> Backend {
        match db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}
