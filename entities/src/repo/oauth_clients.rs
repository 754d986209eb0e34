//! OAuth2 partner clients of the dev issuer. The repository keeps the invariants every client
//! must satisfy whoever registers it (the CLI, a test): a role that can act as a system, the
//! organization such a role needs (which must exist), and a scope within the role's rights.

use chrono::{DateTime, Utc};
use policies::{Role, ScopeSet};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::model::{oauth_client, organization};
use crate::{Store, StoreError};

/// What a new client is registered with. The secret arrives already hashed: this crate never
/// sees a client secret.
#[derive(Debug, Clone)]
pub struct NewOAuthClient {
    pub name: Option<String>,
    pub role: Role,
    pub organization: Option<Uuid>,
    /// The most the client may ask for; `None`: every right of its role.
    pub scope: Option<ScopeSet>,
    pub secret_hash: String,
}

/// A registered client, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub id: Uuid,
    pub name: Option<String>,
    pub role: Role,
    pub organization: Option<Uuid>,
    /// The client's rights: its role's, narrowed by the registered scope.
    pub scopes: ScopeSet,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
}

impl OAuthClient {
    fn from_row(row: oauth_client::Model) -> Result<OAuthClient, StoreError> {
        let role: Role = row
            .role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("oauth client {}: unknown role", row.id)))?;
        let rights = role.rights();
        Ok(OAuthClient {
            id: row.id,
            name: row.name,
            role,
            organization: row.organization_id,
            scopes: row
                .scope
                .as_deref()
                .map_or(rights, |s| ScopeSet::parse_claim(s).intersect(rights)),
            secret_hash: row.secret_hash,
            created_at: row.created_at,
        })
    }
}

/// Checks the client's role, organization, scope and name (everything but the organization's
/// existence, which needs the database).
fn validate(new: &NewOAuthClient) -> Result<(), StoreError> {
    if new.role.needs_person() {
        return Err(StoreError::Invalid(format!(
            "role `{}` is a natural person's; a client acts for a system and cannot hold it",
            new.role
        )));
    }
    match (new.role.needs_org(), new.organization) {
        (true, None) => {
            return Err(StoreError::Invalid(format!(
                "role `{}` acts for an organization: --org is required",
                new.role
            )))
        }
        (false, Some(_)) => {
            return Err(StoreError::Invalid(format!(
                "role `{}` does not act for an organization: omit --org",
                new.role
            )))
        }
        _ => {}
    }
    if let Some(scope) = new.scope {
        if scope.intersect(new.role.rights()) != scope || scope == ScopeSet::empty() {
            return Err(StoreError::Invalid(format!(
                "the scope must be a non-empty subset of role `{}`'s rights ({})",
                new.role,
                new.role.rights().to_claim()
            )));
        }
    }
    if let Some(name) = &new.name {
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "name must be 1 to 200 characters".into(),
            ));
        }
    }
    if new.secret_hash.is_empty() || new.secret_hash.len() > 200 {
        return Err(StoreError::Invalid("the secret hash is malformed".into()));
    }
    Ok(())
}

impl Store {
    /// Registers a client; its id is random (it is also the `sub` of the client's tokens).
    pub async fn create_oauth_client(
        &self,
        new: NewOAuthClient,
    ) -> Result<OAuthClient, StoreError> {
        validate(&new)?;
        let txn = self.begin_write().await?;
        if let Some(org) = new.organization {
            organization::Entity::find_by_id(org)
                .one(&*txn)
                .await?
                .ok_or_else(|| StoreError::not_found("organization", org))?;
        }
        let row = oauth_client::ActiveModel {
            id: Set(Uuid::new_v4()),
            name: Set(new.name.map(|n| n.trim().to_owned())),
            role: Set(new.role.as_str().to_owned()),
            organization_id: Set(new.organization),
            scope: Set(new.scope.map(ScopeSet::to_claim)),
            secret_hash: Set(new.secret_hash),
            created_at: Set(Utc::now()),
        }
        .insert(&*txn)
        .await?;
        txn.commit().await?;
        OAuthClient::from_row(row)
    }

    /// Removes a client; `false` when no client has this id. Its tokens are refused from
    /// then on (the gateway checks a client token's client on every request).
    pub async fn remove_oauth_client(&self, id: Uuid) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        let removed = oauth_client::Entity::delete_by_id(id)
            .exec(&*txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        Ok(removed > 0)
    }

    /// Replaces a client's secret hash (a rotation): the old secret, and the tokens issued
    /// with it, stop working.
    pub async fn rotate_oauth_client_secret(
        &self,
        id: Uuid,
        secret_hash: String,
    ) -> Result<OAuthClient, StoreError> {
        if secret_hash.is_empty() || secret_hash.len() > 200 {
            return Err(StoreError::Invalid("the secret hash is malformed".into()));
        }
        let txn = self.begin_write().await?;
        let row = oauth_client::Entity::find_by_id(id)
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::not_found("oauth client", id))?;
        let mut model: oauth_client::ActiveModel = row.into();
        model.secret_hash = Set(secret_hash);
        let row = model.update(&*txn).await?;
        txn.commit().await?;
        OAuthClient::from_row(row)
    }

    /// The client with this id, if registered.
    pub async fn oauth_client(&self, id: Uuid) -> Result<Option<OAuthClient>, StoreError> {
        oauth_client::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(OAuthClient::from_row)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(role: Role, org: Option<Uuid>) -> NewOAuthClient {
        NewOAuthClient {
            name: None,
            role,
            organization: org,
            scope: None,
            secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        }
    }

    #[test]
    fn person_roles_and_missing_or_extra_orgs_are_refused() {
        assert!(validate(&new(Role::Guardian, None)).is_err());
        assert!(validate(&new(Role::Individual, None)).is_err());
        assert!(validate(&new(Role::Provider, None)).is_err());
        assert!(validate(&new(Role::Auditor, Some(Uuid::nil()))).is_err());
        assert!(validate(&new(Role::Provider, Some(Uuid::nil()))).is_ok());
        assert!(validate(&new(Role::RegistryAdmin, None)).is_ok());
    }

    #[test]
    fn a_scope_beyond_the_role_is_refused() {
        let mut c = new(Role::School, Some(Uuid::nil()));
        c.scope = Some(ScopeSet::of(&[policies::Scope::DoseWrite]));
        assert!(validate(&c).is_err());
        c.scope = Some(ScopeSet::of(&[policies::Scope::RosterRead]));
        assert!(validate(&c).is_ok());
        c.scope = Some(ScopeSet::empty());
        assert!(validate(&c).is_err());
    }
}
