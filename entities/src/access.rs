//! The authorization context every person-data repository call takes.

use chrono::NaiveDate;
use policies::{Principal, RowScope};

/// Who is asking and on what date: enough to compute the row scope once per request.
#[derive(Debug, Clone)]
pub struct Access {
    pub principal: Principal,
    /// The registry's calendar date for this request (ages, school years).
    pub today: NaiveDate,
    pub scope: RowScope,
    /// Correlates access-log entries with the request that made them.
    pub request_id: String,
}

impl Access {
    pub fn new(principal: Principal, today: NaiveDate, request_id: String) -> Access {
        let span = tracing::info_span!(
            "policy.row_scope",
            enduser.role = principal.role.as_str(),
            policy.scope = tracing::field::Empty,
        );
        let _entered = span.enter();
        let scope = RowScope::for_principal(&principal, today);
        span.record("policy.scope", scope_name(&scope));
        Access {
            principal,
            today,
            scope,
            request_id,
        }
    }
}

/// The kind of a row scope, for traces (never the ids it carries).
fn scope_name(scope: &RowScope) -> &'static str {
    match scope {
        RowScope::All => "all",
        RowScope::Nothing => "nothing",
        RowScope::Clinical { .. } => "clinical",
        RowScope::EnrolledAt { .. } => "enrolled_at",
        RowScope::MemberOf { .. } => "member_of",
        RowScope::WardsOf { .. } => "wards_of",
        RowScope::Own { .. } => "own",
    }
}
