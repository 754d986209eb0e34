//! Indexes and foreign keys set aside while a seed loads into empty tables, then rebuilt from
//! their own catalog definitions before the seeding transaction commits.
//!
//! Profiling a 100,000-person load showed where PostgreSQL's time went: checking 1.3 million
//! dose foreign keys one row at a time (a trigger per row, each locking its parent row) cost
//! more than the rest of the load together, and maintaining secondary indexes row by row
//! (random inserts into the name and birth-date indexes) cost more than sorting them once.
//! Afterwards one sort per index and one anti-join per foreign key do the same checks.
//!
//! Safe on a real database because:
//! - everything happens in the seeding transaction: an error, a cancelled seed or a crash
//!   rolls the definitions back together with the rows, so nothing is ever left dropped;
//! - it is attempted only when every seeded table is empty, after locking them, so a
//!   database that holds data keeps its indexes and per-row checks, and readers of its data
//!   are not locked out for the length of a load;
//! - it needs only ownership of the tables (no superuser, no `session_replication_role`),
//!   and when anything is refused (not the owner, a lock not granted in time) the savepoint
//!   is rolled back and the load runs with everything in place;
//! - definitions are read from the catalog (`pg_get_indexdef`, `pg_get_constraintdef`), so
//!   what comes back is what was there, including indexes added by later migrations;
//! - an index another table's foreign key depends on, a replica-identity index and a
//!   clustered index are left alone (their ties would not come back with them).

use sea_orm::sqlx::{self, Acquire as _, Executor as _, PgConnection};

/// The tables a seed writes, parents first.
pub(crate) const SEEDED_TABLES: [&str; 6] = [
    "persons",
    "guardian_links",
    "doses",
    "enrollments",
    "memberships",
    "person_blocking_keys",
];

/// How long to wait for the seeded tables' locks before loading with everything in place.
const LOCK_TIMEOUT: &str = "10s";

/// Sorting memory for the rebuilds (the dose primary key of a 100,000-person seed sorts in
/// about 60 MB); raised for this transaction only, never lowered.
const REBUILD_MEMORY: &str = "256MB";

/// The definitions set aside, in the order that restores them: indexes and key constraints,
/// then the foreign keys that need them.
#[derive(Debug)]
pub(crate) struct SetAside {
    restore: Vec<String>,
}

/// Each index and foreign key of the seeded tables that may be set aside, with the statement
/// that drops it and the one that restores it. Key and unique constraints come first (foreign
/// keys refer to them), foreign keys last.
const CATALOG: &str = r#"
WITH seeded AS (SELECT unnest($1::text[])::regclass AS rel)
SELECT drop_sql, restore_sql FROM (
    SELECT 0 AS phase, i.indexrelid::oid AS o,
        CASE WHEN c.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass)
             ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::regclass, c.conname) END,
        CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
             ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass, c.conname,
                         pg_get_constraintdef(c.oid)) END
    FROM pg_index i
    LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')
    WHERE i.indrelid IN (SELECT rel FROM seeded)
      AND NOT i.indisreplident AND NOT i.indisclustered
      AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                      WHERE f.contype = 'f' AND f.conindid = i.indexrelid
                        AND f.conrelid NOT IN (SELECT rel FROM seeded))
    UNION ALL
    SELECT 1, c.oid,
        format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
        format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
               pg_get_constraintdef(c.oid))
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.conrelid IN (SELECT rel FROM seeded)
) AS d(phase, o, drop_sql, restore_sql)
ORDER BY phase, o
"#;

/// Sets the seeded tables' indexes and foreign keys aside when all of them are empty and this
/// role may alter them; `None` (with nothing changed) otherwise.
pub(crate) async fn set_aside(txn: &mut PgConnection) -> Result<Option<SetAside>, sqlx::Error> {
    let mut savepoint = txn.begin().await?;
    match try_set_aside(&mut savepoint).await {
        Ok(Some(aside)) => {
            savepoint.commit().await?;
            Ok(Some(aside))
        }
        Ok(None) => {
            savepoint.rollback().await?;
            Ok(None)
        }
        Err(e) => {
            tracing::info!(error = %e, "seeding with indexes and foreign keys in place");
            savepoint.rollback().await?;
            Ok(None)
        }
    }
}

async fn try_set_aside(conn: &mut PgConnection) -> Result<Option<SetAside>, sqlx::Error> {
    conn.execute(sqlx::AssertSqlSafe(format!(
        "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
    )))
    .await?;
    // Locked before looking, so no row can arrive between the look and the load.
    conn.execute(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        SEEDED_TABLES.join(", ")
    )))
    .await?;
    let any_row = SEEDED_TABLES
        .iter()
        .map(|t| format!("EXISTS (SELECT 1 FROM {t})"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let occupied: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {any_row}")))
        .fetch_one(&mut *conn)
        .await?;
    if occupied {
        return Ok(None);
    }
    let definitions: Vec<(String, String)> = sqlx::query_as(CATALOG)
        .bind(SEEDED_TABLES.map(str::to_owned).to_vec())
        .fetch_all(&mut *conn)
        .await?;
    // Foreign keys go first (they depend on the indexes), so drop in reverse restore order.
    for (drop, _) in definitions.iter().rev() {
        conn.execute(sqlx::AssertSqlSafe(drop.as_str())).await?;
    }
    conn.execute("SET LOCAL lock_timeout TO DEFAULT").await?;
    Ok(Some(SetAside {
        restore: definitions.into_iter().map(|(_, r)| r).collect(),
    }))
}

impl SetAside {
    /// Rebuilds every index and re-adds (and so re-checks) every foreign key, in the
    /// seeding transaction.
    pub(crate) async fn restore(self, txn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query(
            "SELECT set_config('maintenance_work_mem', $1, true) \
             WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes($1)",
        )
        .bind(REBUILD_MEMORY)
        .execute(&mut *txn)
        .await?;
        for statement in self.restore {
            let started = std::time::Instant::now();
            txn.execute(sqlx::AssertSqlSafe(statement.as_str())).await?;
            tracing::debug!(elapsed = ?started.elapsed(), %statement, "restored");
        }
        Ok(())
    }

    /// How many indexes and constraints were set aside.
    pub(crate) fn len(&self) -> usize {
        self.restore.len()
    }
}
