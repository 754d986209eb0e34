//! Forecasts from the CDSi engine for the persons a request reads.
//!
//! A forecast is computed from the person's stored doses and contraindications on an
//! assessment date, in a batch through the request's loader, from the person records as they
//! are now. Results are kept per person and date under a fingerprint of exactly the inputs
//! they were computed from: any write to the person's doses, contraindications, date of birth
//! or gender changes the fingerprint, so a kept forecast is never served for changed data,
//! on this instance or any other, and no invalidation message is needed.

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

/// Forecasts kept across requests: `(person, as of)` → (fingerprint of the inputs, forecast).
/// Data only — whoever reads one has just been authorized for the record it came from.
type Kept = moka::sync::Cache<ForecastOf, (u64, Arc<PersonForecast>)>;

fn kept() -> &'static Kept {
    static KEPT: std::sync::OnceLock<Kept> = std::sync::OnceLock::new();
    KEPT.get_or_init(|| {
        moka::sync::Cache::builder()
            .max_capacity(200_000)
            .time_to_live(std::time::Duration::from_secs(3600))
            .build()
    })
}

/// A fingerprint of everything [`compute`] reads.
fn fingerprint(
    p: &person::Model,
    doses: &[dose::Model],
    findings: &[contraindication::Model],
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (p.id, p.date_of_birth, p.gender.as_str()).hash(&mut h);
    for d in doses {
        (d.id, d.date_given, &d.cvx, &d.mvx).hash(&mut h);
    }
    for f in findings {
        (f.id, f.kind.as_str(), &f.vaccine_group, f.expires_on).hash(&mut h);
    }
    h.finish()
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
        // One read of the records (from the record cache when fresh) for the whole batch.
        let records = store
            .visible_records(access, &ids)
            .await
            .map_err(Arc::new)?;
        let mut out = HashMap::new();
        for key in keys {
            let Some(r) = records.get(&key.person) else {
                continue;
            };
            let print = fingerprint(&r.person, &r.doses, &r.contraindications);
            let forecast = match kept().get(key) {
                Some((p, f)) if p == print => f,
                _ => {
                    let f = Arc::new(compute(
                        schedule,
                        &r.person,
                        &r.doses,
                        &r.contraindications,
                        key.as_of,
                    ));
                    kept().insert(*key, (print, f.clone()));
                    f
                }
            };
            out.insert(*key, forecast);
        }
        Ok(out)
    }
}
