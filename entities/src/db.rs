//! Connecting to the database and running migrations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::cache::{CacheStatus, RecordCache};
use crate::migration::Migrator;
use crate::repo::log_writer::LogWriter;
use crate::{CodeSet, StoreError};

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Connections of the pool: open (idle or in use) and the most it may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// The storage handle: a connection pool plus the reference data every write needs.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) codes: Arc<CodeSet>,
    pub(crate) log_writer: LogWriter,
    /// SQLite allows one writer at a time and fails (rather than waits) when a reading
    /// transaction tries to become a writer; serializing this process's write transactions
    /// up front avoids that. `None` on PostgreSQL, whose row locks do the job.
    pub(crate) sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Statements executed through this store: what tests and benchmarks count to prove that
    /// a query's round trips do not grow with its result size.
    statements: Arc<AtomicU64>,
    /// Person records, behind the repositories (see [`crate::cache`]).
    pub(crate) cache: RecordCache,
}

/// A write transaction, holding SQLite's in-process writer lock until it ends, and
/// remembering the persons it changes so their cached records are retired when it commits.
pub(crate) struct WriteTxn {
    pub(crate) txn: sea_orm::DatabaseTransaction,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    cache: Option<RecordCache>,
    touched: std::sync::Mutex<Vec<uuid::Uuid>>,
}

impl std::ops::Deref for WriteTxn {
    type Target = sea_orm::DatabaseTransaction;

    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}

impl WriteTxn {
    /// Notes that this transaction changes `person`'s record.
    pub(crate) fn touch(&self, person: uuid::Uuid) {
        if let Ok(mut t) = self.touched.lock() {
            t.push(person);
        }
    }

    /// Commits, then retires the cached records of every person touched: the caller
    /// acknowledges the write only after this returns, so no later read sees the old record.
    pub(crate) async fn commit(self) -> Result<(), sea_orm::DbErr> {
        let touched = self.touched.lock().map(|t| t.clone()).unwrap_or_default();
        self.txn.commit().await?;
        if let Some(cache) = &self.cache {
            cache.invalidate(&touched).await;
        }
        Ok(())
    }
}

/// Begins a write transaction, first taking the SQLite writer lock when there is one.
pub(crate) async fn begin_write(
    db: &DatabaseConnection,
    lock: Option<&Arc<tokio::sync::Mutex<()>>>,
    cache: Option<&RecordCache>,
) -> Result<WriteTxn, sea_orm::DbErr> {
    let guard = match lock {
        Some(l) => Some(l.clone().lock_owned().await),
        None => None,
    };
    Ok(WriteTxn {
        txn: sea_orm::TransactionTrait::begin(db).await?,
        _guard: guard,
        cache: cache.cloned(),
        touched: std::sync::Mutex::new(Vec::new()),
    })
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
        let mut db = Database::connect(options).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let codes = CodeSet::embedded().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sqlite_writer = (db.get_database_backend() == DbBackend::Sqlite)
            .then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Store {
            log_writer: LogWriter::spawn(db.clone(), sqlite_writer.clone()),
            db,
            codes: Arc::new(codes),
            sqlite_writer,
            statements,
            cache: RecordCache::disabled(),
        })
    }

    /// Puts `cache` in front of the person repositories.
    pub fn with_cache(mut self, cache: RecordCache) -> Store {
        self.cache = cache;
        self
    }

    /// The cache's counters and health.
    pub fn cache_status(&self) -> CacheStatus {
        self.cache.status()
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

    /// Begins a write transaction (see [`WriteTxn`]).
    pub(crate) async fn begin_write(&self) -> Result<WriteTxn, sea_orm::DbErr> {
        begin_write(&self.db, self.sqlite_writer.as_ref(), Some(&self.cache)).await
    }

    pub(crate) fn backend_of(db: &impl ConnectionTrait) -> Backend {
        match db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}
