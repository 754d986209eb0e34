//! Per-person record versions, kept in the database and bumped in each write's own
//! transaction: the record cache serves a copy only under the version the database holds now,
//! so freshness never depends on Redis receiving (or keeping) an invalidation.
//!
//! No foreign key to `persons`: a person's version row outlives a deleted or merged person, so
//! a copy cached before the deletion can never come back under a reused version.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersonVersions {
    Table,
    PersonId,
    Version,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PersonVersions::Table)
                .if_not_exists()
                .col(uuid(PersonVersions::PersonId).primary_key())
                .col(big_integer(PersonVersions::Version))
                .to_owned(),
        )
        .await
    }
}
