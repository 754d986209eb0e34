//! What an access-log entry says about each person (issue 14):
//!
//! - `access_log.person_detail`: JSON `{"fields": {person id: [field, …]}, "coSubjects":
//!   [person id, …]}`: which fields of whose record an entry read or wrote (one entry for a
//!   request that read many records still says which of whose), and which persons it names
//!   only as co-subjects. Inside the entry's hash.
//! - `access_log.client_request_id`: the caller's `x-request-id`, bounded and sanitized, kept
//!   beside the server's own request id (which is the audit id).
//! - `access_log_persons.co_subject`: the person is named by the entry but the entry is not
//!   about their record (the guardian of an `addGuardian`), so their own access-log view does
//!   not show it.
//!
//! Additive only: existing entries keep their content (and hash); the new columns are null or
//! false for them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The longest client request id kept.
pub(crate) const CLIENT_REQUEST_ID_CHARS: u32 = 128;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Alias::new("access_log"))
                .add_column(ColumnDef::new(Alias::new("person_detail")).text().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("access_log"))
                .add_column(
                    ColumnDef::new(Alias::new("client_request_id"))
                        .string_len(CLIENT_REQUEST_ID_CHARS)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("access_log_persons"))
                .add_column(
                    ColumnDef::new(Alias::new("co_subject"))
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
