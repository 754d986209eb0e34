//! The answer for one student: per requirement and overall.

use std::sync::Arc;

use chrono::NaiveDate;
use forecast::VaccineGroup;

/// A requirement's (or a student's) standing. The order is "worse last": a student's overall
/// status is the worst of their requirements'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComplianceStatus {
    /// Every requirement met.
    Compliant,
    /// Every unmet requirement is covered by an exemption.
    Exempt,
    /// Some doses missing, none past due (the child is on schedule), or a started series
    /// within the completion window after enrollment.
    InProgress,
    /// A required dose is missing and past due (or cannot be scheduled), with no exemption.
    NotCompliant,
}

impl ComplianceStatus {
    pub const ALL: [ComplianceStatus; 4] = [
        ComplianceStatus::Compliant,
        ComplianceStatus::InProgress,
        ComplianceStatus::Exempt,
        ComplianceStatus::NotCompliant,
    ];

    /// The GraphQL and CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceStatus::Compliant => "COMPLIANT",
            ComplianceStatus::Exempt => "EXEMPT",
            ComplianceStatus::InProgress => "IN_PROGRESS",
            ComplianceStatus::NotCompliant => "NOT_COMPLIANT",
        }
    }
}

/// The kind of a school exemption; schools see the kind, never the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExemptionKind {
    /// Signed by a physician, APRN or PA: a contraindication or evidence of immunity.
    Medical,
    /// Conscientious objection, notarized.
    NonMedical,
}

impl ExemptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExemptionKind::Medical => "MEDICAL",
            ExemptionKind::NonMedical => "NON_MEDICAL",
        }
    }
}

/// An exemption on file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exemption {
    pub kind: ExemptionKind,
    /// `None`: every vaccine group.
    pub group: Option<VaccineGroup>,
    pub expires_on: Option<NaiveDate>,
}

impl Exemption {
    /// An exemption recorded for a vaccine group by name (`None`: all groups). A name the
    /// engine does not know gives `None`: such an exemption covers nothing, and in particular
    /// must not be mistaken for one covering every group.
    pub fn for_group_name(
        kind: ExemptionKind,
        group: Option<&str>,
        expires_on: Option<NaiveDate>,
    ) -> Option<Exemption> {
        let group = match group {
            None => None,
            Some(name) => Some(VaccineGroup::from_name(name)?),
        };
        Some(Exemption {
            kind,
            group,
            expires_on,
        })
    }

    /// Whether it is in force on `on` and covers `group`.
    pub(crate) fn covers(&self, group: VaccineGroup, on: NaiveDate) -> bool {
        self.expires_on.is_none_or(|e| e >= on) && self.group.is_none_or(|g| g == group)
    }
}

/// One requirement's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementStatus {
    /// The requirement's vaccine name as the requirements file spells it (`DTaP`, `MenACWY`).
    pub vaccine: Arc<str>,
    /// The rule's id in the file.
    pub rule: Arc<str>,
    pub doses_counted: u32,
    pub doses_required: u32,
    pub status: ComplianceStatus,
    /// For `Exempt`: which kind covers it.
    pub exemption: Option<ExemptionKind>,
    /// For an unmet requirement that is not exempt: the engine's date for the next dose.
    pub next_due_date: Option<NaiveDate>,
    /// For `InProgress`: the last day it stays in progress without another dose (the day
    /// before the engine's past-due date, or the last day of the completion window after
    /// enrollment for a started series, whichever is later); `None` when neither applies.
    pub in_progress_until: Option<NaiveDate>,
}

/// A student's standing against every requirement of their grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    pub status: ComplianceStatus,
    pub requirements: Vec<RequirementStatus>,
    /// For `InProgress`: the earliest of the in-progress requirements' last days.
    pub in_progress_until: Option<NaiveDate>,
}
