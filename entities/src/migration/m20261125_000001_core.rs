//! The core tables: organizations, persons and everything hanging off a person, the CVX code
//! set's tables and the access log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
    FirstName,
    MiddleName,
    LastName,
    FirstNameKey,
    LastNameKey,
    DateOfBirth,
    Gender,
    AddressLine1,
    AddressLine2,
    City,
    State,
    PostalCode,
    Phone,
    Email,
    Participation,
    LockedToOrgId,
    Reminders,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GuardianLinks {
    Table,
    Id,
    PersonId,
    GuardianId,
    Relationship,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Doses {
    Table,
    Id,
    PersonId,
    Cvx,
    DateGiven,
    Mvx,
    LotNumber,
    Site,
    Route,
    AdministeredByOrgId,
    ReportedByOrgId,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Contraindications {
    Table,
    Id,
    PersonId,
    Kind,
    VaccineGroup,
    Reason,
    RecordedAt,
    ExpiresOn,
    RecordedBy,
}

#[derive(DeriveIden)]
enum ConsentEvents {
    Table,
    Id,
    PersonId,
    At,
    ChangedBy,
    Channel,
    Participation,
    LockedToOrgId,
    Reminders,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    Id,
    PersonId,
    OrganizationId,
    SchoolYear,
    Grade,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    PersonId,
    OrganizationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Vaccines {
    Table,
    Cvx,
    Name,
}

#[derive(DeriveIden)]
enum VaccineGroups {
    Table,
    Cvx,
    VaccineGroup,
    Position,
}

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Seq,
    Id,
    At,
    Subject,
    Role,
    OrganizationId,
    Purpose,
    Action,
    PersonIds,
    Fields,
    RequestId,
    Outcome,
    Reason,
    PreviousHash,
    Hash,
}

#[derive(DeriveIden)]
enum AccessLogPersons {
    Table,
    PersonId,
    Seq,
}

#[derive(DeriveIden)]
enum AccessLogHead {
    Table,
    Id,
    Seq,
    Hash,
}

/// The hash the first entry chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table).if_not_exists();
    for c in cols {
        stmt.col(c);
    }
    stmt.to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .if_not_exists()
                .col(uuid(Organizations::Id).primary_key())
                .col(string_len(Organizations::Name, 200))
                .col(string_len(Organizations::Kind, 32))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Persons::Table)
                .if_not_exists()
                .col(uuid(Persons::Id).primary_key())
                .col(string_len(Persons::FirstName, 100))
                .col(string_len_null(Persons::MiddleName, 100))
                .col(string_len(Persons::LastName, 100))
                .col(string_len(Persons::FirstNameKey, 100))
                .col(string_len(Persons::LastNameKey, 100))
                .col(date(Persons::DateOfBirth))
                .col(string_len(Persons::Gender, 32))
                .col(string_len_null(Persons::AddressLine1, 200))
                .col(string_len_null(Persons::AddressLine2, 200))
                .col(string_len_null(Persons::City, 100))
                .col(string_len_null(Persons::State, 50))
                .col(string_len_null(Persons::PostalCode, 20))
                .col(string_len_null(Persons::Phone, 40))
                .col(string_len_null(Persons::Email, 200))
                .col(string_len(Persons::Participation, 32))
                .col(uuid_null(Persons::LockedToOrgId))
                .col(boolean(Persons::Reminders))
                .col(timestamp_with_time_zone(Persons::CreatedAt))
                .col(timestamp_with_time_zone(Persons::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_persons_locked_to")
                        .from(Persons::Table, Persons::LockedToOrgId)
                        .to(Organizations::Table, Organizations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_persons_name",
            Persons::Table,
            vec![
                Persons::LastNameKey.into_iden(),
                Persons::FirstNameKey.into_iden(),
                Persons::Id.into_iden(),
            ],
        ))
        .await?;
        m.create_index(index(
            "ix_persons_dob",
            Persons::Table,
            vec![Persons::DateOfBirth.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(GuardianLinks::Table)
                .if_not_exists()
                .col(uuid(GuardianLinks::Id).primary_key())
                .col(uuid(GuardianLinks::PersonId))
                .col(uuid(GuardianLinks::GuardianId))
                .col(string_len(GuardianLinks::Relationship, 60))
                .col(timestamp_with_time_zone(GuardianLinks::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_guardian_links_person",
                    (GuardianLinks::Table, GuardianLinks::PersonId),
                    (Persons::Table, Persons::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_guardian_links_guardian",
                    (GuardianLinks::Table, GuardianLinks::GuardianId),
                    (Persons::Table, Persons::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_guardian_links_pair",
                GuardianLinks::Table,
                vec![
                    GuardianLinks::PersonId.into_iden(),
                    GuardianLinks::GuardianId.into_iden(),
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_guardian_links_guardian",
            GuardianLinks::Table,
            vec![GuardianLinks::GuardianId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Doses::Table)
                .if_not_exists()
                .col(uuid(Doses::Id).primary_key())
                .col(uuid(Doses::PersonId))
                .col(string_len(Doses::Cvx, 8))
                .col(date(Doses::DateGiven))
                .col(string_len_null(Doses::Mvx, 8))
                .col(string_len_null(Doses::LotNumber, 60))
                .col(string_len_null(Doses::Site, 60))
                .col(string_len_null(Doses::Route, 60))
                .col(uuid_null(Doses::AdministeredByOrgId))
                .col(uuid_null(Doses::ReportedByOrgId))
                .col(string_len(Doses::RecordedBy, 200))
                .col(timestamp_with_time_zone(Doses::RecordedAt))
                .foreign_key(&mut fk(
                    "fk_doses_person",
                    (Doses::Table, Doses::PersonId),
                    (Persons::Table, Persons::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_doses_person_date",
            Doses::Table,
            vec![Doses::PersonId.into_iden(), Doses::DateGiven.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Contraindications::Table)
                .if_not_exists()
                .col(uuid(Contraindications::Id).primary_key())
                .col(uuid(Contraindications::PersonId))
                .col(string_len(Contraindications::Kind, 32))
                .col(string_len_null(Contraindications::VaccineGroup, 60))
                .col(string_len_null(Contraindications::Reason, 500))
                .col(timestamp_with_time_zone(Contraindications::RecordedAt))
                .col(date_null(Contraindications::ExpiresOn))
                .col(string_len(Contraindications::RecordedBy, 200))
                .foreign_key(&mut fk(
                    "fk_contraindications_person",
                    (Contraindications::Table, Contraindications::PersonId),
                    (Persons::Table, Persons::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_contraindications_person",
            Contraindications::Table,
            vec![Contraindications::PersonId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ConsentEvents::Table)
                .if_not_exists()
                .col(uuid(ConsentEvents::Id).primary_key())
                .col(uuid(ConsentEvents::PersonId))
                .col(timestamp_with_time_zone(ConsentEvents::At))
                .col(string_len(ConsentEvents::ChangedBy, 200))
                .col(string_len(ConsentEvents::Channel, 32))
                .col(string_len(ConsentEvents::Participation, 32))
                .col(uuid_null(ConsentEvents::LockedToOrgId))
                .col(boolean(ConsentEvents::Reminders))
                .foreign_key(&mut fk(
                    "fk_consent_events_person",
                    (ConsentEvents::Table, ConsentEvents::PersonId),
                    (Persons::Table, Persons::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_consent_events_person",
            ConsentEvents::Table,
            vec![
                ConsentEvents::PersonId.into_iden(),
                ConsentEvents::At.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Enrollments::Table)
                .if_not_exists()
                .col(uuid(Enrollments::Id).primary_key())
                .col(uuid(Enrollments::PersonId))
                .col(uuid(Enrollments::OrganizationId))
                .col(string_len(Enrollments::SchoolYear, 9))
                .col(string_len(Enrollments::Grade, 8))
                .col(timestamp_with_time_zone(Enrollments::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_enrollments_person",
                    (Enrollments::Table, Enrollments::PersonId),
                    (Persons::Table, Persons::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_enrollments_org",
                    (Enrollments::Table, Enrollments::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_enrollments_person_org_year",
                Enrollments::Table,
                vec![
                    Enrollments::PersonId.into_iden(),
                    Enrollments::OrganizationId.into_iden(),
                    Enrollments::SchoolYear.into_iden(),
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_enrollments_org_year",
            Enrollments::Table,
            vec![
                Enrollments::OrganizationId.into_iden(),
                Enrollments::SchoolYear.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .if_not_exists()
                .col(uuid(Memberships::Id).primary_key())
                .col(uuid(Memberships::PersonId))
                .col(uuid(Memberships::OrganizationId))
                .col(timestamp_with_time_zone(Memberships::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_memberships_person",
                    (Memberships::Table, Memberships::PersonId),
                    (Persons::Table, Persons::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_memberships_org",
                    (Memberships::Table, Memberships::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_memberships_person_org",
                Memberships::Table,
                vec![
                    Memberships::PersonId.into_iden(),
                    Memberships::OrganizationId.into_iden(),
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_memberships_org",
            Memberships::Table,
            vec![Memberships::OrganizationId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Vaccines::Table)
                .if_not_exists()
                .col(string_len(Vaccines::Cvx, 8).primary_key())
                .col(string_len(Vaccines::Name, 200))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(VaccineGroups::Table)
                .if_not_exists()
                .col(string_len(VaccineGroups::Cvx, 8))
                .col(string_len(VaccineGroups::VaccineGroup, 60))
                .col(integer(VaccineGroups::Position))
                .primary_key(
                    Index::create()
                        .col(VaccineGroups::Cvx)
                        .col(VaccineGroups::VaccineGroup),
                )
                .foreign_key(&mut fk(
                    "fk_vaccine_groups_cvx",
                    (VaccineGroups::Table, VaccineGroups::Cvx),
                    (Vaccines::Table, Vaccines::Cvx),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AccessLog::Table)
                .if_not_exists()
                .col(big_integer(AccessLog::Seq).primary_key())
                .col(uuid_uniq(AccessLog::Id))
                .col(timestamp_with_time_zone(AccessLog::At))
                .col(string_len(AccessLog::Subject, 200))
                .col(string_len(AccessLog::Role, 32))
                .col(uuid_null(AccessLog::OrganizationId))
                .col(string_len_null(AccessLog::Purpose, 32))
                .col(string_len(AccessLog::Action, 32))
                .col(text(AccessLog::PersonIds))
                .col(text(AccessLog::Fields))
                .col(string_len(AccessLog::RequestId, 64))
                .col(string_len(AccessLog::Outcome, 32))
                .col(text_null(AccessLog::Reason))
                .col(string_len(AccessLog::PreviousHash, 64))
                .col(string_len(AccessLog::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_access_log_subject",
            AccessLog::Table,
            vec![AccessLog::Subject.into_iden(), AccessLog::Seq.into_iden()],
        ))
        .await?;
        m.create_index(index(
            "ix_access_log_at",
            AccessLog::Table,
            vec![AccessLog::At.into_iden()],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(AccessLogPersons::Table)
                .if_not_exists()
                .col(uuid(AccessLogPersons::PersonId))
                .col(big_integer(AccessLogPersons::Seq))
                .primary_key(
                    Index::create()
                        .col(AccessLogPersons::PersonId)
                        .col(AccessLogPersons::Seq),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AccessLogHead::Table)
                .if_not_exists()
                .col(integer(AccessLogHead::Id).primary_key())
                .col(big_integer(AccessLogHead::Seq))
                .col(string_len(AccessLogHead::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AccessLogHead::Table)
                .columns([AccessLogHead::Id, AccessLogHead::Seq, AccessLogHead::Hash])
                .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
