//! izgraph's own, serializable schedule format (the JSON files under
//! `forecast/schedule/`). It mirrors the CDSi supporting data's concepts but with
//! typed fields: durations are structured, dates are ISO dates, CVX and observation
//! codes are integers, flags are booleans. The engine never reads this directly: it is
//! compiled into [`crate::Schedule`] once at load.

use crate::duration::Duration;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Schedule-level data (`schedule/schedule.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleData {
    /// Version of the CDC supporting data this schedule was converted from.
    pub cdc_version: String,
    pub live_virus_conflicts: Vec<LiveVirusConflict>,
    pub vaccine_groups: Vec<VaccineGroupData>,
    pub cvx: Vec<CvxData>,
    pub observations: Vec<ObservationData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveVirusConflict {
    pub previous_cvx: u16,
    pub current_cvx: u16,
    pub begin: Duration,
    pub min_end: Duration,
    pub end: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccineGroupData {
    pub name: String,
    pub administer_full_vaccine_group: bool,
    pub antigens: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvxData {
    pub cvx: u16,
    pub description: String,
    pub antigens: Vec<CvxAntigen>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvxAntigen {
    pub antigen: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_age: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationData {
    pub code: u16,
    pub title: String,
}

/// One antigen's data (`schedule/antigens/<name>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntigenData {
    pub antigen: String,
    pub immunity: Immunity,
    pub contraindications: Contraindications,
    pub series: Vec<SeriesData>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Immunity {
    /// Observation codes that are evidence of immunity.
    pub clinical_history: Vec<u16>,
    pub birth_date: Vec<BirthDateImmunity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthDateImmunity {
    /// Patients born before this date are immune.
    pub born_before: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_country: Option<String>,
    /// Observation codes that cancel the birth-date immunity.
    pub exclusions: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contraindications {
    /// Contraindications of the whole antigen.
    pub antigen: Vec<AntigenContraindication>,
    /// Contraindications of specific vaccines.
    pub vaccine: Vec<VaccineContraindication>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntigenContraindication {
    pub code: u16,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_age: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccineContraindication {
    pub code: u16,
    pub title: String,
    pub vaccines: Vec<AgedVaccine>,
}

/// A CVX with an optional age window `[begin_age, end_age)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgedVaccine {
    pub cvx: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_age: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesType {
    Standard,
    Risk,
    EvaluationOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesData {
    pub name: String,
    pub target_disease: String,
    pub vaccine_group: String,
    pub series_type: SeriesType,
    pub equivalent_series_groups: Vec<u32>,
    /// Empty: any gender.
    pub required_gender: Vec<String>,
    pub default_series: bool,
    pub product_path: bool,
    pub series_group_name: String,
    pub series_group: u32,
    pub series_priority: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_preference: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age_to_start: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_to_start: Option<Duration>,
    pub indications: Vec<Indication>,
    pub doses: Vec<SeriesDoseData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indication {
    pub code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_age: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesDoseData {
    pub dose_number: u32,
    pub ages: Vec<AgeData>,
    pub intervals: Vec<IntervalData>,
    pub allowable_intervals: Vec<IntervalData>,
    pub preferable_vaccines: Vec<PreferableVaccine>,
    pub allowable_vaccines: Vec<AgedVaccine>,
    pub inadvertent_vaccines: Vec<u16>,
    pub conditional_skips: Vec<ConditionalSkip>,
    pub recurring: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasonal: Option<Seasonal>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_min: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_rec: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_rec: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cessation: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalData {
    /// Measured from the immediately previous dose administered.
    pub from_previous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_target_dose: Option<u32>,
    /// Measured from the most recent dose of one of these CVX codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_most_recent: Vec<u16>,
    /// Measured from the date of this observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_relevant_obs: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_min: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_rec: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_rec: Option<Duration>,
    /// "override": this interval overrides the age requirements when forecasting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub priority_override: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cessation: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferableVaccine {
    pub cvx: u16,
    pub vaccine_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mvx: Option<String>,
    /// Whether this vaccine is named in the forecast's recommended vaccines.
    pub forecast: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipContext {
    Evaluation,
    Forecast,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Logic {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionalSkip {
    pub context: SkipContext,
    /// How sets combine (a single set when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_logic: Option<Logic>,
    pub sets: Vec<SkipSet>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipSet {
    pub id: u32,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cessation: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_logic: Option<Logic>,
    pub conditions: Vec<SkipCondition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConditionType {
    Age,
    Interval,
    CompletedSeries,
    VaccineCountByAge,
    VaccineCountByDate,
    VaccineCountByDateAndAge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoseCountLogic {
    GreaterThan,
    EqualTo,
    LessThan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipCondition {
    pub id: u32,
    pub kind: ConditionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose_count: Option<u32>,
    /// Count only valid doses (`true`) or all doses (`false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub valid_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose_count_logic: Option<DoseCountLogic>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vaccine_types: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series_groups: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seasonal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
}
