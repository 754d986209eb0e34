//! Connecting to the database and running migrations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::cache::{CacheStatus, RecordCache};
use crate::health::Health;
use crate::migration::Migrator;
use crate::replica::{ReadTarget, Replica};
use crate::repo::log_writer::LogWriter;
use crate::Access;
use crate::{CodeSet, StoreError};
use policies::Principal;

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
    /// Where scans run when a read replica is configured (see [`crate::replica`]).
    pub(crate) replica: Option<Arc<Replica>>,
    health: Arc<Health>,
    /// Seals the cursors this store hands out (see [`crate::repo::CursorKey`]).
    pub(crate) cursor_key: crate::repo::CursorKey,
    /// The patient-matching engine submissions are resolved with (`repo::resolve`).
    pub(crate) matcher: Arc<identity::Matcher>,
    /// The key SSNs are hashed under; without one, submitted SSNs are dropped.
    pub(crate) ssn_key: Option<identity::SsnKey>,
}

/// A write transaction, holding SQLite's in-process writer lock until it ends, and
/// remembering the persons it changes so their record versions change when it commits.
pub(crate) struct WriteTxn {
    pub(crate) txn: sea_orm::DatabaseTransaction,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    cache: Option<RecordCache>,
    touched: std::sync::Mutex<Vec<uuid::Uuid>>,
    /// The writer to pin to the primary after commit, when reads may go to a replica.
    writer: Option<Writer>,
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

    /// Changes the record version of every person touched, commits, then pins the writer to
    /// the primary when reads may go to a replica.
    ///
    /// The versions change in the write's own transaction, so once it commits no instance can
    /// be served a cached copy from before it (see [`crate::cache`]), whatever happens next.
    /// And the commit runs on a task of its own: a caller dropped mid-commit (a client gone,
    /// a proxy's timeout) does not stop it half-way, and the rest of the work still runs.
    pub(crate) async fn commit(self) -> Result<(), sea_orm::DbErr> {
        tokio::spawn(self.finish())
            .await
            .map_err(|e| sea_orm::DbErr::Custom(format!("write task ended abnormally: {e}")))?
    }

    async fn finish(self) -> Result<(), sea_orm::DbErr> {
        let mut touched = self.touched.lock().map(|t| t.clone()).unwrap_or_default();
        touched.sort_unstable();
        touched.dedup();
        crate::cache::bump_versions(&self.txn, &touched).await?;
        self.txn.commit().await?;
        if let Some(cache) = &self.cache {
            cache.forget(&touched);
        }
        if let Some(w) = &self.writer {
            // The write is committed: when its position cannot be read, the writer is pinned
            // to the primary for the pin's whole lifetime rather than told it failed.
            let lsn = crate::replica::write_position(&w.primary)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "WAL position unknown; writer pinned to the primary");
                    u64::MAX
                });
            let cache = self.cache.clone().unwrap_or_else(RecordCache::disabled);
            w.replica.pin(&w.principal, lsn, &cache).await;
        }
        Ok(())
    }
}

