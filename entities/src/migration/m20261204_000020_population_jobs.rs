//! Population jobs (issue 17): the job, its shards (person-id ranges claimed under a lease by
//! any instance), its output rows (one per job and person: the primary key is what makes a
//! resumed shard unable to duplicate output), the notification log with its frequency cap,
//! and the ZIP → county and organization → county tables that geography and a public-health
//! jurisdiction are decided from.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PopulationJobs {
    Table,
    Id,
    Kind,
    Status,
    Params,
    Grant,
    OwnerSubject,
    OwnerRole,
    OwnerOrgId,
    AsOf,
    Total,
    Done,
    ShardsTotal,
    ShardsDone,
    Results,
    Error,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum PopulationJobShards {
    Table,
    JobId,
    Shard,
    Lo,
    Hi,
    Status,
    LeaseOwner,
    LeaseUntil,
    Persons,
    Attempts,
}

#[derive(DeriveIden)]
enum PopulationJobResults {
    Table,
    JobId,
    PersonId,
    Shard,
    Category,
    Household,
    Row,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    PersonId,
    JobId,
    Channel,
    Outcome,
    AddressKey,
    At,
    RecordedBy,
}

#[derive(DeriveIden)]
enum ZipCounties {
    Table,
    PostalCode,
    County,
}

#[derive(DeriveIden)]
enum OrganizationCounties {
    Table,
    OrganizationId,
    County,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PopulationJobs::Table)
                .if_not_exists()
                .col(uuid(PopulationJobs::Id).primary_key())
                .col(string_len(PopulationJobs::Kind, 32))
                .col(string_len(PopulationJobs::Status, 16))
                .col(text(PopulationJobs::Params))
                .col(text(PopulationJobs::Grant))
                .col(string_len(PopulationJobs::OwnerSubject, 255))
                .col(string_len(PopulationJobs::OwnerRole, 32))
                .col(uuid_null(PopulationJobs::OwnerOrgId))
                .col(date(PopulationJobs::AsOf))
                .col(big_integer(PopulationJobs::Total))
                .col(big_integer(PopulationJobs::Done))
                .col(integer(PopulationJobs::ShardsTotal))
                .col(integer(PopulationJobs::ShardsDone))
                .col(big_integer(PopulationJobs::Results))
                .col(text_null(PopulationJobs::Error))
                .col(timestamp_with_time_zone(PopulationJobs::CreatedAt))
                .col(timestamp_with_time_zone_null(PopulationJobs::StartedAt))
                .col(timestamp_with_time_zone_null(PopulationJobs::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PopulationJobShards::Table)
                .if_not_exists()
                .col(uuid(PopulationJobShards::JobId))
                .col(integer(PopulationJobShards::Shard))
                .col(uuid_null(PopulationJobShards::Lo))
                .col(uuid_null(PopulationJobShards::Hi))
                .col(string_len(PopulationJobShards::Status, 16))
                .col(string_len_null(PopulationJobShards::LeaseOwner, 64))
                .col(timestamp_with_time_zone_null(
                    PopulationJobShards::LeaseUntil,
                ))
                .col(big_integer(PopulationJobShards::Persons))
                .col(integer(PopulationJobShards::Attempts))
                .primary_key(
                    Index::create()
                        .col(PopulationJobShards::JobId)
                        .col(PopulationJobShards::Shard),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_population_job_shards_job")
                        .from(PopulationJobShards::Table, PopulationJobShards::JobId)
                        .to(PopulationJobs::Table, PopulationJobs::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_population_job_shards_status")
                .table(PopulationJobShards::Table)
                .col(PopulationJobShards::Status)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PopulationJobResults::Table)
                .if_not_exists()
                .col(uuid(PopulationJobResults::JobId))
                .col(uuid(PopulationJobResults::PersonId))
                .col(integer(PopulationJobResults::Shard))
                .col(string_len(PopulationJobResults::Category, 32))
                .col(string_len(PopulationJobResults::Household, 128))
                .col(text(PopulationJobResults::Row))
                .primary_key(
                    Index::create()
                        .col(PopulationJobResults::JobId)
                        .col(PopulationJobResults::PersonId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_population_job_results_job")
                        .from(PopulationJobResults::Table, PopulationJobResults::JobId)
                        .to(PopulationJobs::Table, PopulationJobs::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .if_not_exists()
                .col(uuid(Notifications::Id).primary_key())
                .col(uuid(Notifications::PersonId))
                .col(uuid_null(Notifications::JobId))
                .col(string_len(Notifications::Channel, 16))
                .col(string_len(Notifications::Outcome, 16))
                .col(string_len_null(Notifications::AddressKey, 64))
                .col(timestamp_with_time_zone(Notifications::At))
                .col(string_len(Notifications::RecordedBy, 255))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notifications_person_at")
                .table(Notifications::Table)
                .col(Notifications::PersonId)
                .col(Notifications::At)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ZipCounties::Table)
                .if_not_exists()
                .col(string_len(ZipCounties::PostalCode, 10).primary_key())
                .col(string_len(ZipCounties::County, 64))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OrganizationCounties::Table)
                .if_not_exists()
                .col(uuid(OrganizationCounties::OrganizationId))
                .col(string_len(OrganizationCounties::County, 64))
                .primary_key(
                    Index::create()
                        .col(OrganizationCounties::OrganizationId)
                        .col(OrganizationCounties::County),
                )
                .to_owned(),
        )
        .await
    }
}
