//! Patient matching for izgraph: deciding whether a submitted record (an HL7 message, a
//! vital-records birth line, a `createPerson` input) is a person the registry already holds.
//!
//! The pipeline is the registry community's (AIRA/MIROW patient-matching practice): normalize
//! ([`normalize`]), find candidates by blocking keys a database index serves ([`blocking_keys`]),
//! compare field by field into agreement levels ([`compare`]), add Fellegi–Sunter weights whose
//! m/u-probabilities are estimated from the registry's own pairs by EM ([`model`]), place the
//! score between two configured thresholds, and let the registry guards overrule the score
//! where a fact settles it (twins, identifiers from an authority that issues one per person).
//!
//! Pure: no I/O, no clock, no randomness; any input gets a decision, nothing panics.

pub mod blocking;
pub mod calibrate;
pub mod compare;
pub mod config;
mod defaults;
pub mod error;
pub mod guard;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod pairs;
pub mod prepared;
pub mod record;
pub mod ssn;
pub mod tally;

pub use blocking::{blocking_keys, BlockingKey};
pub use compare::{compare, Comparison, Field};
pub use config::{MatchConfig, Thresholds, UniqueAuthority};
pub use error::IdentityError;
pub use guard::Guard;
pub use matcher::{Decision, MatchOutcome, Matcher};
pub use model::{estimate, Estimate, Model};
pub use prepared::PreparedRecord;
pub use record::{
    Address, Gender, Identifier, IdentifierKind, MultipleBirth, PersonName, PersonRecord,
};
pub use ssn::SsnKey;
