//! The requirements file as written (TOML). Unknown keys are refused, so a misspelt condition
//! is an error at load rather than a silently ignored rule.

use std::collections::BTreeMap;

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
    pub vaccines: BTreeMap<String, VaccineData>,
    #[serde(rename = "rule")]
    pub rules: Vec<RuleData>,
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
    /// `doses` check: the vaccine.
    pub vaccine: Option<String>,
    /// `up_to_date` check: the vaccines.
    pub vaccines: Option<Vec<String>>,
    pub doses: Option<u32>,
    /// Conditions the full number of doses must also meet.
    #[serde(default)]
    pub also: Vec<ConditionData>,
    /// Fewer doses that suffice under a condition.
    #[serde(default)]
    pub fewer: Vec<FewerData>,
    /// Only doses given on or after this birthday count.
    pub count_from_birthday: Option<u32>,
    /// Recorded or engine-concluded immunity meets the requirement.
    #[serde(default)]
    pub immunity_meets: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FewerData {
    pub doses: u32,
    pub when: ConditionData,
    pub source: Option<String>,
}

/// Either `{ dose = N, on_or_after_birthday = Y }` or `{ age_at_least = Y }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionData {
    pub dose: Option<u32>,
    pub on_or_after_birthday: Option<u32>,
    pub age_at_least: Option<u32>,
}
