//! Matching configuration: the model's probabilities, the decision thresholds and which
//! identifier authorities are trusted to issue one value per person. All of it is data a
//! registry tunes to its own submissions; the defaults are documented in `README.md`
//! ("Patient matching") with how they were obtained.

use serde::{Deserialize, Serialize};

use crate::error::IdentityError;
use crate::model::Model;
use crate::record::IdentifierKind;

/// Score bounds of the three decisions, in bits of evidence (see [`Model::score`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// From this score on, a pair is linked automatically.
    pub match_at: f64,
    /// From this score on (and below `match_at`), a person reviews the pair.
    pub possible_at: f64,
}

impl Thresholds {
    /// Both finite and `possible_at <= match_at`.
    pub fn validate(&self) -> Result<(), IdentityError> {
        if !self.match_at.is_finite() || !self.possible_at.is_finite() {
            return Err(IdentityError::InvalidThresholds("not finite".into()));
        }
        if self.possible_at > self.match_at {
            return Err(IdentityError::InvalidThresholds(format!(
                "possible_at {} above match_at {}",
                self.possible_at, self.match_at
            )));
        }
        Ok(())
    }
}

/// An assigning authority whose identifiers of one kind are one per person (a registry's own
/// ids, a state Medicaid program, a clinic known to deduplicate its MRNs): two different values
/// from it mean two people, so they block an automatic link whatever the score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueAuthority {
    pub kind: IdentifierKind,
    /// The authority as submitted; compared folded (case, punctuation).
    pub authority: String,
}

/// Everything the engine is configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchConfig {
    pub model: Model,
    pub thresholds: Thresholds,
    /// Authorities trusted to issue one identifier per person. Empty by default: clinics often
    /// issue a second MRN to a child they fail to find (the test tool's MRN_NOT_DEDUPLICATED
    /// scenario), so an MRN conflict alone is weighed, not trusted, unless the registry says so.
    pub unique_authorities: Vec<UniqueAuthority>,
}

impl MatchConfig {
    /// Checks the model and the thresholds.
    pub fn validate(&self) -> Result<(), IdentityError> {
        self.model.validate()?;
        self.thresholds.validate()
    }
}

impl Default for MatchConfig {
    /// The shipped model and thresholds (`src/defaults.rs`).
    fn default() -> Self {
        MatchConfig {
            model: crate::defaults::model(),
            thresholds: crate::defaults::THRESHOLDS,
            unique_authorities: Vec::new(),
        }
    }
}
