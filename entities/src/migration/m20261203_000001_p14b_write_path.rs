//! Write-path changes of issue 14.
//!
//! Guardian links are *reported* or *verified* (`shared/spec/access-policy.md`, Guardian
//! relationships): only a verified link gives a `guardian` principal access. A link is verified
//! when `verified_at` is set (by registry staff, or from a birth record); `verified_by` says who.
//!
//! Existing links are left reported: before this migration any provider could add one, and a
//! link nobody vouched for must not keep granting access. Registry staff verify the ones that
//! are real (`verifyGuardian`); the demo seed writes its links verified (they stand for the
//! mothers named on birth records).
//!
//! `birth_date_changes` keeps every change of a person's birth date with its old and new value:
//! a birth date decides whether a guardian may read the record.
//!
//! `dose_reports` keeps what the `doses` row alone cannot: the provenance of every report
//! merged into a dose as its duplicate (`MERGED`, with the code as reported), and the data
//! quality flag of a dose given on the same day as another that shares only some of its
//! antigens (`SHARES_ANTIGENS`, naming the other dose). The dose row itself keeps the first
//! report's provenance.

use sea_orm_migration::{prelude::*, schema::*};

use crate::migration::SUBJECT_CHARS;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GuardianLinks {
    Table,
    VerifiedAt,
    VerifiedBy,
}

#[derive(DeriveIden)]
enum BirthDateChanges {
    Table,
    Id,
    PersonId,
    At,
    ChangedBy,
    RequestId,
    OldDate,
    NewDate,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Doses {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DoseReports {
    Table,
    Id,
    DoseId,
    PersonId,
    Kind,
    Cvx,
    RelatedDoseId,
    ReportedByOrgId,
    AdministeredByOrgId,
    RecordedBy,
    RecordedAt,
    RequestId,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(GuardianLinks::Table)
                .add_column(timestamp_with_time_zone_null(GuardianLinks::VerifiedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(GuardianLinks::Table)
                .add_column(string_len_null(GuardianLinks::VerifiedBy, SUBJECT_CHARS))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BirthDateChanges::Table)
                .if_not_exists()
                .col(uuid(BirthDateChanges::Id).primary_key())
                .col(uuid(BirthDateChanges::PersonId))
                .col(timestamp_with_time_zone(BirthDateChanges::At))
                .col(string_len(BirthDateChanges::ChangedBy, SUBJECT_CHARS))
                .col(string_len(BirthDateChanges::RequestId, 100))
                .col(date(BirthDateChanges::OldDate))
                .col(date(BirthDateChanges::NewDate))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_birth_date_changes_person")
                        .from(BirthDateChanges::Table, BirthDateChanges::PersonId)
                        .to(Persons::Table, Persons::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_birth_date_changes_person")
                .table(BirthDateChanges::Table)
                .col(BirthDateChanges::PersonId)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DoseReports::Table)
                .if_not_exists()
                .col(uuid(DoseReports::Id).primary_key())
                .col(uuid(DoseReports::DoseId))
                .col(uuid(DoseReports::PersonId))
                .col(string_len(DoseReports::Kind, 32))
                .col(string_len(DoseReports::Cvx, 10))
                .col(uuid_null(DoseReports::RelatedDoseId))
                .col(uuid_null(DoseReports::ReportedByOrgId))
                .col(uuid_null(DoseReports::AdministeredByOrgId))
                .col(string_len(DoseReports::RecordedBy, SUBJECT_CHARS))
                .col(timestamp_with_time_zone(DoseReports::RecordedAt))
                .col(string_len(DoseReports::RequestId, 100))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_dose_reports_dose")
                        .from(DoseReports::Table, DoseReports::DoseId)
                        .to(Doses::Table, Doses::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_dose_reports_person")
                        .from(DoseReports::Table, DoseReports::PersonId)
                        .to(Persons::Table, Persons::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_dose_reports_dose")
                .table(DoseReports::Table)
                .col(DoseReports::DoseId)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_dose_reports_person")
                .table(DoseReports::Table)
                .col(DoseReports::PersonId)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }
}
