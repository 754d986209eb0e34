//! Registered OAuth2 partner clients of the dev issuer's token endpoint (`POST /oauth/token`).
//! Only a hash of each client secret is stored: the secret is shown once, at registration.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    Name,
    Role,
    OrganizationId,
    Scope,
    SecretHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OauthClients::Table)
                .if_not_exists()
                .col(uuid(OauthClients::Id).primary_key())
                .col(string_len_null(OauthClients::Name, 200))
                .col(string_len(OauthClients::Role, 32))
                .col(uuid_null(OauthClients::OrganizationId))
                .col(string_len_null(OauthClients::Scope, 200))
                // A PHC string (`$argon2id$v=19$…`): algorithm, parameters, salt and hash.
                .col(string_len(OauthClients::SecretHash, 200))
                .col(timestamp_with_time_zone(OauthClients::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_oauth_clients_organization")
                        .from(OauthClients::Table, OauthClients::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_oauth_clients_organization")
                .table(OauthClients::Table)
                .col(OauthClients::OrganizationId)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }
}
