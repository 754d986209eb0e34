//! `Dose`, `DoseEvaluation`, `Recommendation` and `Contraindication`.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use entities::codes::{ContraindicationKind, ImmunityDocumenter};
use entities::model::{contraindication, dose};
use policies::Field;

pub use super::node::DoseNode;
use crate::forecasts::{ForecastOf, PersonForecast};
use crate::organization::{mirror_enum, OrganizationNode};
use crate::person::organization_by_id;
use crate::scalars::{Date, DateTime};
use crate::vaccine::VaccineNode;
use crate::{guard, ids};

impl DoseNode {
    async fn optional_org(
        &self,
        ctx: &Context<'_>,
        org: impl FnOnce(&dose::Model) -> Option<uuid::Uuid>,
    ) -> Result<Option<OrganizationNode>> {
        let (_, d) = self.read(ctx, Field::DoseDetails)?;
        match org(d) {
            Some(id) => Ok(Some(organization_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }

    fn detail<'a>(
        &'a self,
        ctx: &Context<'_>,
        value: impl FnOnce(&'a dose::Model) -> &'a Option<String>,
    ) -> Result<Option<&'a str>> {
        let (_, d) = self.read(ctx, Field::DoseDetails)?;
        Ok(value(d).as_deref())
    }
}

#[Object(name = "Dose", requires_scopes = "person:read")]
impl DoseNode {
    /// A dose's id reveals that its person exists and has the dose: a read of that person.
    async fn id(&self, ctx: &Context<'_>) -> Result<ID> {
        guard::reveal(ctx, self.person_id(), "doseId")?;
        Ok(ids::to_id(self.dose_id()))
    }

    async fn vaccine(&self, ctx: &Context<'_>) -> Result<Option<VaccineNode>> {
        let (_, d) = self.read(ctx, Field::DoseVaccine)?;
        let store = ctx.data::<entities::Store>()?;
        Ok(store.codes().get(&d.cvx).map(VaccineNode::from))
    }

    async fn date_given(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        let (_, d) = self.read(ctx, Field::DoseVaccine)?;
        Ok(Some(Date(d.date_given)))
    }

    /// MVX manufacturer code.
    async fn manufacturer(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.detail(ctx, |d| &d.mvx)
    }

    async fn lot_number(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.detail(ctx, |d| &d.lot_number)
    }

    async fn site(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.detail(ctx, |d| &d.site)
    }

    async fn route(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.detail(ctx, |d| &d.route)
    }

    async fn administered_by(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        self.optional_org(ctx, |d| d.administered_by_org_id).await
    }

    /// Who reported the dose to the registry.
    async fn reported_by(&self, ctx: &Context<'_>) -> Result<Option<OrganizationNode>> {
        self.optional_org(ctx, |d| d.reported_by_org_id).await
    }

    /// Whether the dose counts, judged against the schedule's ages and intervals.
    async fn evaluation(&self, ctx: &Context<'_>) -> Result<Option<DoseEvaluation>> {
        let (rc, d) = self.read(ctx, Field::DoseEvaluation)?;
        let key = ForecastOf {
            person: d.person_id,
            as_of: rc.access.today,
        };
        let Some(result) = rc.load(key).await? else {
            return Ok(None);
        };
        Ok(result.evaluation_of(d.id).map(|e| DoseEvaluation {
            status: e.status.into(),
            reason: e.reason.as_ref().map(|r| r.to_string()),
        }))
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvaluationStatus {
    Valid,
    NotValid,
    SubStandard,
    Extraneous,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct DoseEvaluation {
    pub status: EvaluationStatus,
    pub reason: Option<String>,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStatus {
    NotComplete,
    Complete,
    Immune,
    Contraindicated,
    AgedOut,
    NotRecommended,
}

impl From<forecast::EvaluationStatus> for EvaluationStatus {
    fn from(s: forecast::EvaluationStatus) -> Self {
        match s {
            forecast::EvaluationStatus::Valid => EvaluationStatus::Valid,
            forecast::EvaluationStatus::NotValid => EvaluationStatus::NotValid,
            forecast::EvaluationStatus::SubStandard => EvaluationStatus::SubStandard,
            forecast::EvaluationStatus::Extraneous => EvaluationStatus::Extraneous,
        }
    }
}

impl From<forecast::SeriesStatus> for SeriesStatus {
    fn from(s: forecast::SeriesStatus) -> Self {
        match s {
            forecast::SeriesStatus::NotComplete => SeriesStatus::NotComplete,
            forecast::SeriesStatus::Complete => SeriesStatus::Complete,
            forecast::SeriesStatus::Immune => SeriesStatus::Immune,
            forecast::SeriesStatus::Contraindicated => SeriesStatus::Contraindicated,
            forecast::SeriesStatus::AgedOut => SeriesStatus::AgedOut,
            forecast::SeriesStatus::NotRecommended => SeriesStatus::NotRecommended,
        }
    }
}

impl RecommendationNode {
    /// The forecast's vaccine groups, leaving out those the schedule does not recommend for
    /// this person (travel and outbreak vaccines, risk-only series).
    pub fn from_forecast(
        result: &PersonForecast,
        codes: &entities::CodeSet,
    ) -> Vec<RecommendationNode> {
        result
            .forecast
            .vaccine_groups
            .iter()
            .filter(|g| g.status != forecast::SeriesStatus::NotRecommended)
            .map(|g| RecommendationNode {
                vaccine_group: g.vaccine_group.name().to_owned(),
                status: g.status.into(),
                dose_number: g.dose_number.and_then(|n| i32::try_from(n).ok()),
                earliest_date: g.earliest_date.map(Date),
                recommended_date: g.recommended_date.map(Date),
                past_due_date: g.past_due_date.map(Date),
                latest_date: g.latest_date.map(Date),
                vaccines: g
                    .vaccines
                    .iter()
                    .filter_map(|cvx| codes.get(cvx).map(VaccineNode::from))
                    .collect(),
                reason: g.reason.as_ref().map(|r| r.to_string()),
            })
            .collect()
    }
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Recommendation")]
pub struct RecommendationNode {
    pub vaccine_group: String,
    pub status: SeriesStatus,
    /// The next dose's number in its series, when a next dose is due.
    pub dose_number: Option<i32>,
    pub earliest_date: Option<Date>,
    pub recommended_date: Option<Date>,
    pub past_due_date: Option<Date>,
    pub latest_date: Option<Date>,
    /// Preferred vaccines for the next dose.
    pub vaccines: Vec<VaccineNode>,
    pub reason: Option<String>,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ContraindicationKind")]
pub enum ContraindicationKindGql {
    Contraindication,
    Precaution,
    Immunity,
    MedicalExemption,
    NonMedicalExemption,
}
mirror_enum!(
    ContraindicationKindGql,
    ContraindicationKind {
        Contraindication,
        Precaution,
        Immunity,
        MedicalExemption,
        NonMedicalExemption
    }
);

/// Who documented a recorded immunity; school rules may accept a parent's history of a
/// disease only before a date (Minnesota: varicella before 2010-09-01).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ImmunityDocumenter")]
pub enum ImmunityDocumenterGql {
    /// A physician, APRN or PA.
    Provider,
    /// A parent's or guardian's signed history.
    Parent,
    /// Laboratory evidence.
    Laboratory,
}
mirror_enum!(
    ImmunityDocumenterGql,
    ImmunityDocumenter {
        Provider,
        Parent,
        Laboratory
    }
);

pub struct ContraindicationNode(pub contraindication::Model);

#[Object(name = "Contraindication")]
impl ContraindicationNode {
    async fn id(&self) -> ID {
        ids::to_id(self.0.id)
    }

    async fn kind(&self) -> ContraindicationKindGql {
        self.0.kind.into()
    }

    /// Vaccine group it applies to; null for all.
    async fn vaccine_group(&self) -> Option<&str> {
        self.0.vaccine_group.as_deref()
    }

    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    async fn recorded_at(&self) -> DateTime {
        DateTime(self.0.recorded_at)
    }

    async fn expires_on(&self) -> Option<Date> {
        self.0.expires_on.map(Date)
    }

    /// For `IMMUNITY`: who documented it (null on records from before it was asked).
    async fn documented_by(&self) -> Option<ImmunityDocumenterGql> {
        self.0.documented_by.map(Into::into)
    }

    /// For `IMMUNITY` from a history of disease: when the disease occurred.
    async fn disease_on(&self) -> Option<Date> {
        self.0.disease_on.map(Date)
    }
}

#[derive(InputObject)]
pub struct DoseInput {
    pub person_id: ID,
    pub cvx: String,
    pub date_given: Date,
    pub manufacturer: Option<String>,
    pub lot_number: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    /// Defaults to the caller's organization.
    pub administered_by_id: Option<ID>,
}

#[derive(InputObject)]
pub struct ContraindicationInput {
    pub person_id: ID,
    pub kind: ContraindicationKindGql,
    pub vaccine_group: Option<String>,
    pub reason: Option<String>,
    pub expires_on: Option<Date>,
    /// For `IMMUNITY` only: who documented it (default: a provider).
    pub documented_by: Option<ImmunityDocumenterGql>,
    /// For `IMMUNITY` only: when the disease occurred; not in the future or before birth.
    pub disease_on: Option<Date>,
}

#[derive(SimpleObject)]
pub struct RecordDosePayload {
    /// The stored dose, or the existing one it duplicated; null when the person opted out.
    pub dose: Option<DoseNode>,
    pub duplicate_of: Option<ID>,
    pub stored: bool,
}
