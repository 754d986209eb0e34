//! Organizations: the directory of providers, schools, plans and agencies.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
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

    /// The facility identifier HL7 messages name it by (MSH-4.1, RXA-11.4).
    async fn facility_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let (rc, store) = request(ctx)?;
        Ok(store
            .facility_ids(&[self.0.id])
            .await
            .map_err(store_err(rc))?
            .remove(&self.0.id))
    }
}

#[derive(InputObject)]
pub struct OrganizationInput {
    pub name: String,
    pub kind: OrganizationKindGql,
    /// The facility identifier HL7 messages name the organization by (MSH-4.1, RXA-11.4): a
    /// state-assigned provider id or VFC PIN, unique.
    pub facility_id: Option<String>,
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

/// One kind of problem found in a sender's HL7 messages, counted.
#[derive(SimpleObject)]
pub struct DataQualityFinding {
    /// E, W or I (HL7 table 0516).
    pub severity: String,
    /// HL7 table 0357 error code.
    pub code: String,
    /// CDC table 0533 application error code.
    pub application_code: Option<String>,
    /// Where (ERR-2, e.g. `RXA^1^16`).
    pub location: String,
    pub count: u64,
}

/// What an organization's HL7 messages were answered, and the problems found in them
/// (issue 16): no person data, codes and locations only.
#[derive(SimpleObject)]
pub struct DataQualityReport {
    pub organization_id: ID,
    pub messages: u64,
    /// Answered AA.
    pub accepted: u64,
    /// Answered AE: stored in part, or not at all.
    pub with_errors: u64,
    /// Answered AR.
    pub rejected: u64,
    /// Most frequent first.
    pub findings: Vec<DataQualityFinding>,
}

#[Object]
impl OrganizationQuery {
    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Option<OrganizationNode>> {
        organization_by_id_arg(ctx, &id).await
    }

    /// The data-quality report of an HL7 sender: its own submitting staff, registry staff and
    /// auditors may read it.
    async fn data_quality(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
    ) -> Result<DataQualityReport> {
        let (rc, store) = request(ctx)?;
        let org = ids::parse(&organization_id, "organizationId")?;
        if let Err(denial) = policies::authorize_data_quality(&rc.access.principal, org) {
            rc.record_denial(None, "dataQuality", denial.rule);
            return Err(crate::ApiError::Forbidden(format!(
                "this report is not visible to the caller ({})",
                denial.rule
            ))
            .into());
        }
        let report = store.data_quality(org).await.map_err(store_err(rc))?;
        Ok(DataQualityReport {
            organization_id,
            messages: report.messages,
            accepted: report.accepted,
            with_errors: report.with_errors,
            rejected: report.rejected,
            findings: report
                .findings
                .into_iter()
                .map(|f| DataQualityFinding {
                    severity: f.severity,
                    code: f.hl7_code,
                    application_code: f.app_code,
                    location: f.location,
                    count: f.count,
                })
                .collect(),
        })
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
            .create_organization(
                &rc.access,
                &input.name,
                input.kind.into(),
                input.facility_id.as_deref(),
            )
            .await
            .map_err(store_err(rc))?;
        Ok(OrganizationNode(row))
    }
}
