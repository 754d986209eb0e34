//! Subjects up to 255 characters: OpenID Connect allows a `sub` that long, and the columns that
//! keep a principal's subject (the access log's `subject`, and `recorded_by` / `changed_by` of
//! the rows it records) were sized for 200, so a valid token's first logged read failed.
//!
//! Widening a `varchar` is a catalog change on PostgreSQL (no table rewrite, no lock held for
//! long). SQLite does not enforce a `varchar` length, so there is nothing to change there.

use sea_orm_migration::prelude::*;

use crate::migration::SUBJECT_CHARS;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table and the column of it that holds a subject.
const SUBJECT_COLUMNS: [(&str, &str); 4] = [
    ("access_log", "subject"),
    ("doses", "recorded_by"),
    ("contraindications", "recorded_by"),
    ("consent_events", "changed_by"),
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        for (table, column) in SUBJECT_COLUMNS {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .modify_column(
                        ColumnDef::new(Alias::new(column))
                            .string_len(SUBJECT_CHARS)
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
