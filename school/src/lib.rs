//! # izgraph school: immunization requirements for schools and child care, as data
//!
//! A jurisdiction's requirements live in one file (`requirements/<state>.toml`, Minnesota
//! first), each rule citing its source, so a second state is a new file rather than new code.
//! [`Requirements`] loads and validates such a file against the forecasting schedule once, at
//! start-up: an unknown vaccine group, CVX code or grade, or a malformed rule, is an error
//! that names the rule, so a bad file stops the gateway instead of misjudging students.
//!
//! [`Requirements::evaluate`] is pure: it takes a student's grade, date of birth, exemptions
//! and the forecasting engine's verdict on their history, and a check date. Only doses the
//! engine evaluated as valid count; child-care checks use the engine's past-due dates.

mod compile;
mod compliance;
mod evaluate;
mod evidence;
mod file;
mod grades;
mod requirements;

pub use compliance::{Compliance, ComplianceStatus, Exemption, ExemptionKind, RequirementStatus};
pub use evaluate::{EvaluatedDose, Student};
pub use evidence::{Documenter, ImmunityEvidence};
pub use grades::GRADES;
pub use requirements::{Requirements, RequirementsError, EMBEDDED};
