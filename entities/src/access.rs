//! The authorization context every person-data repository call takes.

use chrono::NaiveDate;
use policies::{Principal, RowScope};

/// Who is asking and on what date: enough to compute the row scope once per request.
///
/// Non-exhaustive: outside this crate an `Access` is built only by [`Access::new`] (reserved by
/// `clippy.toml` for the gateway's request path), so its row scope is the one its principal has.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Access {
    pub principal: Principal,
    /// The registry's calendar date for this request (ages, school years).
    pub today: NaiveDate,
    pub scope: RowScope,
    /// Correlates access-log entries with the request that made them: the server's own id.
    pub request_id: String,
    /// The caller's `x-request-id`, sanitized and bounded, kept beside the server's.
    pub client_request_id: Option<String>,
}

impl Access {
    /// The request's access for `principal` (verified) on `today`: the row scope is derived
    /// here, never given.
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
            client_request_id: None,
        }
    }

    /// Keeps the caller's own request id beside the server's: printable ASCII without spaces,
    /// at most 128 characters; anything else is dropped rather than stored.
    pub fn with_client_request_id(mut self, id: Option<&str>) -> Access {
        self.client_request_id = id
            .map(str::trim)
            .filter(|id| {
                !id.is_empty()
                    && id.len() <= crate::migration::CLIENT_REQUEST_ID_CHARS as usize
                    && id.bytes().all(|b| b.is_ascii_graphic())
            })
            .map(str::to_owned);
        self
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
