//! `Person` and the types that hang off it.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use entities::codes::Gender;
use entities::model::{enrollment, membership};
use policies::Field;

use super::node::PersonNode;
use crate::consent::ConsentNode;
use crate::dose::{ContraindicationNode, DoseNode, RecommendationNode};
use crate::forecasts::ForecastOf;
use crate::loaders::{
    ContraindicationsOf, DosesOf, EnrollmentsOf, GuardiansOf, MembershipsOf, OrgId,
};
use crate::organization::{mirror_enum, OrganizationNode};
use crate::scalars::Date;
use crate::{guard, ids};

/// HL7 administrative sex.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Gender")]
pub enum GenderGql {
    Female,
    Male,
    Nonbinary,
    Unknown,
}
mirror_enum!(
    GenderGql,
    Gender {
        Female,
        Male,
        Nonbinary,
        Unknown
    }
);

#[derive(SimpleObject, Debug, Clone, Default)]
#[graphql(name = "Contact")]
pub struct ContactNode {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "Guardian")]
pub struct GuardianNode {
    pub person: PersonNode,
    pub relationship: String,
}

#[Object(name = "Person", requires_scopes = "person:read")]
impl PersonNode {
    /// Revealing the id reveals that the person exists: a read (rule: every answer that
    /// reveals a person is logged).
    async fn id(&self, ctx: &Context<'_>) -> Result<ID> {
        guard::reveal(ctx, self.person_id(), "id")?;
        Ok(ids::to_id(self.person_id()))
    }

    async fn first_name(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let (_, p) = self.read(ctx, Field::PersonIdentity)?;
        Ok(Some(&p.first_name))
    }

    async fn middle_name(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let (_, p) = self.read(ctx, Field::PersonIdentity)?;
        Ok(p.middle_name.as_deref())
    }

    async fn last_name(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let (_, p) = self.read(ctx, Field::PersonIdentity)?;
        Ok(Some(&p.last_name))
    }

    async fn date_of_birth(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        let (_, p) = self.read(ctx, Field::PersonIdentity)?;
        Ok(Some(Date(p.date_of_birth)))
    }

    async fn gender(&self, ctx: &Context<'_>) -> Result<Option<GenderGql>> {
        let (_, p) = self.read(ctx, Field::PersonGender)?;
        Ok(Some(p.gender.into()))
    }

    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<ContactNode>> {
        let (_, p) = self.read(ctx, Field::PersonContact)?;
        Ok(Some(ContactNode {
            address_line1: p.address_line1.clone(),
            address_line2: p.address_line2.clone(),
            city: p.city.clone(),
            state: p.state.clone(),
            postal_code: p.postal_code.clone(),
            phone: p.phone.clone(),
            email: p.email.clone(),
        }))
    }

    async fn guardians(&self, ctx: &Context<'_>) -> Result<Option<Vec<GuardianNode>>> {
        let (rc, p) = self.read(ctx, Field::PersonGuardians)?;
        let rows = rc.load(GuardiansOf(p.id)).await?.unwrap_or_default();
        Ok(Some(
            rows.into_iter()
                .map(|g| GuardianNode {
                    person: PersonNode::new(g.guardian),
                    relationship: g.relationship,
                })
                .collect(),
        ))
    }

    async fn doses(&self, ctx: &Context<'_>) -> Result<Option<Vec<DoseNode>>> {
        let (rc, p) = self.read(ctx, Field::DoseVaccine)?;
        let rows = rc.load(DosesOf(p.id)).await?.unwrap_or_default();
        Ok(Some(rows.into_iter().map(DoseNode::new).collect()))
    }

    /// The forecast as of a date (default: today in the registry's time zone).
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> Result<Option<Vec<RecommendationNode>>> {
        let (rc, p) = self.read(ctx, Field::Recommendations)?;
        let store = ctx.data::<entities::Store>()?;
        let as_of = as_of.map_or(rc.access.today, |d| d.0);
        rc.forecast_date(as_of)?;
        let Some(result) = rc
            .load(ForecastOf {
                person: p.id,
                as_of,
            })
            .await?
        else {
            return Ok(Some(Vec::new()));
        };
        Ok(Some(RecommendationNode::from_forecast(
            &result,
            store.codes(),
        )))
    }

