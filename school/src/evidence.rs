//! Documented immunity (a history of disease, laboratory evidence) as a school rule reads it:
//! who documented it and when the disease occurred, since a jurisdiction may accept a
//! parent's word only for disease before a date.

use chrono::NaiveDate;
use forecast::VaccineGroup;

/// Who documented the immunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Documenter {
    /// A physician, APRN or PA (a medically diagnosed or provider-verified history).
    Provider,
    /// A parent or guardian's signed statement of the child's history.
    Parent,
    /// Laboratory evidence of immunity or confirmation of disease.
    Laboratory,
}

/// Evidence of immunity to a vaccine group on file for the student.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImmunityEvidence {
    pub group: VaccineGroup,
    pub documented_by: Documenter,
    /// When the disease occurred, if known.
    pub disease_on: Option<NaiveDate>,
}
