//! Issue 16, the HL7 v2 interface: an organization's facility identifier (MSH-4, RXA-11.4), what
//! a VXU says about a dose beyond the `doses` row (sender's order id for updates and deletes,
//! historical or administered, completion status, lot expiry, VFC eligibility, VIS), refusals
//! (RXA-20 `RE`), and per-sender message and finding counts for the data-quality report. No
//! table holds a value of a message: findings keep locations and codes only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrganizationFacilities {
    Table,
    FacilityId,
    OrganizationId,
}

#[derive(DeriveIden)]
enum Hl7DoseDetails {
    Table,
    DoseId,
    PersonId,
    SenderOrgId,
    FillerOrder,
    Historical,
    CompletionStatus,
    LotExpiration,
    VfcEligibility,
    Vis,
    ControlId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum VaccineRefusals {
    Table,
    Id,
    PersonId,
    Cvx,
    RefusedOn,
    Reason,
    ReportedByOrgId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Hl7Messages {
    Table,
    Id,
    OrganizationId,
    Kind,
    AckCode,
    Errors,
    Warnings,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Hl7Findings {
    Table,
    Id,
    MessageId,
    OrganizationId,
    Severity,
    Hl7Code,
    AppCode,
    Location,
    ReceivedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OrganizationFacilities::Table)
                .col(string_len(OrganizationFacilities::FacilityId, 64).primary_key())
                .col(uuid(OrganizationFacilities::OrganizationId).unique_key())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Hl7DoseDetails::Table)
                .col(uuid(Hl7DoseDetails::DoseId).primary_key())
                .col(uuid(Hl7DoseDetails::PersonId))
                .col(uuid_null(Hl7DoseDetails::SenderOrgId))
                .col(string_len_null(Hl7DoseDetails::FillerOrder, 199))
                .col(boolean(Hl7DoseDetails::Historical))
                .col(string_len(Hl7DoseDetails::CompletionStatus, 2))
                .col(date_null(Hl7DoseDetails::LotExpiration))
                .col(string_len_null(Hl7DoseDetails::VfcEligibility, 20))
                .col(text_null(Hl7DoseDetails::Vis))
                .col(string_len(Hl7DoseDetails::ControlId, 199))
                .col(timestamp_with_time_zone(Hl7DoseDetails::RecordedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_hl7_dose_details_sender_order")
                .table(Hl7DoseDetails::Table)
                .col(Hl7DoseDetails::SenderOrgId)
                .col(Hl7DoseDetails::FillerOrder)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_hl7_dose_details_person")
                .table(Hl7DoseDetails::Table)
                .col(Hl7DoseDetails::PersonId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(VaccineRefusals::Table)
                .col(uuid(VaccineRefusals::Id).primary_key())
                .col(uuid(VaccineRefusals::PersonId))
                .col(string_len(VaccineRefusals::Cvx, 10))
                .col(date(VaccineRefusals::RefusedOn))
                .col(string_len_null(VaccineRefusals::Reason, 20))
                .col(uuid_null(VaccineRefusals::ReportedByOrgId))
                .col(timestamp_with_time_zone(VaccineRefusals::RecordedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_vaccine_refusals_person")
                .table(VaccineRefusals::Table)
                .col(VaccineRefusals::PersonId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Hl7Messages::Table)
                .col(uuid(Hl7Messages::Id).primary_key())
                .col(uuid_null(Hl7Messages::OrganizationId))
                .col(string_len(Hl7Messages::Kind, 8))
                .col(string_len(Hl7Messages::AckCode, 2))
                .col(integer(Hl7Messages::Errors))
                .col(integer(Hl7Messages::Warnings))
                .col(timestamp_with_time_zone(Hl7Messages::ReceivedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_hl7_messages_org")
                .table(Hl7Messages::Table)
                .col(Hl7Messages::OrganizationId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Hl7Findings::Table)
                .col(uuid(Hl7Findings::Id).primary_key())
                .col(uuid(Hl7Findings::MessageId))
                .col(uuid_null(Hl7Findings::OrganizationId))
                .col(string_len(Hl7Findings::Severity, 1))
                .col(string_len(Hl7Findings::Hl7Code, 4))
                .col(string_len_null(Hl7Findings::AppCode, 2))
                .col(string_len(Hl7Findings::Location, 40))
                .col(timestamp_with_time_zone(Hl7Findings::ReceivedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_hl7_findings_org")
                .table(Hl7Findings::Table)
                .col(Hl7Findings::OrganizationId)
                .to_owned(),
        )
        .await?;
        // CVX 24 (anthrax, BioThrax) joined the shipped code set with this issue (the NIST
        // test messages use it): databases migrated before get it here; fresh ones already
        // have it from the code-set migration, which loads the whole file.
        let known = m
            .get_connection()
            .query_one_raw(
                m.get_database_backend().build(
                    Query::select()
                        .expr(Expr::col(Alias::new("cvx")))
                        .from(Alias::new("vaccines"))
                        .and_where(Expr::col(Alias::new("cvx")).eq("24")),
                ),
            )
            .await?
            .is_some();
        if !known {
            m.exec_stmt(
                Query::insert()
                    .into_table(Alias::new("vaccines"))
                    .columns([Alias::new("cvx"), Alias::new("name")])
                    .values_panic(["24".into(), "anthrax".into()])
                    .to_owned(),
            )
            .await?;
            m.exec_stmt(
                Query::insert()
                    .into_table(Alias::new("vaccine_groups"))
                    .columns([
                        Alias::new("cvx"),
                        Alias::new("vaccine_group"),
                        Alias::new("position"),
                    ])
                    .values_panic(["24".into(), "Anthrax".into(), 0i32.into()])
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
