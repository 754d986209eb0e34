//! Identity data of issue 15: what a submission says about who a person is, kept so that the
//! next submission about them is found (patient matching), and the merges that make one
//! person of two records.
//!
//! - `persons` gains the registry status (`ACTIVE`, `INACTIVE`, `MOVED`, `DECEASED`, with the
//!   date it took effect: a date of death from vital records, the date a person moved away),
//!   mother's maiden name, the multiple-birth indicator and birth order, and `merged_into`
//!   (set on a duplicate merged into a survivor: the row stays, out of every row scope, so an
//!   unmerge can bring it back and its id keeps resolving).
//! - `person_identifiers`: identifiers from other systems per assigning authority (MRN,
//!   Medicaid id, an SSN's keyed hash only, never the number).
//! - `person_names`: aliases and previous names; `person_addresses` and `person_phones`: the
//!   history of what was reported, the current values staying on `persons`.
//! - `person_blocking_keys`: the matching engine's blocking keys of every person, primary key
//!   (key, person) so that a candidate search is one index range scan per key.
//! - `match_reviews`: pairs the engine could not decide (a review queue for registry staff).
//! - `person_merges`: each merge with what it moved, so that an unmerge restores it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::migration::SUBJECT_CHARS;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
    Status,
    StatusDate,
    MotherMaidenName,
    MultipleBirth,
    BirthOrder,
    MergedInto,
}

