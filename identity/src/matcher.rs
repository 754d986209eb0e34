//! The three-way decision: score the pair, place the score between the thresholds, then let
//! the guards lower it.

use serde::{Deserialize, Serialize};

use crate::compare::{compare, Comparison};
use crate::config::MatchConfig;
use crate::error::IdentityError;
use crate::guard::{self, Guard};
use crate::prepared::PreparedRecord;
use crate::record::PersonRecord;

/// What to do with a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Decision {
    /// One person: link automatically.
    Match,
    /// Perhaps one person: a person reviews the pair.
    Possible,
    /// Two people: the submission is a new person.
    NoMatch,
}

impl Decision {
    /// The spelling of the registry community's test tool (`Match`, `Possible Match`,
    /// `Not a Match`).
    pub fn label(self) -> &'static str {
        match self {
            Decision::Match => "Match",
            Decision::Possible => "Possible Match",
            Decision::NoMatch => "Not a Match",
        }
    }
}

/// A decision with what it rests on.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchOutcome {
    pub decision: Decision,
    /// Total weight in bits.
    pub score: f64,
    pub comparison: Comparison,
    /// The guard that applies to the pair, if one does: it caps the decision (at `NoMatch` or
    /// `Possible`) whatever the score.
    pub guard: Option<Guard>,
}

/// The configured engine.
#[derive(Clone, Debug)]
pub struct Matcher {
    config: MatchConfig,
}

impl Matcher {
    /// An engine with a validated configuration.
    pub fn new(config: MatchConfig) -> Result<Self, IdentityError> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The configuration in use.
    pub fn config(&self) -> &MatchConfig {
        &self.config
    }

    /// Decides a pair of records.
    pub fn decide(&self, a: &PersonRecord, b: &PersonRecord) -> MatchOutcome {
        self.decide_prepared(&PreparedRecord::new(a), &PreparedRecord::new(b))
    }

    /// Decides a pair of already normalized records (one submission against many candidates).
    pub fn decide_prepared(&self, a: &PreparedRecord, b: &PreparedRecord) -> MatchOutcome {
        let comparison = compare(a, b);
        let score = self.config.model.score(&comparison);
        let t = &self.config.thresholds;
        let by_score = if score >= t.match_at {
            Decision::Match
        } else if score >= t.possible_at {
            Decision::Possible
        } else {
            Decision::NoMatch
        };
        let guard = guard::check(a, b, &comparison, &self.config.unique_authorities);
        let decision = match guard {
            Some(g) if g.excludes() => Decision::NoMatch,
            Some(_) if by_score == Decision::Match => Decision::Possible,
            _ => by_score,
        };
        MatchOutcome {
            decision,
            score,
            comparison,
            guard,
        }
    }
}
