//! A jurisdiction's requirements as [`Requirements::evaluate`] runs on them, and loading one
//! from its file (the checks themselves are in `compile`).

use std::sync::Arc;

use forecast::{Antigen, Schedule, VaccineGroup};

use crate::compile::compile;
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

/// One way of meeting a dose requirement: this many doses, with these conditions.
#[derive(Debug, Clone)]
pub(crate) struct DoseOption {
    pub doses: u32,
    pub conditions: Vec<Condition>,
}

#[derive(Debug)]
pub(crate) enum Check {
    Doses {
        vaccine: usize,
        /// The full requirement first, then the fewer-dose alternatives.
        options: Vec<DoseOption>,
        count_from_birthday: Option<u32>,
        immunity_meets: bool,
    },
    UpToDate {
        vaccines: Vec<usize>,
    },
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub id: Arc<str>,
    pub grades: Vec<String>,
    pub check: Check,
}

/// A jurisdiction's validated requirements.
#[derive(Debug)]
pub struct Requirements {
    pub(crate) jurisdiction: String,
    pub(crate) name: String,
    pub(crate) grace_days: u32,
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
}
