//! A jurisdiction's requirements as [`Requirements::evaluate`] runs on them, and loading one
//! from its file (the checks themselves are in `compile`).

use std::sync::Arc;

use chrono::{Months, NaiveDate};
use forecast::{Antigen, Schedule, VaccineGroup};

use crate::compile::compile;
use crate::evidence::Documenter;
use crate::file::RequirementsFile;

/// The requirement files compiled into the crate, by jurisdiction code.
pub const EMBEDDED: &[(&str, &str)] = &[("MN", include_str!("../requirements/minnesota.toml"))];

/// Why a requirements file was refused. Each message names the file's jurisdiction (or
/// origin) and the rule or vaccine at fault, so the operator can fix the file.
#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    #[error("no requirements are built in for jurisdiction `{0}` (built in: {1})")]
    UnknownJurisdiction(String, String),
    #[error("requirements {origin}: {source}")]
    Parse {
        origin: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("requirements {origin}: vaccine `{vaccine}`: unknown vaccine group `{group}`")]
    UnknownVaccineGroup {
        origin: String,
        vaccine: String,
        group: String,
    },
    #[error("requirements {origin}: vaccine `{vaccine}`: CVX `{cvx}` {why}")]
    BadCvx {
        origin: String,
        vaccine: String,
        cvx: String,
        why: &'static str,
    },
    #[error("requirements {origin}: rule `{rule}`: {why}")]
    Malformed {
        origin: String,
        rule: String,
        why: String,
    },
}

/// A vaccine name of the file: the engine's group and, optionally, the CVX codes that count.
#[derive(Debug)]
pub(crate) struct VaccineDef {
    pub name: Arc<str>,
    pub group: VaccineGroup,
    pub antigens: Vec<Antigen>,
    pub cvx: Option<Vec<u16>>,
}

/// A condition on the counted doses or the student's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
    /// The `dose`-th counted dose, or a later one, was given on or after the `years`-th
    /// birthday (less the grace period).
    DoseOnOrAfterBirthday { dose: u32, years: u32 },
    /// The student is at least `years` old on the check date.
    AgeAtLeast { years: u32 },
}

/// An age as the file writes it (`"2 months"`, `"18 years"`), in months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Age {
    pub months: u32,
}

impl Age {
    /// `"N month(s)"` or `"N year(s)"`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Age> {
        let mut words = text.split_whitespace();
        let n: u32 = words.next()?.parse().ok()?;
        let per = match words.next()? {
            "month" | "months" => 1,
            "year" | "years" => 12,
            _ => return None,
        };
        if words.next().is_some() {
            return None;
        }
        Some(Age {
            months: n.checked_mul(per)?,
        })
    }

    /// The date `self` after `start` (a birth or an enrollment); 31 January plus a month is
    /// the end of February, as birthdays are.
    pub fn after(self, start: NaiveDate) -> NaiveDate {
        start
            .checked_add_months(Months::new(self.months))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// Ages from one (inclusive) up to another (exclusive); either bound may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AgeRange {
    pub from: Option<Age>,
    pub before: Option<Age>,
}

impl AgeRange {
    /// Whether someone born on `dob` is within the range on `on`; `grace_days` widens the
    /// lower bound (for doses, as CDSi's absolute minimum ages do).
    pub fn contains(&self, dob: NaiveDate, on: NaiveDate, grace_days: u32) -> bool {
        self.from.is_none_or(|a| {
            on >= a
                .after(dob)
                .checked_sub_days(chrono::Days::new(u64::from(grace_days)))
                .unwrap_or(NaiveDate::MIN)
        }) && self.before.is_none_or(|a| on < a.after(dob))
    }
}

/// One way of meeting a dose requirement: this many doses, with these conditions, counting
/// only doses of these CVX codes and given at these ages when the alternative says so.
#[derive(Debug, Clone)]
pub(crate) struct DoseOption {
    pub doses: u32,
    pub conditions: Vec<Condition>,
    pub cvx: Option<Vec<u16>>,
    pub given_at: Option<AgeRange>,
}

/// Documented immunity that meets a requirement: who may document it and, for a history
/// of disease, the date it must have occurred before.
#[derive(Debug, Clone)]
pub(crate) struct ImmunityRule {
    pub documented_by: Vec<Documenter>,
    pub disease_before: Option<NaiveDate>,
}

#[derive(Debug)]
pub(crate) enum Check {
    Doses {
        vaccine: usize,
        /// The full requirement first, then the fewer-dose alternatives.
        options: Vec<DoseOption>,
        count_from_birthday: Option<u32>,
        immunity: Vec<ImmunityRule>,
    },
    UpToDate {
        vaccines: Vec<usize>,
        /// When not empty: the engine's "immune" counts only with documented immunity these
        /// accept (the engine cannot tell a parent's history from a provider's).
        immunity: Vec<ImmunityRule>,
    },
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub id: Arc<str>,
    pub grades: Vec<String>,
    /// The ages on the check date the rule applies at; `None`: every age.
    pub ages: Option<AgeRange>,
    pub check: Check,
    /// The rule's citation and its alternatives', as the file gives them.
    pub sources: Vec<String>,
}

/// A jurisdiction's validated requirements.
#[derive(Debug)]
pub struct Requirements {
    pub(crate) jurisdiction: String,
    pub(crate) name: String,
    pub(crate) grace_days: u32,
    /// How long after enrollment a started series may be completed.
    pub(crate) completion_window: Option<Age>,
    pub(crate) completion_source: Option<String>,
    pub(crate) vaccines: Vec<VaccineDef>,
    pub(crate) rules: Vec<Rule>,
}

impl Requirements {
    /// The built-in file of `jurisdiction` (e.g. `MN`), validated against `schedule`.
    pub fn embedded(
        jurisdiction: &str,
        schedule: &Schedule,
    ) -> Result<Requirements, RequirementsError> {
        let code = jurisdiction.trim().to_ascii_uppercase();
        let (_, text) = EMBEDDED.iter().find(|(j, _)| *j == code).ok_or_else(|| {
            RequirementsError::UnknownJurisdiction(
                jurisdiction.to_owned(),
                EMBEDDED
                    .iter()
                    .map(|(j, _)| *j)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?;
        Self::parse(text, &format!("{code} (built in)"), schedule)
    }

    /// Parses and validates a requirements file; `origin` (a path or name) is used in errors.
    pub fn parse(
        text: &str,
        origin: &str,
        schedule: &Schedule,
    ) -> Result<Requirements, RequirementsError> {
        let file: RequirementsFile =
            toml::from_str(text).map_err(|e| RequirementsError::Parse {
                origin: origin.to_owned(),
                source: Box::new(e),
            })?;
        compile(file, origin, schedule)
    }

    /// The jurisdiction code the file declares, e.g. `MN`.
    pub fn jurisdiction(&self) -> &str {
        &self.jurisdiction
    }

    /// The jurisdiction's name, e.g. `Minnesota`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many rules the file holds.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Every citation in the file, by rule id (the completion window's under `completion`):
    /// the rule's own first, then its alternatives' and immunity's.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rules
            .iter()
            .flat_map(|r| r.sources.iter().map(move |s| (&*r.id, s.as_str())))
            .chain(
                self.completion_source
                    .iter()
                    .map(|s| ("completion", s.as_str())),
            )
    }
}