/// Pool settings shared by the primary and the replica. Acquiring a connection waits at
/// most [`ACQUIRE_TIMEOUT`]: longer than any queue a healthy database builds, short enough
/// that the first requests of an outage do not hang (later ones fail at once, see
/// [`crate::health`]).
fn pool_options(url: &str, max_connections: u32) -> ConnectOptions {
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

/// The advisory lock key that serializes migration runs on one database ("izgraph" in ASCII).
const MIGRATION_LOCK: i64 = 0x0069_7a67_7261_7068;

/// Whom a committed write pins to the primary (see [`crate::replica`]).
pub(crate) struct Writer {
    replica: Arc<Replica>,
    principal: Principal,
    primary: DatabaseConnection,
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
        writer: None,
    })
}

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite://…`). SQLite files are created if missing
    /// and run in WAL mode so readers never wait for the single writer.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let mut db = Database::connect(pool_options(url, max_connections)).await?;
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
            replica: None,
            health: Arc::default(),
            cursor_key: crate::repo::CursorKey::random(),
            matcher: Arc::new(
                identity::Matcher::new(identity::MatchConfig::default())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ),
            ssn_key: None,
        })
    }

    /// Seals cursors with `key` (shared by every instance serving the registry) instead of the
    /// random key a store starts with.
    pub fn with_cursor_key(mut self, key: crate::repo::CursorKey) -> Store {
        self.cursor_key = key;
        self
    }

    /// Whether requests should be tried: `false` from the moment one found the database
    /// unavailable until a probe finds it answering again.
    pub fn is_available(&self) -> bool {
        self.health.is_up()
    }

    /// Reports that a request found the database unavailable (see [`crate::health`]).
    pub fn report_unavailable(&self) {
        self.health.report_down(&self.db);
    }

    /// Times the database was found unavailable since start.
    pub fn database_outages(&self) -> u64 {
        self.health.outages()
    }

    /// Sends scans to a read replica at `url` (PostgreSQL only), keeping each principal's
    /// reads after its own writes on the primary until the replica has them.
    ///
    /// Refused unless `url` is a streaming standby of this primary (see [`crate::replica`]);
    /// the replica is left out of use while it is more than `max_lag` behind.
    pub async fn with_read_replica(
        mut self,
        url: &str,
        max_connections: u32,
        max_lag: Duration,
    ) -> Result<Store, StoreError> {
        if self.backend() != Backend::Postgres || !url.starts_with("postgres") {
            return Err(StoreError::Invalid(
                "a read replica needs PostgreSQL for both the primary and the replica".into(),
            ));
        }
        let db = Database::connect(pool_options(url, max_connections)).await?;
        self.replica = Some(Replica::new(db, self.db.clone(), max_lag).await?);
        Ok(self)
    }

    /// The connection `access`'s scans run on: the replica unless its principal wrote
    /// something the replica has not replayed yet.
    ///
    /// A replica may lag, so what it answers is a list of candidates: the caller re-applies
    /// the row scope on the primary ([`Store::admitted_on_primary`]) before serving or counting
    /// anything when the target is [`ReadTarget::Replica`].
    pub(crate) async fn reader(&self, access: &Access) -> (&DatabaseConnection, ReadTarget) {
        match &self.replica {
            Some(r) => match r.target(&access.principal, &self.cache).await {
                ReadTarget::Replica => (&r.db, ReadTarget::Replica),
                ReadTarget::Primary => (&self.db, ReadTarget::Primary),
            },
            None => (&self.db, ReadTarget::Primary),
        }
    }

    /// Those of `ids` that `access`'s row scope admits (locked records left out) by the
    /// primary's facts: consent, locks, participation, guardianship, enrollment and membership
    /// are decided here, never on a replica that may not have replayed their last change.
    /// One indexed statement per 1,000 ids.
    pub(crate) async fn admitted_on_primary(
        &self,
        access: &Access,
        ids: &[uuid::Uuid],
    ) -> Result<std::collections::HashSet<uuid::Uuid>, StoreError> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        let mut admitted = std::collections::HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let found: Vec<uuid::Uuid> = crate::model::person::Entity::find()
                .select_only()
                .column(crate::model::person::Column::Id)
                .filter(crate::model::person::Column::Id.is_in(chunk.iter().copied()))
                .filter(crate::scope_sql::person_condition(
                    &access.scope,
                    crate::scope_sql::Locks::Enforce,
                ))
                .into_tuple()
                .all(&self.db)
                .await?;
            admitted.extend(found);
        }
        Ok(admitted)
    }

    /// Where `access`'s next scan would run (for tests and diagnostics).
    pub async fn read_target(&self, access: &Access) -> ReadTarget {
        match &self.replica {
            Some(r) => r.target(&access.principal, &self.cache).await,
            None => ReadTarget::Primary,
        }
    }

    /// The replica's pool, when one is configured.
    pub fn replica_connection(&self) -> Option<&DatabaseConnection> {
        self.replica.as_ref().map(|r| &r.db)
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

    /// Begins `access`'s write transaction: once committed, its principal reads from the
    /// primary until a replica has replayed the write.
    pub(crate) async fn begin_write_for(
        &self,
        access: &Access,
    ) -> Result<WriteTxn, sea_orm::DbErr> {
        let mut txn = self.begin_write().await?;
        txn.writer = self.replica.as_ref().map(|replica| Writer {
            replica: replica.clone(),
            principal: access.principal.clone(),
            primary: self.db.clone(),
        });
        Ok(txn)
    }

    pub(crate) fn backend_of(db: &impl ConnectionTrait) -> Backend {
        match db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}
