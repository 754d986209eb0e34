//! The roster's GraphQL types: their own structs, converted from the `school` crate's answer.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use crate::inline::Inline;
use policies::Field;
use school::{Compliance, ComplianceStatus, ExemptionKind, RequirementStatus};

use crate::page::PageInfo;
use crate::person::PersonNode;
use crate::scalars::Date;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ComplianceStatus")]
pub enum ComplianceStatusGql {
    Compliant,
    InProgress,
    Exempt,
    NotCompliant,
}

impl From<ComplianceStatus> for ComplianceStatusGql {
    fn from(s: ComplianceStatus) -> Self {
        match s {
            ComplianceStatus::Compliant => ComplianceStatusGql::Compliant,
            ComplianceStatus::InProgress => ComplianceStatusGql::InProgress,
            ComplianceStatus::Exempt => ComplianceStatusGql::Exempt,
            ComplianceStatus::NotCompliant => ComplianceStatusGql::NotCompliant,
        }
    }
}

impl From<ComplianceStatusGql> for ComplianceStatus {
    fn from(s: ComplianceStatusGql) -> Self {
        match s {
            ComplianceStatusGql::Compliant => ComplianceStatus::Compliant,
            ComplianceStatusGql::InProgress => ComplianceStatus::InProgress,
            ComplianceStatusGql::Exempt => ComplianceStatus::Exempt,
            ComplianceStatusGql::NotCompliant => ComplianceStatus::NotCompliant,
        }
    }
}

/// The kind of an exemption; schools see the kind, never the reason.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ExemptionKind")]
pub enum ExemptionKindGql {
    Medical,
    NonMedical,
}

impl From<ExemptionKind> for ExemptionKindGql {
    fn from(k: ExemptionKind) -> Self {
        match k {
            ExemptionKind::Medical => ExemptionKindGql::Medical,
            ExemptionKind::NonMedical => ExemptionKindGql::NonMedical,
        }
    }
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// One requirement's standing.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "RequirementStatus")]
pub struct RequirementStatusNode {
    /// The requirements file's name for it: HepB, DTaP, Polio, MMR, Varicella, Tdap,
    /// MenACWY, HepA, Hib, PCV.
    pub vaccine_group: String,
    /// Doses the forecasting engine evaluated as valid that count towards it.
    pub doses_counted: i32,
    pub doses_required: i32,
    pub status: ComplianceStatusGql,
    pub exemption: Option<ExemptionKindGql>,
    /// For an unmet requirement without exemption: when the next dose is due.
    pub next_due_date: Option<Date>,
    /// For `IN_PROGRESS`: the last day it stays in progress without another dose — the day
    /// before the next dose is past due, or, for a series started, the last day of the
    /// statute's completion window after the first enrollment here, whichever is later.
    pub in_progress_until: Option<Date>,
}

impl From<&RequirementStatus> for RequirementStatusNode {
    fn from(r: &RequirementStatus) -> Self {
        RequirementStatusNode {
            vaccine_group: r.vaccine.to_string(),
            doses_counted: int(r.doses_counted),
            doses_required: int(r.doses_required),
            status: r.status.into(),
            exemption: r.exemption.map(Into::into),
            next_due_date: r.next_due_date.map(Date),
            in_progress_until: r.in_progress_until.map(Date),
        }
    }
}

/// A student's standing against the requirements of their grade.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "SchoolCompliance")]
pub struct SchoolComplianceNode {
    /// The worst of the requirements' statuses.
    pub status: ComplianceStatusGql,
    pub requirements: Vec<Inline<RequirementStatusNode>>,
    /// For `IN_PROGRESS`: the earliest of the in-progress requirements' `inProgressUntil`,
    /// the first day by which something must change.
    pub in_progress_until: Option<Date>,
}

impl From<&Compliance> for SchoolComplianceNode {
    fn from(c: &Compliance) -> Self {
        SchoolComplianceNode {
            status: c.status.into(),
            requirements: c.requirements.iter().map(|r| Inline(r.into())).collect(),
            in_progress_until: c.in_progress_until.map(Date),
        }
    }
}

/// A student on the roster.
pub struct RosterEntryNode {
    pub person: PersonNode,
    pub grade: String,
    pub compliance: SchoolComplianceNode,
}

#[Object(name = "RosterEntry")]
impl RosterEntryNode {
    async fn person(&self) -> &PersonNode {
        &self.person
    }

    /// The grade of the student's enrollment.
    async fn grade(&self) -> &str {
        &self.grade
    }

    async fn compliance(&self, ctx: &Context<'_>) -> Result<Inline<&SchoolComplianceNode>> {
        self.person.read(ctx, Field::SchoolCompliance)?;
        Ok(Inline(&self.compliance))
    }
}

#[derive(SimpleObject)]
#[graphql(name = "RosterEdge")]
pub struct RosterEdge {
    pub cursor: String,
    pub node: Inline<RosterEntryNode>,
}

/// How many students of the whole roster (not one page) stand where.
#[derive(SimpleObject, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RosterTotals {
    pub compliant: i32,
    pub in_progress: i32,
    pub exempt: i32,
    pub not_compliant: i32,
}

impl RosterTotals {
    pub(crate) fn add(&mut self, status: ComplianceStatus) {
        let n = match status {
            ComplianceStatus::Compliant => &mut self.compliant,
            ComplianceStatus::InProgress => &mut self.in_progress,
            ComplianceStatus::Exempt => &mut self.exempt,
            ComplianceStatus::NotCompliant => &mut self.not_compliant,
        };
        *n = n.saturating_add(1);
    }
}

#[derive(SimpleObject)]
pub struct RosterConnection {
    pub edges: Vec<Inline<RosterEdge>>,
    pub page_info: PageInfo,
    /// Over the whole roster (all statuses, all pages).
    pub totals: RosterTotals,
    /// Enrolled students the caller may not read (locked to another provider, opted out):
    /// counted, not listed, so the totals plus this add up to the enrollment.
    pub hidden_count: i32,
}
