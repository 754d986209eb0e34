//! Forecasts from the CDSi engine for the persons a request reads.
//!
//! A forecast is computed from the person's stored doses and contraindications on an
//! assessment date, in a batch (three queries for any number of persons) through the request's
//! loader, so it is always of the data as it is now and never outlives the request.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use chrono::NaiveDate;
use entities::codes::{ContraindicationKind, Gender};
use entities::model::{contraindication, dose, person};
use entities::{Access, Store, StoreError};
use forecast::{PatientForecast, SeriesStatus, VaccineGroup};
use uuid::Uuid;

use crate::loaders::RecordLoader;

/// One person's forecast as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForecastOf {
    pub person: Uuid,
    pub as_of: NaiveDate,
}

/// The engine's answer, with each input dose's id (and date and CVX code, which school rules
/// read) beside its evaluation, and the findings it was computed with (exemptions among them).
#[derive(Debug)]
pub struct PersonForecast {
    pub forecast: PatientForecast,
    pub dose_ids: Vec<Uuid>,
    pub doses_given: Vec<(NaiveDate, String)>,
    pub findings: Vec<contraindication::Model>,
}

impl PersonForecast {
    pub fn evaluation_of(&self, dose: Uuid) -> Option<&forecast::DoseEvaluation> {
        let i = self.dose_ids.iter().position(|d| *d == dose)?;
        self.forecast.doses.get(i)
    }
}

fn gender(g: Gender) -> forecast::Gender {
    match g {
        Gender::Female => forecast::Gender::Female,
        Gender::Male => forecast::Gender::Male,
        Gender::Nonbinary | Gender::Unknown => forecast::Gender::Unknown,
    }
}

/// Runs the engine for one person. Recorded immunity and contraindications that the CDSi
/// observation codes do not carry are applied to the group they name (or every group) after
/// the engine: a registry must not recommend a dose a clinician has ruled out.
pub fn compute(
    schedule: &forecast::Schedule,
    p: &person::Model,
    doses: &[dose::Model],
    findings: &[contraindication::Model],
    as_of: NaiveDate,
) -> PersonForecast {
    let patient = forecast::Patient {
        date_of_birth: p.date_of_birth,
        gender: gender(p.gender),
        doses: doses
            .iter()
            .map(|d| forecast::PatientDose {
                date_given: d.date_given,
                cvx: d.cvx.clone(),
                mvx: d.mvx.clone(),
            })
            .collect(),
        observations: Vec::new(),
    };
    let mut result = forecast::forecast(schedule, &patient, as_of);
    for finding in findings
        .iter()
        .filter(|f| f.expires_on.is_none_or(|e| e >= as_of))
    {
        let status = match finding.kind {
            ContraindicationKind::Immunity => SeriesStatus::Immune,
            ContraindicationKind::Contraindication => SeriesStatus::Contraindicated,
            _ => continue,
        };
        let target = finding
            .vaccine_group
            .as_deref()
            .and_then(VaccineGroup::from_name);
        for g in result
            .vaccine_groups
            .iter_mut()
            .filter(|g| target.is_none_or(|t| t == g.vaccine_group))
        {
            if matches!(g.status, SeriesStatus::NotComplete) {
                g.status = status;
                g.dose_number = None;
                g.earliest_date = None;
                g.recommended_date = None;
                g.past_due_date = None;
                g.latest_date = None;
                g.vaccines.clear();
                g.reason = Some(
                    if status == SeriesStatus::Immune {
                        "recorded evidence of immunity"
                    } else {
                        "recorded contraindication"
                    }
                    .into(),
                );
            }
        }
    }
    PersonForecast {
        forecast: result,
        dose_ids: doses.iter().map(|d| d.id).collect(),
        doses_given: doses
            .iter()
            .map(|d| (d.date_given, d.cvx.clone()))
            .collect(),
        findings: findings.to_vec(),
    }
}

impl Loader<ForecastOf> for RecordLoader {
    type Value = Arc<PersonForecast>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[ForecastOf],
    ) -> Result<HashMap<ForecastOf, Self::Value>, Self::Error> {
        let (store, access): (&Store, &Access) = (&self.store, &self.access);
        let schedule = forecast::Schedule::embedded()
            .map_err(|e| Arc::new(StoreError::Corrupt(format!("forecast schedule: {e}"))))?;
        let mut ids: Vec<Uuid> = keys.iter().map(|k| k.person).collect();
        ids.sort_unstable();
        ids.dedup();
        let persons = store.persons_by_ids(access, &ids).await.map_err(Arc::new)?;
        let doses = store.doses_for(access, &ids).await.map_err(Arc::new)?;
        let findings = store
            .contraindications_for(access, &ids)
            .await
            .map_err(Arc::new)?;
        // Grouped once: a roster asks for a thousand persons' forecasts in one batch.
        let persons: HashMap<Uuid, person::Model> =
            persons.into_iter().map(|p| (p.id, p)).collect();
        let mut doses_of: HashMap<Uuid, Vec<dose::Model>> = HashMap::new();
        for d in doses {
            doses_of.entry(d.person_id).or_default().push(d);
        }
        let mut findings_of: HashMap<Uuid, Vec<contraindication::Model>> = HashMap::new();
        for f in findings {
            findings_of.entry(f.person_id).or_default().push(f);
        }
        let mut out = HashMap::new();
        for key in keys {
            let Some(p) = persons.get(&key.person) else {
                continue;
            };
            let mine = doses_of.get(&p.id).map_or(&[][..], Vec::as_slice);
            let theirs = findings_of.get(&p.id).map_or(&[][..], Vec::as_slice);
            out.insert(
                *key,
                Arc::new(compute(schedule, p, mine, theirs, key.as_of)),
            );
        }
        Ok(out)
    }
}