    async fn contraindications(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<ContraindicationNode>>> {
        let (rc, p) = self.read(ctx, Field::Contraindications)?;
        let rows = rc
            .load(ContraindicationsOf(p.id))
            .await?
            .unwrap_or_default();
        Ok(Some(rows.into_iter().map(ContraindicationNode).collect()))
    }

    async fn consent(&self, ctx: &Context<'_>) -> Result<Option<ConsentNode>> {
        let (_, p) = self.read(ctx, Field::Consent)?;
        Ok(Some(ConsentNode::of(p)))
    }

    /// School and child-care enrollments, newest school year first.
    async fn enrollments(&self, ctx: &Context<'_>) -> Result<Option<Vec<EnrollmentNode>>> {
        let (rc, p, rows_of) = self.read_rows(ctx, Field::Enrollments)?;
        let rows = rc.load(EnrollmentsOf(p.id)).await?.unwrap_or_default();
        Ok(Some(
            rows.into_iter()
                .filter(|e| guard::row_visible(rows_of, e.organization_id))
                .map(|e| EnrollmentNode {
                    person: self.clone(),
                    model: e,
                })
                .collect(),
        ))
    }

    /// Compliance with the school requirements of the person's current enrollment at an
    /// organization; null when not enrolled there this school year.
    async fn school_compliance(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
    ) -> Result<Option<crate::inline::Inline<crate::roster::SchoolComplianceNode>>> {
        let (_, p) = self.read(ctx, Field::SchoolCompliance)?;
        crate::roster::school_compliance(ctx, p, &organization_id).await
    }

    /// Health-plan memberships.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Option<Vec<MembershipNode>>> {
        let (rc, p, rows_of) = self.read_rows(ctx, Field::Memberships)?;
        let rows = rc.load(MembershipsOf(p.id)).await?.unwrap_or_default();
        Ok(Some(
            rows.into_iter()
                .filter(|m| guard::row_visible(rows_of, m.organization_id))
                .map(|m| MembershipNode {
                    person: self.clone(),
                    model: m,
                })
                .collect(),
        ))
    }
}

pub struct EnrollmentNode {
    pub person: PersonNode,
    pub model: enrollment::Model,
}

#[Object(name = "Enrollment")]
impl EnrollmentNode {
    async fn person(&self) -> &PersonNode {
        &self.person
    }

    async fn organization(&self, ctx: &Context<'_>) -> Result<OrganizationNode> {
        organization_by_id(ctx, self.model.organization_id).await
    }

    async fn school_year(&self) -> &str {
        &self.model.school_year
    }

    async fn grade(&self) -> &str {
        &self.model.grade
    }
}

pub struct MembershipNode {
    pub person: PersonNode,
    pub model: membership::Model,
}

#[Object(name = "Membership")]
impl MembershipNode {
    async fn person(&self) -> &PersonNode {
        &self.person
    }

    async fn organization(&self, ctx: &Context<'_>) -> Result<OrganizationNode> {
        organization_by_id(ctx, self.model.organization_id).await
    }
}

/// An organization that a stored row references (so it exists).
pub(crate) async fn organization_by_id(
    ctx: &Context<'_>,
    id: uuid::Uuid,
) -> Result<OrganizationNode> {
    let (rc, _) = crate::context::request(ctx)?;
    rc.load(OrgId(id))
        .await?
        .map(OrganizationNode)
        .ok_or_else(|| crate::ApiError::NotFound.into())
}

#[derive(InputObject, Default)]
pub struct ContactInput {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<ContactInput> for entities::repo::persons::Contact {
    fn from(c: ContactInput) -> Self {
        entities::repo::persons::Contact {
            address_line1: c.address_line1,
            address_line2: c.address_line2,
            city: c.city,
            state: c.state,
            postal_code: c.postal_code,
            phone: c.phone,
            email: c.email,
        }
    }
}

#[derive(InputObject)]
pub struct PersonInput {
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub date_of_birth: Date,
    pub gender: GenderGql,
    pub contact: Option<ContactInput>,
    /// Matching evidence (issue 15), stored with a new person.
    pub mothers_maiden_name: Option<String>,
    pub multiple_birth: Option<bool>,
    /// Order in a multiple birth (1, 2, …).
    pub birth_order: Option<i16>,
    /// Identifiers from other systems (an MRN: authority defaults to the caller's organization).
    pub identifiers: Option<Vec<crate::matching::IdentifierInputGql>>,
    /// Other names the person is known by.
    pub aliases: Option<Vec<crate::matching::NameInputGql>>,
}

#[derive(InputObject)]
pub struct PersonPatch {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub gender: Option<GenderGql>,
    pub contact: Option<ContactInput>,
}

#[derive(InputObject)]
pub struct PersonFilter {
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub date_of_birth: Option<Date>,
}

#[derive(SimpleObject)]
pub struct PersonConnection {
    pub edges: Vec<PersonEdge>,
    pub page_info: crate::page::PageInfo,
}

#[derive(SimpleObject)]
pub struct PersonEdge {
    pub cursor: String,
    pub node: PersonNode,
}
