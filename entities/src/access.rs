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
        let scope = RowScope::for_principal(&principal, today);
        Access {
            principal,
            today,
            scope,
            request_id,
        }
    }
}
