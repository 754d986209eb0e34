//! Organizations: the directory of providers, schools, plans and agencies.

use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use entities::codes::OrganizationKind;
use entities::model::organization;
use policies::WriteAction;

use crate::context::{request, store_err};
use crate::loaders::OrgId;
use crate::{guard, ids};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrganizationKind")]
pub enum OrganizationKindGql {
    Clinic,
    Hospital,
    Pharmacy,
    PublicHealthAgency,
    School,
    ChildCare,
    HealthPlan,
    Registry,
}

macro_rules! mirror_enum {
    ($gql:ident, $store:ident { $($v:ident),+ }) => {
        impl From<$store> for $gql {
            fn from(k: $store) -> Self { match k { $($store::$v => $gql::$v,)+ } }
        }
        impl From<$gql> for $store {
            fn from(k: $gql) -> Self { match k { $($gql::$v => $store::$v,)+ } }
        }
    };
}
pub(crate) use mirror_enum;

mirror_enum!(
    OrganizationKindGql,
    OrganizationKind {
        Clinic,
        Hospital,
        Pharmacy,
        PublicHealthAgency,
        School,
        ChildCare,
        HealthPlan,
        Registry
    }
);

pub struct OrganizationNode(pub organization::Model);

#[Object(name = "Organization")]
impl OrganizationNode {
    async fn id(&self) -> ID {
        ids::to_id(self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> OrganizationKindGql {
        self.0.kind.into()
    }
}

#[derive(InputObject)]
pub struct OrganizationInput {
    pub name: String,
    pub kind: OrganizationKindGql,
}

/// Fetches a directory entry: the one path `organization(id:)` and `_entities` share.
pub(crate) async fn organization_by_id_arg(
    ctx: &Context<'_>,
    id: &ID,
) -> Result<Option<OrganizationNode>> {
    let (rc, store) = request(ctx)?;
    let id = ids::parse(id, "id")?;
    Ok(store
        .organization(id)
        .await
        .map_err(store_err(rc))?
        .map(OrganizationNode))
}

/// `organization(id:)` for a federation reference, loaded in one batch with the rest of the
/// `_entities` call's representations.
pub(crate) async fn organization_reference(
    ctx: &Context<'_>,
    id: &ID,
) -> Result<Option<OrganizationNode>> {
    let (rc, _) = request(ctx)?;
    let id = ids::parse(id, "id")?;
    Ok(rc.load(OrgId(id)).await?.map(OrganizationNode))
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Option<OrganizationNode>> {
        organization_by_id_arg(ctx, &id).await
    }
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    #[graphql(requires_scopes = "admin")]
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: OrganizationInput,
    ) -> Result<OrganizationNode> {
        guard::write(ctx, WriteAction::CreateOrganization)?;
        let (rc, store) = request(ctx)?;
        let row = store
            .create_organization(&rc.access, &input.name, input.kind.into())
            .await
            .map_err(store_err(rc))?;
        Ok(OrganizationNode(row))
    }
}
