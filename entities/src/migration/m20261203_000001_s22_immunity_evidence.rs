//! Who documented a recorded immunity, and when the disease occurred: school rules accept a
//! parent's history of some diseases only when it occurred before a date (Minnesota: varicella
//! before 2010-09-01, Minn. R. 4604.0900), and a provider's at any time. Both columns are
//! nullable; rows recorded before them read as provider-documented with no date.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Contraindications {
    Table,
    DocumentedBy,
    DiseaseOn,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(Contraindications::Table)
                .add_column(
                    ColumnDef::new(Contraindications::DocumentedBy)
                        .string_len(32)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Contraindications::Table)
                .add_column(ColumnDef::new(Contraindications::DiseaseOn).date().null())
                .to_owned(),
        )
        .await
    }
}
