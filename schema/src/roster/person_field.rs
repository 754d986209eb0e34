//! `Person.schoolCompliance(organizationId)`.

use async_graphql::{Context, Result, ID};
use entities::model::person;
use policies::Field;

use super::evaluate::{compliance_at, requirements};
use super::types::SchoolComplianceNode;
use crate::inline::Inline;
use crate::{guard, ids, ApiError};

/// The person's compliance at `organization_id` (their current enrollment there), through the
/// field matrix and the rule that a school asks only about its own organization.
pub(crate) async fn school_compliance(
    ctx: &Context<'_>,
    person: &person::Model,
    organization_id: &ID,
) -> Result<Option<Inline<SchoolComplianceNode>>> {
    let rc = guard::read(ctx, person.id, Field::SchoolCompliance)?;
    let org = ids::parse(organization_id, "organizationId")?;
    if let Err(denial) = policies::authorize_compliance_at(&rc.access.principal, org) {
        rc.record_denial(Some(person.id), "schoolCompliance", denial.rule());
        return Err(ApiError::Forbidden(format!(
            "compliance at another organization is not visible to this role ({})",
            denial.rule()
        ))
        .into());
    }
    let requirements = requirements(ctx, rc)?;
    Ok(compliance_at(rc, requirements, person, org)
        .await?
        .as_ref()
        .map(|c| Inline(SchoolComplianceNode::from(c))))
}
