//! The CDSi test case format (as in `shared/cdsi/cases/*.json`) and the pass rule:
//! for the case's vaccine group at its assessment date, every dose's evaluation
//! status, the series status, the forecast dose number and the earliest, recommended
//! and past-due dates must equal the expected ones. File I/O is the caller's.

use crate::types::{EvaluationStatus, Gender, ObservationDate, Patient, PatientDose, SeriesStatus};
use crate::vaccine_group::VaccineGroup;
use crate::{forecast_with_dates, Schedule};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub dob: NaiveDate,
    pub gender: String,
    pub assessment_date: NaiveDate,
    pub vaccine_group: String,
    #[serde(default)]
    pub observations: Vec<CaseObservation>,
    #[serde(default)]
    pub doses: Vec<CaseDose>,
    pub expected: CaseExpected,
    #[serde(default)]
    pub evaluation_test_type: Option<String>,
    #[serde(default)]
    pub forecast_test_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseObservation {
    pub code: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseDose {
    pub date_administered: NaiveDate,
    pub cvx: String,
    #[serde(default)]
    pub mvx: Option<String>,
    #[serde(default)]
    pub vaccine_name: Option<String>,
    pub evaluation_status: String,
    #[serde(default)]
    pub evaluation_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseExpected {
    pub series_status: String,
    #[serde(default)]
    pub forecast_number: Option<String>,
    #[serde(default)]
    pub earliest_date: Option<NaiveDate>,
    #[serde(default)]
    pub recommended_date: Option<NaiveDate>,
    #[serde(default)]
    pub past_due_date: Option<NaiveDate>,
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub vaccine_group: Option<VaccineGroup>,
    pub passed: bool,
    pub differences: Vec<String>,
}

impl Case {
    /// The patient the case describes.
    pub fn patient(&self) -> Patient {
        Patient {
            date_of_birth: self.dob,
            gender: match self.gender.trim().to_ascii_uppercase().as_str() {
                "F" | "FEMALE" => Gender::Female,
                "M" | "MALE" => Gender::Male,
                _ => Gender::Unknown,
            },
            doses: self
                .doses
                .iter()
                .map(|d| PatientDose {
                    date_given: d.date_administered,
                    cvx: d.cvx.clone(),
                    mvx: d.mvx.clone(),
                })
                .collect(),
            observations: self.observations.iter().map(|o| o.code.clone()).collect(),
        }
    }
}

impl Case {
    /// The dated observations of the case (e.g. code 171, date of transplant).
    pub fn observation_dates(&self) -> Vec<ObservationDate> {
        self.observations
            .iter()
            .filter_map(|o| {
                o.date.map(|date| ObservationDate {
                    code: o.code.clone(),
                    date,
                })
            })
            .collect()
    }
}

/// Normalizes a status for comparison: lower case, no spaces, hyphens or underscores.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn eval_str(s: Option<EvaluationStatus>) -> &'static str {
    s.map_or("(not evaluated)", EvaluationStatus::as_str)
}

/// Runs a case and compares with its expectations (the README's pass rule).
pub fn check_case(schedule: &Schedule, case: &Case) -> CaseResult {
    let mut differences = Vec::new();
    let group = VaccineGroup::from_name(&case.vaccine_group);
    let Some(group) = group else {
        return CaseResult {
            id: case.id.clone(),
            vaccine_group: None,
            passed: false,
            differences: vec![format!("unknown vaccine group {:?}", case.vaccine_group)],
        };
    };
    let result = forecast_with_dates(
        schedule,
        &case.patient(),
        &case.observation_dates(),
        case.assessment_date,
    );
    let statuses = result.dose_status_for_group(schedule, group);
    // Doses without the group's antigens are judged by their own antigens.
    let statuses: Vec<Option<EvaluationStatus>> = statuses
        .iter()
        .zip(&result.doses)
        .map(|(s, d)| s.or((!d.per_antigen.is_empty()).then_some(d.status)))
        .collect();
    for (i, (d, got)) in case.doses.iter().zip(&statuses).enumerate() {
        if normalize(&d.evaluation_status) != normalize(eval_str(*got)) {
            differences.push(format!(
                "dose {} ({} cvx {}): expected {}, got {}",
                i + 1,
                d.date_administered,
                d.cvx,
                d.evaluation_status,
                eval_str(*got)
            ));
        }
    }
    match result.group(group) {
        None => differences.push(format!("no forecast for {}", group.name())),
        Some(g) => {
            if normalize(&case.expected.series_status) != normalize(g.status.as_str()) {
                differences.push(format!(
                    "series status: expected {}, got {}",
                    case.expected.series_status,
                    g.status.as_str()
                ));
            }
            let expected_number = case
                .expected
                .forecast_number
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "-")
                .map(|s| s.parse::<u32>().ok());
            let got_number = g.dose_number;
            let number_matches = match expected_number {
                None => got_number.is_none() || g.status != SeriesStatus::NotComplete,
                Some(e) => e == got_number,
            };
            if !number_matches {
                differences.push(format!(
                    "forecast number: expected {:?}, got {:?}",
                    case.expected.forecast_number, got_number
                ));
            }
            for (name, e, got) in [
                ("earliest", case.expected.earliest_date, g.earliest_date),
                (
                    "recommended",
                    case.expected.recommended_date,
                    g.recommended_date,
                ),
                ("past due", case.expected.past_due_date, g.past_due_date),
            ] {
                if e != got {
                    differences.push(format!("{name} date: expected {e:?}, got {got:?}"));
                }
            }
        }
    }
    CaseResult {
        id: case.id.clone(),
        vaccine_group: Some(group),
        passed: differences.is_empty(),
        differences,
    }
}

/// Pass counts of a suite, overall and per vaccine group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: usize,
    pub total: usize,
    /// Keyed by the vaccine group's canonical name (or the case's spelling if unknown).
    pub per_group: BTreeMap<String, (usize, usize)>,
}

impl Summary {
    pub fn add(&mut self, case: &Case, result: &CaseResult) {
        let key = result
            .vaccine_group
            .map_or_else(|| case.vaccine_group.clone(), |g| g.name().to_string());
        let e = self.per_group.entry(key).or_default();
        e.1 += 1;
        self.total += 1;
        if result.passed {
            e.0 += 1;
            self.passed += 1;
        }
    }

    /// Overall pass rate in `[0, 1]` (1 for an empty suite).
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (g, (p, t)) in &self.per_group {
            writeln!(
                f,
                "  {g:<24} {p:>4}/{t:<4} {:>6.1}%",
                100.0 * *p as f64 / *t as f64
            )?;
        }
        write!(
            f,
            "  {:<24} {:>4}/{:<4} {:>6.2}%",
            "OVERALL",
            self.passed,
            self.total,
            100.0 * self.rate()
        )
    }
}

/// Runs every case and summarizes.
pub fn check_cases<'a>(
    schedule: &Schedule,
    cases: impl IntoIterator<Item = &'a Case>,
) -> (Summary, Vec<CaseResult>) {
    let mut summary = Summary::default();
    let mut results = Vec::new();
    for c in cases {
        let r = check_case(schedule, c);
        summary.add(c, &r);
        results.push(r);
    }
    (summary, results)
}
