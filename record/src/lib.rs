//! The public's own record, pure: what a parent or an adult holds.
//!
//! - [`OfficialRecord`] is the content of the official immunization record (identity, every
//!   valid dose by vaccine group, the school-entry requirement status, immunity and
//!   exemptions, issue date, registry); [`pdf::render`] typesets it with fonts embedded.
//! - [`shc`] makes and checks SMART Health Cards: a minimized FHIR R4 bundle, raw DEFLATE,
//!   a compact JWS signed ES256, the `shc:/` numeric form and its QR code.
//!
//! No I/O and no clock: the caller passes the date of issue and the signing key.

pub mod pdf;
pub mod shc;

use chrono::NaiveDate;

/// What the official record says, already filtered by the access policy.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficialRecord {
    /// The registry's name, printed as the issuer.
    pub registry: String,
    /// The jurisdiction whose school requirements are shown (e.g. `MN`).
    pub jurisdiction: String,
    pub issued_on: NaiveDate,
    pub person: PersonIdentity,
    /// Valid doses grouped by vaccine group, groups in display order.
    pub groups: Vec<VaccineGroupDoses>,
    /// `None` when no school requirement applies (an adult).
    pub school: Option<SchoolStatus>,
    /// Recorded immunity (vaccine group and how it was documented).
    pub immunity: Vec<Finding>,
    /// Medical and non-medical exemptions on file.
    pub exemptions: Vec<Finding>,
    /// The SMART Health Card as `shc:/` numeric text, printed as a QR code when present.
    pub card_qr: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonIdentity {
    pub record_id: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub gender: Option<String>,
}

impl PersonIdentity {
    /// "First Middle Last".
    pub fn full_name(&self) -> String {
        [
            Some(self.first_name.as_str()),
            self.middle_name.as_deref(),
            Some(self.last_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaccineGroupDoses {
    pub group: String,
    pub doses: Vec<DoseLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseLine {
    pub date: NaiveDate,
    pub cvx: String,
    pub vaccine: String,
    /// The administering organization, when known and readable.
    pub organization: Option<String>,
    pub lot_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolStatus {
    /// The grade the status is judged for (`K`, `7`, `CC`).
    pub grade: String,
    /// Overall status (`COMPLIANT`, `IN_PROGRESS`, `EXEMPT`, `NOT_COMPLIANT`).
    pub status: String,
    pub requirements: Vec<RequirementLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementLine {
    pub vaccine: String,
    pub doses_counted: u32,
    pub doses_required: u32,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub vaccine_group: Option<String>,
    pub detail: String,
}
