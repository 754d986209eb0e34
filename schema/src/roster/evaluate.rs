//! Computing compliance from what the request's loader holds: the forecast (valid doses,
//! past-due dates), the doses as given, and the exemptions on file.

use std::sync::Arc;

use chrono::NaiveDate;
use entities::codes::{ContraindicationKind, ImmunityDocumenter};
use entities::model::{contraindication, person};
use school::{
    Compliance, Documenter, EvaluatedDose, Exemption, ExemptionKind, ImmunityEvidence,
    Requirements, Student,
};
use uuid::Uuid;

use crate::context::RequestContext;
use crate::forecasts::{ForecastOf, PersonForecast};
use crate::loaders::EnrollmentsOf;
use crate::ApiError;

/// The jurisdiction's requirements, or an internal error if the gateway did not attach them.
pub(crate) fn requirements<'a>(
    ctx: &'a async_graphql::Context<'_>,
    rc: &RequestContext,
) -> Result<&'a Arc<Requirements>, ApiError> {
    ctx.data::<Arc<Requirements>>().map_err(|_| {
        tracing::error!(request_id = %rc.access.request_id, "school requirements are not attached to the schema");
        ApiError::Internal {
            request_id: rc.access.request_id.clone(),
        }
    })
}

/// Exemptions among a person's recorded findings; other kinds are not exemptions.
fn exemptions(findings: &[contraindication::Model]) -> Vec<Exemption> {
    findings
        .iter()
        .filter_map(|f| {
            let kind = match f.kind {
                ContraindicationKind::MedicalExemption => ExemptionKind::Medical,
                ContraindicationKind::NonMedicalExemption => ExemptionKind::NonMedical,
                _ => return None,
            };
            Exemption::for_group_name(kind, f.vaccine_group.as_deref(), f.expires_on)
        })
        .collect()
}

/// Immunity among a person's recorded findings, in force on `on`, with who documented it
/// and when the disease occurred. A finding recorded before the registry asked who documented
/// it counts as a provider's: only `dose:write` callers (providers, registry staff) record one.
fn immunity(findings: &[contraindication::Model], on: NaiveDate) -> Vec<ImmunityEvidence> {
    findings
        .iter()
        .filter(|f| f.kind == ContraindicationKind::Immunity)
        .filter(|f| f.expires_on.is_none_or(|e| e >= on))
        .filter_map(|f| {
            let name = f.vaccine_group.as_deref()?;
            Some(ImmunityEvidence {
                group: forecast::VaccineGroup::from_name(name)?,
                documented_by: match f.documented_by {
                    None | Some(ImmunityDocumenter::Provider) => Documenter::Provider,
                    Some(ImmunityDocumenter::Parent) => Documenter::Parent,
                    Some(ImmunityDocumenter::Laboratory) => Documenter::Laboratory,
                },
                disease_on: f.disease_on,
            })
        })
        .collect()
}

/// A student on a roster: the person, their grade, and their first enrollment's date there.
pub(crate) type Enrolled = (person::Model, String, Option<NaiveDate>);

/// One student's compliance on `on`, from the doses and findings the forecast was computed on.
pub(crate) fn evaluate(
    requirements: &Requirements,
    (person, grade, enrolled_on): (&person::Model, &str, Option<NaiveDate>),
    forecast: &PersonForecast,
    on: NaiveDate,
) -> Compliance {
    let evaluated = forecast
        .doses_given
        .iter()
        .zip(&forecast.forecast.doses)
        .map(|((date_given, cvx), evaluation)| EvaluatedDose {
            date_given: *date_given,
            cvx,
            evaluation,
        })
        .collect();
    let student = Student {
        date_of_birth: person.date_of_birth,
        grade,
        doses: evaluated,
        exemptions: exemptions(&forecast.findings),
        immunity: immunity(&forecast.findings, on),
        enrolled_on,
    };
    requirements.evaluate(&student, &forecast.forecast, on)
}

/// Loads what compliance is computed from for `persons` (one batch per relation) and
/// evaluates each of them in its grade, in order; `None` for a person the loader no longer
/// returns (hidden since the roster was read).
pub(crate) async fn evaluate_many(
    rc: &RequestContext,
    requirements: &Requirements,
    persons: &[Enrolled],
) -> Result<Vec<Option<Compliance>>, ApiError> {
    let on = rc.access.today;
    let ids = || persons.iter().map(|(p, _, _)| p.id);
    let forecasts = rc
        .load_many(ids().map(|person| ForecastOf { person, as_of: on }))
        .await?;
    Ok(persons
        .iter()
        .map(|(p, grade, enrolled_on)| {
            let forecast = forecasts.get(&ForecastOf {
                person: p.id,
                as_of: on,
            })?;
            Some(evaluate(
                requirements,
                (p, grade, *enrolled_on),
                forecast,
                on,
            ))
        })
        .collect())
}

/// A person's compliance with the requirements of their current enrollment at `org`, or
/// `None` when they have no enrollment there this school year.
pub(crate) async fn compliance_at(
    rc: &RequestContext,
    requirements: &Requirements,
    person: &person::Model,
    org: Uuid,
) -> Result<Option<Compliance>, ApiError> {
    let year = policies::school_year_of(rc.access.today);
    let enrollments = rc.load(EnrollmentsOf(person.id)).await?.unwrap_or_default();
    let first = enrollments
        .iter()
        .filter(|e| e.organization_id == org)
        .map(|e| e.created_at.date_naive())
        .min();
    let Some(enrollment) = enrollments
        .into_iter()
        .find(|e| e.organization_id == org && e.school_year == year)
    else {
        return Ok(None);
    };
    let mut evaluated = evaluate_many(
        rc,
        requirements,
        &[(person.clone(), enrollment.grade, first)],
    )
    .await?;
    Ok(evaluated.pop().flatten())
}

/// One person's compliance in `grade` (the official record's school-entry status).
pub(crate) async fn evaluate_one(
    rc: &RequestContext,
    requirements: &Requirements,
    person: &person::Model,
    grade: &str,
    enrolled_on: Option<NaiveDate>,
) -> Result<Option<Compliance>, ApiError> {
    let mut evaluated = evaluate_many(
        rc,
        requirements,
        &[(person.clone(), grade.to_owned(), enrolled_on)],
    )
    .await?;
    Ok(evaluated.pop().flatten())
}
