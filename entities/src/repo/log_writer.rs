//! The single access-log writer: group commit for read entries.
//!
//! Every request that read person data must have its entry durable before its response
//! leaves, but one transaction per read would make the log the bottleneck. Requests hand their
//! entries to this task and wait; it commits whatever has queued up in one transaction and
//! acknowledges them all, so under load a hundred reads cost one round trip.

use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use crate::repo::access_log::{append_batch, LogMeta, NewEntry};
use crate::StoreError;

/// Most entries one commit takes; bounds a transaction's size under a burst.
const MAX_BATCH: usize = 256;

/// Why an entry was not committed, kept cloneable so one answer can go to a whole batch.
#[derive(Debug, Clone)]
enum Failure {
    /// The database could not be reached: the caller's to retry.
    Unavailable(String),
    /// The database refused the entry itself.
    Refused(String),
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Failure {
        match err {
            StoreError::Unavailable(m) => Failure::Unavailable(m),
            other => Failure::Refused(other.to_string()),
        }
    }
}

type Ack = oneshot::Sender<Result<(), Failure>>;

/// A handle to the writer task; cloning it shares the one writer.
#[derive(Debug, Clone)]
pub(crate) struct LogWriter {
    tx: mpsc::Sender<(LogMeta, NewEntry, Ack)>,
}

impl LogWriter {
    /// Starts the writer on the current runtime.
    pub(crate) fn spawn(db: DatabaseConnection, sqlite_writer: Option<SqliteWriter>) -> LogWriter {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, sqlite_writer, rx));
        LogWriter { tx }
    }

    /// Queues an entry and waits until it is committed.
    pub(crate) async fn append(&self, meta: LogMeta, entry: NewEntry) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((meta, entry, ack))
            .await
            .map_err(|_| StoreError::Unavailable("the access-log writer has stopped".into()))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Failure::Unavailable(message))) => Err(StoreError::Unavailable(message)),
            Ok(Err(Failure::Refused(message))) => {
                Err(StoreError::Database(sea_orm::DbErr::Custom(message)))
            }
            Err(_) => Err(StoreError::Unavailable(
                "the access-log writer has stopped".into(),
            )),
        }
    }
}

type SqliteWriter = std::sync::Arc<tokio::sync::Mutex<()>>;

async fn run(
    db: DatabaseConnection,
    sqlite_writer: Option<SqliteWriter>,
    mut rx: mpsc::Receiver<(LogMeta, NewEntry, Ack)>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let (items, acks): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|(meta, entry, ack)| ((meta, entry), ack))
            .unzip();
        let result = commit(&db, sqlite_writer.as_ref(), &items).await;
        match result {
            Err(Failure::Refused(message)) if items.len() > 1 => {
                // One entry the database refuses must not fail the requests it was batched
                // with: each is committed alone, and only the refused ones fail.
                tracing::warn!(error = %message, "access log batch refused; committing entries one by one");
                for (item, ack) in items.into_iter().zip(acks) {
                    let alone =
                        commit(&db, sqlite_writer.as_ref(), std::slice::from_ref(&item)).await;
                    report(&alone);
                    let _ = ack.send(alone);
                }
            }
            result => {
                report(&result);
                for ack in acks {
                    // A requester that gave up (client gone) no longer needs its answer.
                    let _ = ack.send(result.clone());
                }
            }
        }
    }
}

fn report(result: &Result<(), Failure>) {
    if let Err(failure) = result {
        tracing::error!(?failure, "access log commit failed");
    }
}

async fn commit(
    db: &DatabaseConnection,
    sqlite_writer: Option<&SqliteWriter>,
    items: &[(LogMeta, NewEntry)],
) -> Result<(), Failure> {
    let txn = crate::db::write::begin_write(db, sqlite_writer, None)
        .await
        .map_err(StoreError::from)?;
    append_batch(&*txn, items).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(())
}
