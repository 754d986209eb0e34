//! The storage handle, [`Store`]: connecting, the read replica, the cache in front, and the
//! reference data every write needs. Its other rooms: the pool's settings (`pool`),
//! migrations and their lock (`migrate`), write transactions (`write`), and the counters
//! metrics read (`stats`).

mod migrate;
mod pool;
mod stats;
pub(crate) mod write;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::cache::{CacheStatus, RecordCache};
use crate::health::Health;
use crate::replica::{ReadTarget, Replica};
use crate::repo::log_writer::LogWriter;
use crate::Access;
use crate::{CodeSet, StoreError};

pub use stats::PoolStats;
pub(crate) use write::{begin_write, WriteTxn, Writer};

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
    pub(crate) log_writer: LogWriter,
    /// SQLite allows one writer at a time and fails (rather than waits) when a reading
    /// transaction tries to become a writer; serializing this process's write transactions
    /// up front avoids that. `None` on PostgreSQL, whose row locks do the job.
    pub(crate) sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Statements executed through this store: what tests and benchmarks count to prove that
    /// a query's round trips do not grow with its result size.
    pub(super) statements: Arc<AtomicU64>,
    /// Person records, behind the repositories (see [`crate::cache`]).
    pub(crate) cache: RecordCache,
    /// Where scans run when a read replica is configured (see [`crate::replica`]).
    pub(crate) replica: Option<Arc<Replica>>,
    pub(super) health: Arc<Health>,
    /// Seals the cursors this store hands out (see [`crate::repo::CursorKey`]).
    pub(crate) cursor_key: crate::repo::CursorKey,
    /// The patient-matching engine submissions are resolved with (`repo::resolve`).
    pub(crate) matcher: Arc<identity::Matcher>,
    /// The key SSNs are hashed under; without one, submitted SSNs are dropped.
    pub(crate) ssn_key: Option<identity::SsnKey>,
}

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite://…`). SQLite files are created if missing
    /// and run in WAL mode so readers never wait for the single writer.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let mut db = Database::connect(pool::options(url, max_connections)).await?;
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
        let db = Database::connect(pool::options(url, max_connections)).await?;
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

    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    pub fn codes(&self) -> &CodeSet {
        &self.codes
    }

    /// The raw connection, for tests and benchmarks that inspect the database directly
    /// (feature `test-support`): not the service's API, whose queries are the repositories'.
    #[cfg(feature = "test-support")]
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
