//! Person writes: demographics, guardians, enrollments and memberships.

use async_graphql::{Context, Object, Result, ID};
use entities::codes::SubmissionSource;
use entities::repo::persons::PersonPatch as StorePatch;
use entities::repo::resolve::Origin;
use policies::WriteAction;

use super::node::PersonNode;
use super::types::{EnrollmentNode, MembershipNode, PersonInput, PersonPatch};
use crate::context::{request, store_err};
use crate::{guard, ids};

#[derive(Default)]
pub struct PersonMutation;

#[Object]
impl PersonMutation {
    #[graphql(requires_scopes = "person:write")]
    async fn create_person(&self, ctx: &Context<'_>, input: PersonInput) -> Result<PersonNode> {
        guard::write(ctx, WriteAction::CreatePerson)?;
        let (rc, store) = request(ctx)?;
        // Every new person goes through matching (issue 15): a submission of someone the
        // registry holds is linked to them and answers with that person, as the caller's row
        // scope lets it see them (a locked record is RECORD_LOCKED; an opted-out one, whose
        // submission is not stored, NOT_FOUND); an undecided one is a new person and a review.
        let sub = crate::matching::submission(input, rc.access.principal.org);
        let origin = Origin::of(&rc.access, SubmissionSource::Graphql);
        let resolution = store
            .resolve_person(&rc.access, origin, sub)
            .await
            .map_err(store_err(rc))?;
        let id = ids::to_id(resolution.person());
        super::person_by_id(ctx, &id)
            .await?
            .ok_or_else(|| crate::ApiError::NotFound.into())
    }

    #[graphql(requires_scopes = "person:write")]
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PersonPatch,
    ) -> Result<PersonNode> {
        guard::write(ctx, WriteAction::UpdatePerson)?;
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&id, "id")?;
        let row = store
            .update_person(
                &rc.access,
                id,
                StorePatch {
                    first_name: input.first_name,
                    middle_name: input.middle_name,
                    last_name: input.last_name,
                    date_of_birth: input.date_of_birth.map(|d| d.0),
                    gender: input.gender.map(Into::into),
                    contact: input.contact.map(Into::into),
                },
            )
            .await
            .map_err(store_err(rc))?;
        Ok(PersonNode::new(row))
    }

    #[graphql(requires_scopes = "person:write")]
    async fn add_guardian(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        guardian_id: ID,
        relationship: String,
    ) -> Result<PersonNode> {
        guard::write(ctx, WriteAction::AddGuardian)?;
        let (rc, store) = request(ctx)?;
        let person_id = ids::parse(&person_id, "personId")?;
        let guardian_id = ids::parse(&guardian_id, "guardianId")?;
        let row = store
            .add_guardian(&rc.access, person_id, guardian_id, &relationship)
            .await
            .map_err(store_err(rc))?;
        Ok(PersonNode::new(row))
    }

    /// Registry staff: mark the reported guardian link `guardianId` → `personId` verified
    /// (after checking a birth record or court order). Only a verified link gives the guardian
    /// access to the person's record.
    #[graphql(requires_scopes = "admin")]
    async fn verify_guardian(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        guardian_id: ID,
    ) -> Result<PersonNode> {
        guard::write(ctx, WriteAction::VerifyGuardian)?;
        let (rc, store) = request(ctx)?;
        let person_id = ids::parse(&person_id, "personId")?;
        let guardian_id = ids::parse(&guardian_id, "guardianId")?;
        let row = store
            .verify_guardian(&rc.access, person_id, guardian_id)
            .await
            .map_err(store_err(rc))?;
        Ok(PersonNode::new(row))
    }

    /// Enroll a person at a school or child-care organization for a school year.
    #[graphql(requires_scopes = "admin")]
    async fn enroll(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        organization_id: ID,
        school_year: String,
        grade: String,
    ) -> Result<EnrollmentNode> {
        guard::write(ctx, WriteAction::Enroll)?;
        let (rc, store) = request(ctx)?;
        let person_id = ids::parse(&person_id, "personId")?;
        let org_id = ids::parse(&organization_id, "organizationId")?;
        let row = store
            .enroll(&rc.access, person_id, org_id, &school_year, &grade)
            .await
            .map_err(store_err(rc))?;
        let person = reload(ctx, person_id).await?;
        Ok(EnrollmentNode { person, model: row })
    }

    /// Record that a person is a member of a health plan organization.
    #[graphql(requires_scopes = "admin")]
    async fn add_membership(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        organization_id: ID,
    ) -> Result<MembershipNode> {
        guard::write(ctx, WriteAction::AddMembership)?;
        let (rc, store) = request(ctx)?;
        let person_id = ids::parse(&person_id, "personId")?;
        let org_id = ids::parse(&organization_id, "organizationId")?;
        let row = store
            .add_membership(&rc.access, person_id, org_id)
            .await
            .map_err(store_err(rc))?;
        let person = reload(ctx, person_id).await?;
        Ok(MembershipNode { person, model: row })
    }
}

/// The person after a write, read through the row scope like any other read.
pub(crate) async fn reload(ctx: &Context<'_>, id: uuid::Uuid) -> Result<PersonNode> {
    super::query::person_by_id(ctx, &ids::to_id(id))
        .await?
        .ok_or_else(|| crate::ApiError::NotFound.into())
}
