//! The requirements file as written (TOML). Unknown keys are refused, so a misspelt condition
//! is an error at load rather than a silently ignored rule.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequirementsFile {
    /// Two-letter code, e.g. `MN`.
    pub jurisdiction: String,
    pub name: String,
    /// Days before a birthday a dose may be given and still meet a birthday condition.
    #[serde(default)]
    pub grace_days: u32,
    /// How long after enrollment a child who has started a series may complete it.
    pub completion: Option<CompletionData>,
    pub vaccines: BTreeMap<String, VaccineData>,
    #[serde(rename = "rule")]
    pub rules: Vec<RuleData>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompletionData {
    /// An age-like span, e.g. `"18 months"`.
    pub window: String,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VaccineData {
    /// The forecasting engine's vaccine group.
    pub group: String,
    /// When only some vaccines of the group count: their CVX codes.
    pub cvx: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CheckData {
    /// A number of valid doses (K–12).
    #[default]
    Doses,
    /// No dose past due by the forecast (child care, early childhood).
    UpToDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleData {
    pub id: String,
    #[serde(default)]
    pub check: CheckData,
    pub grades: Vec<String>,
    pub source: String,
    /// The ages on the check date the rule applies at (default: every age).
    pub ages: Option<AgesData>,
    /// `doses` check: the vaccine.
    pub vaccine: Option<String>,
    /// `up_to_date` check: the vaccines.
    pub vaccines: Option<Vec<String>>,
    pub doses: Option<u32>,
    /// Conditions the full number of doses must also meet.
    #[serde(default)]
    pub also: Vec<ConditionData>,
    /// Fewer doses that suffice under a condition, or on an alternate schedule.
    #[serde(default)]
    pub fewer: Vec<FewerData>,
    /// Only doses given on or after this birthday count.
    pub count_from_birthday: Option<u32>,
    /// Documented immunity that meets the requirement instead of doses.
    #[serde(default)]
    pub immunity: Vec<ImmunityData>,
}

/// `{ from = "2 months", before = "2 years" }`: either bound may be left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgesData {
    pub from: Option<String>,
    pub before: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FewerData {
    pub doses: u32,
    pub when: Option<ConditionData>,
    /// Only doses of these CVX codes count towards this alternative.
    pub cvx: Option<Vec<String>>,
    /// Only doses given at these ages count towards this alternative.
    pub given_at: Option<AgesData>,
    pub source: String,
}

/// Either `{ dose = N, on_or_after_birthday = Y }` or `{ age_at_least = Y }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionData {
    pub dose: Option<u32>,
    pub on_or_after_birthday: Option<u32>,
    pub age_at_least: Option<u32>,
}

/// Who may document immunity, and for a history of disease, before when it must have
/// occurred.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImmunityData {
    pub documented_by: Vec<DocumenterData>,
    /// The disease must have occurred before this date (`"YYYY-MM-DD"`).
    pub disease_before: Option<NaiveDate>,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DocumenterData {
    Provider,
    Parent,
    Laboratory,
}
