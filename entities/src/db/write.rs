//! Write transactions: SQLite's in-process writer lock, the record versions of the persons a
//! write touches, and the replica pin of its writer. Independent of [`super::Store`], so the
//! access-log writer (which the store owns) can begin one without a cycle.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::cache::RecordCache;
use crate::replica::Replica;
use policies::Principal;

/// A write transaction, holding SQLite's in-process writer lock until it ends, and
/// remembering the persons it changes so their record versions change when it commits.
pub(crate) struct WriteTxn {
    pub(crate) txn: sea_orm::DatabaseTransaction,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    cache: Option<RecordCache>,
    touched: std::sync::Mutex<Vec<uuid::Uuid>>,
    /// The writer to pin to the primary after commit, when reads may go to a replica.
    pub(super) writer: Option<Writer>,
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

/// Whom a committed write pins to the primary (see [`crate::replica`]).
pub(crate) struct Writer {
    pub(super) replica: Arc<Replica>,
    pub(super) principal: Principal,
    pub(super) primary: DatabaseConnection,
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
