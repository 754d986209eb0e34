//! Public input and output types of the engine.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub use crate::vaccine_group::VaccineGroup;

/// Administrative gender, as CDSi uses it for series selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    Female,
    Male,
    Unknown,
}

/// One administered dose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientDose {
    pub date_given: NaiveDate,
    /// CVX code, e.g. `"08"` or `"110"` (leading zeros are not significant).
    pub cvx: String,
    /// MVX manufacturer code (e.g. `"SKB"`); only used where the schedule limits a
    /// preferable vaccine to a manufacturer.
    pub mvx: Option<String>,
}

/// The patient: everything the engine needs; nothing is read from elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub date_of_birth: NaiveDate,
    pub gender: Gender,
    pub doses: Vec<PatientDose>,
    /// CDSi observation codes (e.g. `"042"` smokes cigarettes, `"080"` adverse
    /// reaction). Leading zeros are not significant; unknown codes are ignored.
    pub observations: Vec<String>,
}

/// The status of a patient series / vaccine group at the assessment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SeriesStatus {
    NotComplete,
    Complete,
    Immune,
    Contraindicated,
    AgedOut,
    NotRecommended,
}

impl SeriesStatus {
    /// The CDSi spelling ("Not Complete", "Aged Out", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesStatus::NotComplete => "Not Complete",
            SeriesStatus::Complete => "Complete",
            SeriesStatus::Immune => "Immune",
            SeriesStatus::Contraindicated => "Contraindicated",
            SeriesStatus::AgedOut => "Aged Out",
            SeriesStatus::NotRecommended => "Not Recommended",
        }
    }
}

/// The evaluation status of one administered dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EvaluationStatus {
    Valid,
    NotValid,
    SubStandard,
    Extraneous,
}

impl EvaluationStatus {
    /// The CDSi spelling ("Valid", "Not Valid", "Sub standard", "Extraneous").
    pub fn as_str(self) -> &'static str {
        match self {
            EvaluationStatus::Valid => "Valid",
            EvaluationStatus::NotValid => "Not Valid",
            EvaluationStatus::SubStandard => "Sub standard",
            EvaluationStatus::Extraneous => "Extraneous",
        }
    }

    /// Precedence when one dose has several antigen statuses: a problem with any
    /// antigen makes the dose not valid; otherwise it is valid if it counted for any.
    pub(crate) fn rank(self) -> u8 {
        match self {
            EvaluationStatus::NotValid => 3,
            EvaluationStatus::SubStandard => 2,
            EvaluationStatus::Valid => 1,
            EvaluationStatus::Extraneous => 0,
        }
    }
}

/// An antigen of the schedule (index into the schedule; name via
/// [`crate::Schedule::antigen_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Antigen(pub u8);

/// The forecast of one vaccine group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaccineGroupForecast {
    pub vaccine_group: VaccineGroup,
    pub status: SeriesStatus,
    /// Number of the next target dose (1-based), when one is due.
    pub dose_number: Option<u32>,
    pub earliest_date: Option<NaiveDate>,
    pub recommended_date: Option<NaiveDate>,
    pub past_due_date: Option<NaiveDate>,
    pub latest_date: Option<NaiveDate>,
    /// Preferable CVX codes for the next dose.
    pub vaccines: Vec<String>,
    /// Why the group has its status (static text: no allocation per forecast).
    pub reason: Option<Cow<'static, str>>,
}

/// The evaluation of one administered dose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseEvaluation {
    /// Rolled up over the antigens the dose contains.
    pub status: EvaluationStatus,
    pub reason: Option<Cow<'static, str>>,
    /// One entry per antigen the dose counts for.
    pub per_antigen: Vec<(Antigen, EvaluationStatus, Option<Cow<'static, str>>)>,
}

/// The engine's result for a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientForecast {
    /// One entry per vaccine group of the schedule, in schedule order.
    pub vaccine_groups: Vec<VaccineGroupForecast>,
    /// One entry per input dose, in input order.
    pub doses: Vec<DoseEvaluation>,
}

impl PatientForecast {
    /// The forecast of one vaccine group.
    pub fn group(&self, group: VaccineGroup) -> Option<&VaccineGroupForecast> {
        self.vaccine_groups
            .iter()
            .find(|g| g.vaccine_group == group)
    }

    /// Status of each input dose as judged by the antigens of one vaccine group only
    /// (`None` for doses that do not contain any of its antigens).
    pub fn dose_status_for_group(
        &self,
        schedule: &crate::Schedule,
        group: VaccineGroup,
    ) -> Vec<Option<EvaluationStatus>> {
        self.doses
            .iter()
            .map(|d| {
                d.per_antigen
                    .iter()
                    .filter(|(a, _, _)| schedule.antigen_group(*a) == Some(group))
                    .map(|(_, s, _)| *s)
                    .max_by_key(|s| s.rank())
            })
            .collect()
    }
}
