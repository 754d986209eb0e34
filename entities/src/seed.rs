//! Synthetic demo data: organizations of every kind, persons with realistic childhood dose
//! histories, guardians, school enrollments and plan memberships.
//!
//! Deterministic for a given seed (the same seed yields the same ids and rows, and seeding
//! twice with one seed changes nothing), and fast enough for benchmarks: PostgreSQL loads
//! 100,000 persons with their 1.3 million doses by binary `COPY` in one transaction
//! ([`postgres`]), SQLite by multi-row INSERTs.

mod copy;
mod deferred;
pub(crate) mod generate;
mod postgres;

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel};

use crate::{Backend, Store, StoreError};
use generate::Families;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub persons: u64,
    pub seed: u64,
    /// The registry's "today": ages and dose dates are relative to it.
    pub today: NaiveDate,
}

/// What was added (zero for rows that were already stored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub organizations: u64,
    pub persons: u64,
    pub doses: u64,
}

/// Inserts in multi-row statements, skipping rows that exist; returns how many were added.
async fn insert_chunks<M, C>(db: &C, rows: Vec<M>, per_statement: usize) -> Result<u64, StoreError>
where
    M: IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel> + sea_orm::ModelTrait,
    <M::Entity as EntityTrait>::ActiveModel: Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    let mut added = 0;
    while rows.peek().is_some() {
        let chunk = rows
            .by_ref()
            .take(per_statement)
            .map(IntoActiveModel::into_active_model);
        let result = M::Entity::insert_many(chunk)
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
        if let sea_orm::TryInsertResult::Inserted(n) = result {
            added += n;
        }
    }
    Ok(added)
}

impl Store {
    /// Loads demo data; `progress` is called with the number of persons written so far.
    /// Children come with a guardian, so `persons` counts both.
    pub async fn seed(
        &self,
        options: SeedOptions,
        progress: impl Fn(u64),
    ) -> Result<SeedSummary, StoreError> {
        let families = options.persons.div_ceil(2);
        let (organizations, families) =
            Families::new(options.seed, families, options.today, Utc::now());
        let mut summary = SeedSummary {
            organizations: insert_chunks(&self.db, organizations, 100).await?,
            ..SeedSummary::default()
        };
        match self.backend() {
            Backend::Postgres => {
                let loaded =
                    postgres::load(self.db.get_postgres_connection_pool(), families, progress)
                        .await?;
                summary.persons = loaded.persons;
                summary.doses = loaded.doses;
            }
            Backend::Sqlite => {
                let (persons, doses) = self.insert_families(families, options, progress).await?;
                summary.persons = persons;
                summary.doses = doses;
            }
        }
        Ok(summary)
    }

    /// SQLite: one write transaction per batch, skipping rows that exist (so a seed that
    /// stopped half-way is completed by running it again).
    async fn insert_families(
        &self,
        mut families: Families,
        options: SeedOptions,
        progress: impl Fn(u64),
    ) -> Result<(u64, u64), StoreError> {
        const FAMILIES_PER_BATCH: u64 = 2_500;
        let (mut persons, mut doses, mut written) = (0, 0, 0);
        while let Some(batch) = families.next_batch(FAMILIES_PER_BATCH) {
            written += batch.persons.len() as u64;
            let txn = self.begin_write().await?;
            persons += insert_chunks(&*txn, batch.persons, 1_000).await?;
            insert_chunks(&*txn, batch.links, 2_000).await?;
            doses += insert_chunks(&*txn, batch.doses, 2_000).await?;
            insert_chunks(&*txn, batch.enrollments, 2_000).await?;
            insert_chunks(&*txn, batch.memberships, 2_000).await?;
            insert_chunks(&*txn, batch.keys, 2_000).await?;
            txn.commit().await?;
            progress(written.min(options.persons.max(persons)));
        }
        Ok((persons, doses))
    }
}