#[derive(DeriveIden)]
enum PersonIdentifiers {
    Table,
    Id,
    PersonId,
    Kind,
    Authority,
    Value,
    ReportedByOrgId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum PersonNames {
    Table,
    Id,
    PersonId,
    Kind,
    FirstName,
    MiddleName,
    LastName,
    Suffix,
    ReportedByOrgId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum PersonAddresses {
    Table,
    Id,
    PersonId,
    AddressLine1,
    AddressLine2,
    City,
    State,
    PostalCode,
    ReportedByOrgId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum PersonPhones {
    Table,
    Id,
    PersonId,
    Number,
    ReportedByOrgId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum PersonBlockingKeys {
    Table,
    Key,
    PersonId,
}

#[derive(DeriveIden)]
enum MatchReviews {
    Table,
    Id,
    PersonId,
    CandidateId,
    Score,
    State,
    Source,
    OrganizationId,
    CreatedAt,
    RequestId,
    ResolvedAt,
    ResolvedBy,
}

#[derive(DeriveIden)]
enum PersonMerges {
    Table,
    Id,
    SurvivorId,
    DuplicateId,
    MergedAt,
    MergedBy,
    RequestId,
    Moved,
    UnmergedAt,
    UnmergedBy,
}

fn person_fk<T: IntoIden + 'static>(
    name: &str,
    table: T,
    col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Persons::Table, Persons::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut ix = Index::create();
    ix.name(name).table(table).if_not_exists();
    for c in cols {
        ix.col(c);
    }
    m.create_index(ix.to_owned()).await
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in [
            string_len(Persons::Status, 32).default("ACTIVE").to_owned(),
            date_null(Persons::StatusDate),
            string_len_null(Persons::MotherMaidenName, 100),
            boolean_null(Persons::MultipleBirth),
            small_integer_null(Persons::BirthOrder),
            uuid_null(Persons::MergedInto),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(Persons::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        // No index on `merged_into`: every read asks `merged_into IS NULL`, true of nearly
        // every row, and SQLite's planner took such an index over `ix_persons_name` for a name
        // search (a scan of every person). A duplicate is reached by its primary key.

        m.create_table(
            Table::create()
                .table(PersonIdentifiers::Table)
                .if_not_exists()
                .col(uuid(PersonIdentifiers::Id).primary_key())
                .col(uuid(PersonIdentifiers::PersonId))
                .col(string_len(PersonIdentifiers::Kind, 32))
                .col(string_len(PersonIdentifiers::Authority, 100))
                .col(string_len(PersonIdentifiers::Value, 100))
                .col(uuid_null(PersonIdentifiers::ReportedByOrgId))
                .col(timestamp_with_time_zone(PersonIdentifiers::RecordedAt))
                .foreign_key(&mut person_fk(
                    "fk_person_identifiers_person",
                    PersonIdentifiers::Table,
                    PersonIdentifiers::PersonId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_person_identifiers_person",
            PersonIdentifiers::Table,
            vec![PersonIdentifiers::PersonId.into_iden()],
        )
        .await?;
        index(
            m,
            "ix_person_identifiers_value",
            PersonIdentifiers::Table,
            vec![
                PersonIdentifiers::Kind.into_iden(),
                PersonIdentifiers::Authority.into_iden(),
                PersonIdentifiers::Value.into_iden(),
            ],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PersonNames::Table)
                .if_not_exists()
                .col(uuid(PersonNames::Id).primary_key())
                .col(uuid(PersonNames::PersonId))
                .col(string_len(PersonNames::Kind, 32))
                .col(string_len_null(PersonNames::FirstName, 100))
                .col(string_len_null(PersonNames::MiddleName, 100))
                .col(string_len_null(PersonNames::LastName, 100))
                .col(string_len_null(PersonNames::Suffix, 20))
                .col(uuid_null(PersonNames::ReportedByOrgId))
                .col(timestamp_with_time_zone(PersonNames::RecordedAt))
                .foreign_key(&mut person_fk(
                    "fk_person_names_person",
                    PersonNames::Table,
                    PersonNames::PersonId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_person_names_person",
            PersonNames::Table,
            vec![PersonNames::PersonId.into_iden()],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PersonAddresses::Table)
                .if_not_exists()
                .col(uuid(PersonAddresses::Id).primary_key())
                .col(uuid(PersonAddresses::PersonId))
                .col(string_len_null(PersonAddresses::AddressLine1, 200))
                .col(string_len_null(PersonAddresses::AddressLine2, 200))
                .col(string_len_null(PersonAddresses::City, 100))
                .col(string_len_null(PersonAddresses::State, 50))
                .col(string_len_null(PersonAddresses::PostalCode, 20))
                .col(uuid_null(PersonAddresses::ReportedByOrgId))
                .col(timestamp_with_time_zone(PersonAddresses::RecordedAt))
                .foreign_key(&mut person_fk(
                    "fk_person_addresses_person",
                    PersonAddresses::Table,
                    PersonAddresses::PersonId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_person_addresses_person",
            PersonAddresses::Table,
            vec![PersonAddresses::PersonId.into_iden()],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PersonPhones::Table)
                .if_not_exists()
                .col(uuid(PersonPhones::Id).primary_key())
                .col(uuid(PersonPhones::PersonId))
                .col(string_len(PersonPhones::Number, 40))
                .col(uuid_null(PersonPhones::ReportedByOrgId))
                .col(timestamp_with_time_zone(PersonPhones::RecordedAt))
                .foreign_key(&mut person_fk(
                    "fk_person_phones_person",
                    PersonPhones::Table,
                    PersonPhones::PersonId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_person_phones_person",
            PersonPhones::Table,
            vec![PersonPhones::PersonId.into_iden()],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PersonBlockingKeys::Table)
                .if_not_exists()
                .col(string_len(PersonBlockingKeys::Key, 255))
                .col(uuid(PersonBlockingKeys::PersonId))
                .primary_key(
                    Index::create()
                        .col(PersonBlockingKeys::Key)
                        .col(PersonBlockingKeys::PersonId),
                )
                .foreign_key(&mut person_fk(
                    "fk_person_blocking_keys_person",
                    PersonBlockingKeys::Table,
                    PersonBlockingKeys::PersonId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_person_blocking_keys_person",
            PersonBlockingKeys::Table,
            vec![PersonBlockingKeys::PersonId.into_iden()],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MatchReviews::Table)
                .if_not_exists()
                .col(uuid(MatchReviews::Id).primary_key())
                .col(uuid(MatchReviews::PersonId))
                .col(uuid(MatchReviews::CandidateId))
                .col(double(MatchReviews::Score))
                .col(string_len(MatchReviews::State, 32))
                .col(string_len(MatchReviews::Source, 32))
                .col(uuid_null(MatchReviews::OrganizationId))
                .col(timestamp_with_time_zone(MatchReviews::CreatedAt))
                .col(string_len(MatchReviews::RequestId, 100))
                .col(timestamp_with_time_zone_null(MatchReviews::ResolvedAt))
                .col(string_len_null(MatchReviews::ResolvedBy, SUBJECT_CHARS))
                .foreign_key(&mut person_fk(
                    "fk_match_reviews_person",
                    MatchReviews::Table,
                    MatchReviews::PersonId,
                ))
                .foreign_key(&mut person_fk(
                    "fk_match_reviews_candidate",
                    MatchReviews::Table,
                    MatchReviews::CandidateId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_match_reviews_state",
            MatchReviews::Table,
            vec![
                MatchReviews::State.into_iden(),
                MatchReviews::CreatedAt.into_iden(),
            ],
        )
        .await?;
        index(
            m,
            "ix_match_reviews_person",
            MatchReviews::Table,
            vec![MatchReviews::PersonId.into_iden()],
        )
        .await?;
        index(
            m,
            "ix_match_reviews_candidate",
            MatchReviews::Table,
            vec![MatchReviews::CandidateId.into_iden()],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PersonMerges::Table)
                .if_not_exists()
                .col(uuid(PersonMerges::Id).primary_key())
                .col(uuid(PersonMerges::SurvivorId))
                .col(uuid(PersonMerges::DuplicateId))
                .col(timestamp_with_time_zone(PersonMerges::MergedAt))
                .col(string_len(PersonMerges::MergedBy, SUBJECT_CHARS))
                .col(string_len(PersonMerges::RequestId, 100))
                .col(text(PersonMerges::Moved))
                .col(timestamp_with_time_zone_null(PersonMerges::UnmergedAt))
                .col(string_len_null(PersonMerges::UnmergedBy, SUBJECT_CHARS))
                .foreign_key(&mut person_fk(
                    "fk_person_merges_survivor",
                    PersonMerges::Table,
                    PersonMerges::SurvivorId,
                ))
                .foreign_key(&mut person_fk(
                    "fk_person_merges_duplicate",
                    PersonMerges::Table,
                    PersonMerges::DuplicateId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_person_merges_survivor",
            PersonMerges::Table,
            vec![PersonMerges::SurvivorId.into_iden()],
        )
        .await?;
        index(
            m,
            "ix_person_merges_duplicate",
            PersonMerges::Table,
            vec![PersonMerges::DuplicateId.into_iden()],
        )
        .await
    }
}
