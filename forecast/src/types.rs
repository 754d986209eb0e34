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

/// The date of an observation, for the intervals CDSi measures from one (e.g. Hib
/// after a stem cell transplant: code `"171"`, date of the transplant; MMR after
/// antiretroviral therapy: code `"120"`, its begin date). See
/// [`crate::forecast_with_dates`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationDate {
    /// CDSi observation code (leading zeros are not significant).
    pub code: String,
    pub date: NaiveDate,
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
    /// Preferable CVX codes for the next dose (static text: no allocation per code).
    pub vaccines: Vec<Cow<'static, str>>,
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
    pub per_antigen: PerAntigen,
}

/// One antigen's verdict on a dose: the antigen, its status and the reason.
pub type AntigenEntry = (Antigen, EvaluationStatus, Option<Cow<'static, str>>);

const PER_ANTIGEN_INLINE: usize = 4;
const EMPTY_ENTRY: AntigenEntry = (Antigen(0), EvaluationStatus::Extraneous, None);

/// The per-antigen verdicts of one dose: a list (it dereferences to a slice of
/// [`AntigenEntry`]) kept inline for the usual handful of antigens, so a forecast
/// does not allocate per dose.
#[derive(Clone)]
pub struct PerAntigen {
    len: u8,
    inline: [AntigenEntry; PER_ANTIGEN_INLINE],
    /// Used instead of `inline` once there are more entries than fit there.
    spill: Vec<AntigenEntry>,
}

impl PerAntigen {
    /// An empty list.
    pub const fn new() -> Self {
        PerAntigen {
            len: 0,
            inline: [EMPTY_ENTRY; PER_ANTIGEN_INLINE],
            spill: Vec::new(),
        }
    }

    /// Appends an entry.
    #[inline]
    pub fn push(&mut self, entry: AntigenEntry) {
        if self.spill.is_empty() && (self.len as usize) < PER_ANTIGEN_INLINE {
            self.inline[self.len as usize] = entry;
            self.len += 1;
        } else {
            self.push_spilled(entry);
        }
    }

    /// [`PerAntigen::push`] past the inline entries.
    #[cold]
    fn push_spilled(&mut self, entry: AntigenEntry) {
        if self.spill.is_empty() {
            let mut v = Vec::with_capacity(PER_ANTIGEN_INLINE * 2);
            for e in &mut self.inline {
                v.push(std::mem::replace(e, EMPTY_ENTRY));
            }
            self.spill = v;
            self.len = 0;
        }
        self.spill.push(entry);
    }

    /// The entries as a slice.
    #[inline]
    pub fn as_slice(&self) -> &[AntigenEntry] {
        if self.spill.is_empty() {
            &self.inline[..self.len as usize]
        } else {
            &self.spill
        }
    }
}

impl Default for PerAntigen {
    fn default() -> Self {
        PerAntigen::new()
    }
}

impl std::ops::Deref for PerAntigen {
    type Target = [AntigenEntry];
    fn deref(&self) -> &[AntigenEntry] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a PerAntigen {
    type Item = &'a AntigenEntry;
    type IntoIter = std::slice::Iter<'a, AntigenEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl From<Vec<AntigenEntry>> for PerAntigen {
    fn from(v: Vec<AntigenEntry>) -> Self {
        v.into_iter().collect()
    }
}

impl FromIterator<AntigenEntry> for PerAntigen {
    fn from_iter<I: IntoIterator<Item = AntigenEntry>>(iter: I) -> Self {
        let mut p = PerAntigen::new();
        for e in iter {
            p.push(e);
        }
        p
    }
}

impl std::fmt::Debug for PerAntigen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl PartialEq for PerAntigen {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for PerAntigen {}

impl Serialize for PerAntigen {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PerAntigen {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<AntigenEntry>::deserialize(deserializer).map(PerAntigen::from)
    }
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
