//! Forecasts from the CDSi engine for the persons a request reads.
//!
//! A forecast is computed from the person's stored doses and contraindications on an
//! assessment date, in a batch through the request's loader, from the person records as they
//! are now. Results are kept (in the gateway's [`crate::ForecastCache`], bounded in bytes) per
//! person and date with exactly the inputs they were computed from, and one is served only
//! when those equal the record's: any write to the person's
//! doses, contraindications, date of birth or gender makes the kept forecast unusable, on this
//! instance or any other, and no invalidation message is needed.

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
    /// The rest of what the engine read: the patient and each dose's manufacturer.
    born: (NaiveDate, Gender),
    mvx: Vec<Option<String>>,
}

impl PersonForecast {
    /// The bytes `mvx` allocated (for the kept forecasts' weight).
    pub(crate) fn mvx_bytes(&self) -> usize {
        self.mvx.capacity() * std::mem::size_of::<Option<String>>()
            + self
                .mvx
                .iter()
                .map(|m| m.as_ref().map_or(0, String::capacity))
                .sum::<usize>()
    }

    /// Whether this forecast was computed from exactly these inputs (compared, not hashed:
    /// no collision can serve a forecast for other data).
    fn computed_from(
        &self,
        p: &person::Model,
        doses: &[dose::Model],
        findings: &[contraindication::Model],
    ) -> bool {
        self.born == (p.date_of_birth, p.gender)
            && self.dose_ids.len() == doses.len()
            && doses.iter().enumerate().all(|(i, d)| {
                self.dose_ids[i] == d.id
                    && self.doses_given[i].0 == d.date_given
                    && self.doses_given[i].1 == d.cvx
                    && self.mvx[i] == d.mvx
            })
            && self.findings == findings
    }

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
        born: (p.date_of_birth, p.gender),
        mvx: doses.iter().map(|d| d.mvx.clone()).collect(),
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
            let forecast = match self.forecasts.get(key) {
                Some(f) if f.computed_from(&r.person, &r.doses, &r.contraindications) => f,
                _ => {
                    let f = Arc::new(compute(
                        schedule,
                        &r.person,
                        &r.doses,
                        &r.contraindications,
                        key.as_of,
                    ));
                    self.forecasts.insert(*key, f.clone());
                    f
                }
            };
            out.insert(*key, forecast);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use entities::codes::{ContraindicationKind, Gender, Participation};
    use entities::model::{contraindication, dose, person};
    use uuid::Uuid;

    use super::compute;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn child() -> person::Model {
        person::Model {
            id: Uuid::now_v7(),
            first_name: "Ada".into(),
            middle_name: None,
            last_name: "Berg".into(),
            first_name_key: "ADA".into(),
            last_name_key: "BERG".into(),
            date_of_birth: date(2024, 1, 10),
            gender: Gender::Female,
            address_line1: None,
            address_line2: None,
            city: None,
            state: None,
            postal_code: None,
            phone: None,
            email: None,
            participation: Participation::Participating,
            locked_to_org_id: None,
            reminders: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            status: entities::codes::PersonStatus::Active,
            status_date: None,
            mother_maiden_name: None,
            multiple_birth: None,
            birth_order: None,
            merged_into: None,
        }
    }

    fn shot(p: &person::Model, cvx: &str, given: NaiveDate) -> dose::Model {
        dose::Model {
            id: Uuid::now_v7(),
            person_id: p.id,
            cvx: cvx.into(),
            date_given: given,
            mvx: Some("MSD".into()),
            lot_number: None,
            site: None,
            route: None,
            administered_by_org_id: None,
            reported_by_org_id: None,
            recorded_by: "test".into(),
            recorded_at: Utc::now(),
        }
    }

    /// A kept forecast is reused only for the very inputs it was computed from: each input the
    /// engine reads, changed alone, makes it unusable; what it does not read does not.
    #[test]
    fn a_kept_forecast_matches_only_its_own_inputs() {
        let schedule = forecast::Schedule::embedded().expect("schedule");
        let p = child();
        let doses = vec![
            shot(&p, "08", date(2024, 1, 10)),
            shot(&p, "20", date(2024, 3, 12)),
        ];
        let finding = contraindication::Model {
            id: Uuid::now_v7(),
            person_id: p.id,
            kind: ContraindicationKind::Immunity,
            vaccine_group: Some("Varicella".into()),
            reason: None,
            recorded_at: Utc::now(),
            expires_on: None,
            recorded_by: "test".into(),
            documented_by: None,
            disease_on: None,
        };
        let findings = vec![finding.clone()];
        let kept = compute(schedule, &p, &doses, &findings, date(2026, 12, 1));
        assert!(kept.computed_from(&p, &doses, &findings));

        let mut renamed = p.clone();
        renamed.last_name = "Lind".into();
        assert!(
            kept.computed_from(&renamed, &doses, &findings),
            "names are not inputs"
        );

        let mut older = p.clone();
        older.date_of_birth = date(2023, 12, 1);
        let mut male = p.clone();
        male.gender = Gender::Male;
        assert!(
            !kept.computed_from(&older, &doses, &findings),
            "date of birth"
        );
        assert!(!kept.computed_from(&male, &doses, &findings), "gender");

        let mut changed = doses.clone();
        changed[1].date_given = date(2024, 3, 13);
        assert!(
            !kept.computed_from(&p, &changed, &findings),
            "a dose's date"
        );
        let mut changed = doses.clone();
        changed[1].cvx = "10".into();
        assert!(!kept.computed_from(&p, &changed, &findings), "a dose's CVX");
        let mut changed = doses.clone();
        changed[0].mvx = None;
        assert!(!kept.computed_from(&p, &changed, &findings), "a dose's MVX");
        let mut more = doses.clone();
        more.push(shot(&p, "10", date(2024, 5, 1)));
        assert!(!kept.computed_from(&p, &more, &findings), "a new dose");
        assert!(
            !kept.computed_from(&p, &doses[..1], &findings),
            "a deleted dose"
        );

        let mut expiring = finding.clone();
        expiring.expires_on = Some(date(2027, 1, 1));
        assert!(
            !kept.computed_from(&p, &doses, &[expiring]),
            "a finding's expiry"
        );
        assert!(!kept.computed_from(&p, &doses, &[]), "a removed finding");
    }
}
