//! `me`: the principal the bearer token identifies.

mod history;

use async_graphql::{Context, Enum, Object, Result};

use crate::context::{request, store_err};
use crate::organization::OrganizationNode;

/// The contract's `Role` enum.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role")]
pub enum RoleGql {
    Provider,
    PublicHealth,
    School,
    HealthPlan,
    Guardian,
    Individual,
    Auditor,
    RegistryAdmin,
}

impl From<policies::Role> for RoleGql {
    fn from(r: policies::Role) -> Self {
        use policies::Role::*;
        match r {
            Provider => RoleGql::Provider,
            PublicHealth => RoleGql::PublicHealth,
            School => RoleGql::School,
            HealthPlan => RoleGql::HealthPlan,
            Guardian => RoleGql::Guardian,
            Individual => RoleGql::Individual,
            Auditor => RoleGql::Auditor,
            RegistryAdmin => RoleGql::RegistryAdmin,
        }
    }
}

pub struct PrincipalNode;

#[Object(name = "Principal")]
impl PrincipalNode {
    async fn subject(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(request(ctx)?.0.access.principal.subject.clone())
    }

    async fn role(&self, ctx: &Context<'_>) -> Result<RoleGql> {
        Ok(request(ctx)?.0.access.principal.role.into())
    }

    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        let (rc, store) = request(ctx)?;
        let Some(org) = rc.access.principal.org else {
            return Ok(None);
        };
        Ok(store
            .organization(org)
            .await
            .map_err(store_err(rc))?
            .map(OrganizationNode))
    }

    async fn scopes(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(request(ctx)?
            .0
            .access
            .principal
            .scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect())
    }

    async fn purpose(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(
            request(ctx)?.0.access.principal.purpose.as_str().to_owned(),
        ))
    }

    /// Who saw the reader's record (and each minor ward's): newest first. Guardians and
    /// individuals only; it never names another person or the reader's staff member.
    #[graphql(complexity = "crate::limits::paged(first, 20, child_complexity)")]
    async fn access_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<history::AccessHistoryConnection> {
        history::access_history(ctx, first.unwrap_or(20), after).await
    }

    /// The person a guardian or individual token acts as.
    async fn person_id(&self, ctx: &Context<'_>) -> Result<Option<async_graphql::ID>> {
        Ok(request(ctx)?
            .0
            .access
            .principal
            .person
            .map(crate::ids::to_id))
    }
}

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The principal the bearer token identifies.
    async fn me(&self) -> PrincipalNode {
        PrincipalNode
    }
}
