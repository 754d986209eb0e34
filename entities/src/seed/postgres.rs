//! Loading a seed into PostgreSQL: one transaction, binary `COPY` per table and batch, rows
//! generated on a blocking thread while the previous batch streams.
//!
//! One transaction makes a seed all or nothing (so "the first person exists" means "this seed
//! is loaded") and lets indexes and foreign keys be set aside safely on an empty database
//! (see [`super::deferred`]). It commits with `synchronous_commit = off`: a seed lost to a
//! crash in the instant after its commit is simply run again.

use std::time::{Duration, Instant};

use sea_orm::sqlx::{self, Acquire as _, Executor as _, PgConnection, PgPool};
use uuid::Uuid;

use super::copy::EncodedBatch;
use super::deferred;
use super::generate::Families;
use crate::StoreError;

/// Families per batch: large enough that per-statement costs vanish, small enough that the
/// generator stays only a couple of batches ahead of the server.
const FAMILIES_PER_BATCH: u64 = 2_500;
/// Batches generated ahead of the one being loaded.
const BATCHES_AHEAD: usize = 2;

/// Rows added by a load.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Loaded {
    pub persons: u64,
    pub doses: u64,
    /// Time spent in each table's `COPY`s, in load order: the profile of the load.
    copying: [Duration; 6],
}

fn db(e: sqlx::Error) -> StoreError {
    StoreError::from(sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(e),
    )))
}

/// Loads `families` unless its first person is already stored (a loaded seed is loaded
/// whole: `COPY` cannot skip rows that exist); `progress` gets the persons loaded so far.
pub(crate) async fn load(
    pool: &PgPool,
    families: Families,
    progress: impl Fn(u64),
) -> Result<Loaded, StoreError> {
    let started = Instant::now();
    let first_person = families
        .clone()
        .next_batch(1)
        .and_then(|b| b.persons.first().map(|p| p.id));
    let Some(first_person) = first_person else {
        return Ok(Loaded::default());
    };
    let mut conn = pool.acquire().await.map_err(db)?;
    let mut txn = conn.begin().await.map_err(db)?;
    txn.execute("SET LOCAL synchronous_commit = off")
        .await
        .map_err(db)?;
    let aside = deferred::set_aside(&mut txn).await.map_err(db)?;
    tracing::debug!(
        elapsed = ?started.elapsed(),
        set_aside = aside.as_ref().map_or(0, deferred::SetAside::len),
        "seed transaction ready"
    );
    if aside.is_none() && already_loaded(&mut txn, first_person).await? {
        return Ok(Loaded::default());
    }
    let loaded = stream(&mut txn, families, progress).await?;
    tracing::debug!(
        elapsed = ?started.elapsed(),
        per_table = ?deferred::SEEDED_TABLES.iter().zip(loaded.copying).collect::<Vec<_>>(),
        "rows copied"
    );
    if let Some(aside) = aside {
        aside.restore(&mut txn).await.map_err(db)?;
        tracing::debug!(elapsed = ?started.elapsed(), "indexes and foreign keys restored");
    }
    txn.commit().await.map_err(db)?;
    tracing::debug!(elapsed = ?started.elapsed(), "seed committed");
    // Without statistics the planner takes the freshly loaded tables for empty and nests
    // loops over them (a 3,000-student roster took 1.8 s instead of 20 ms) until autovacuum
    // gets to them: a bulk load is followed by its ANALYZE, as pg_restore's users are told.
    let analyze = format!("ANALYZE {}", deferred::SEEDED_TABLES.join(", "));
    conn.execute(sqlx::AssertSqlSafe(analyze))
        .await
        .map_err(db)?;
    tracing::debug!(elapsed = ?started.elapsed(), "seeded tables analyzed");
    Ok(loaded)
}

async fn already_loaded(conn: &mut PgConnection, person: Uuid) -> Result<bool, StoreError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM persons WHERE id = $1)")
        .bind(person)
        .fetch_one(conn)
        .await
        .map_err(db)
}

/// Generates and encodes batches on a blocking thread and copies each as it arrives.
async fn stream(
    conn: &mut PgConnection,
    mut families: Families,
    progress: impl Fn(u64),
) -> Result<Loaded, StoreError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<EncodedBatch>(BATCHES_AHEAD);
    let generator = tokio::task::spawn_blocking(move || {
        while let Some(batch) = families.next_batch(FAMILIES_PER_BATCH) {
            if tx.blocking_send(EncodedBatch::new(&batch)).is_err() {
                // The loader stopped (an error): nothing more is wanted.
                return;
            }
        }
    });
    let mut loaded = Loaded::default();
    let copied = async {
        while let Some(batch) = rx.recv().await {
            let [persons, _, doses, _, _, _] = copy_batch(conn, batch, &mut loaded.copying).await?;
            loaded.persons += persons;
            loaded.doses += doses;
            progress(loaded.persons);
        }
        Ok::<_, StoreError>(())
    }
    .await;
    drop(rx);
    generator
        .await
        .map_err(|e| StoreError::Unavailable(format!("seed generator: {e}")))?;
    copied.map(|()| loaded)
}

/// Copies one batch, table by table; returns the rows each `COPY` added.
async fn copy_batch(
    conn: &mut PgConnection,
    batch: EncodedBatch,
    copying: &mut [Duration; 6],
) -> Result<[u64; 6], StoreError> {
    let mut added = [0; 6];
    for ((n, spent), (statement, payload, rows)) in
        added.iter_mut().zip(copying.iter_mut()).zip(batch.tables)
    {
        if rows == 0 {
            continue;
        }
        let started = Instant::now();
        let mut sink = conn.copy_in_raw(&statement).await.map_err(db)?;
        sink.send(payload).await.map_err(db)?;
        *n = sink.finish().await.map_err(db)?;
        *spent += started.elapsed();
    }
    Ok(added)
}
