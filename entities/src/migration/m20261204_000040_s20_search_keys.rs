//! Name search served by the name index under any database collation.
//!
//! A prefix `LIKE` can use a PostgreSQL b-tree only under the `C` collation (or with a
//! `*_pattern_ops` operator class); databases are usually created under a language collation
//! (`C.UTF-8`, `en_US.UTF-8`), and a search by last name then walked `ix_persons_name` from its
//! start. The key columns get the `C` collation of their own: the same index then serves the
//! prefix match *and* the order searches page in (last name key, first name key, id), whatever
//! the database's collation, and PostgreSQL orders keys byte-wise as SQLite always did.
//!
//! The keys also become accent-free (`Müller` and `Muller` are both `MULLER`, see
//! [`crate::repo::persons::name_key`]): existing rows are refilled here, and the persons whose
//! key changed get a new record version, so no cached record keeps the old key.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

use crate::repo::persons::name_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Persons re-keyed per statement.
const BATCH: usize = 500;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let backend = m.get_database_backend();
        if backend == DbBackend::Postgres {
            // Rebuilds ix_persons_name under the new collation.
            db.execute_unprepared(
                "ALTER TABLE persons \
                 ALTER COLUMN first_name_key TYPE varchar(100) COLLATE \"C\", \
                 ALTER COLUMN last_name_key TYPE varchar(100) COLLATE \"C\"",
            )
            .await?;
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, first_name, last_name, first_name_key, last_name_key FROM persons",
            ))
            .await?;
        let mut changed: Vec<(Uuid, String, String)> = Vec::new();
        for row in rows {
            let id: Uuid = row.try_get_by_index(0)?;
            let first: String = row.try_get_by_index(1)?;
            let last: String = row.try_get_by_index(2)?;
            let first_key: String = row.try_get_by_index(3)?;
            let last_key: String = row.try_get_by_index(4)?;
            let (f, l) = (name_key(&first), name_key(&last));
            if f != first_key || l != last_key {
                changed.push((id, f, l));
            }
        }
        for batch in changed.chunks(BATCH) {
            for (id, f, l) in batch {
                let sql = match backend {
                    DbBackend::Postgres => {
                        "UPDATE persons SET first_name_key = $1, last_name_key = $2 WHERE id = $3"
                    }
                    _ => "UPDATE persons SET first_name_key = ?, last_name_key = ? WHERE id = ?",
                };
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [f.clone().into(), l.clone().into(), (*id).into()],
                ))
                .await?;
            }
            let ids: Vec<Uuid> = batch.iter().map(|(id, _, _)| *id).collect();
            crate::cache::bump_versions(db, &ids).await?;
        }
        Ok(())
    }
}
