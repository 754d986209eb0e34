//! `GET /reports/roster/{organizationId}.csv`: the roster as a CSV file, for schools whose
//! systems import files.
//!
//! It runs the very `roster` query a GraphQL client would, with the same token, so the same
//! policy decides and the same row scope applies; only the access-log entry differs
//! (`EXPORT`). The entry is durable before the first byte of the file leaves, and the file is
//! then streamed a block of students at a time rather than built as one string.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entities::Access;
use schema::{ErrorCode, RequestContext};
use serde_json::{json, Value};

use crate::app::AppState;

const ROSTER: &str = "query($org: ID!, $year: String, $grade: String) {
  roster(organizationId: $org, schoolYear: $year, grade: $grade) {
    edges { node {
      grade
      person { id lastName firstName dateOfBirth }
      compliance { status requirements { vaccineGroup dosesCounted dosesRequired status exemption nextDueDate inProgressUntil } }
    } }
  }
}";

const HEADER: &str = "person_id,last_name,first_name,date_of_birth,grade,status,vaccine_group,doses_counted,doses_required,requirement_status,exemption,next_due_date,in_progress_until\r\n";

/// Students per streamed block.
const BLOCK: usize = 200;

pub async fn roster_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let rid = request_id(&headers);
    let fail = |code: ErrorCode, message: &str| error(code, message, &rid);
    let Some(org) = file.strip_suffix(".csv") else {
        return fail(ErrorCode::NotFound, "no such report");
    };
    let principal = match state.auth.authenticate(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(p) => p,
        Err(e) => {
            let mut resp = fail(ErrorCode::Unauthenticated, &e.to_string());
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    };
    if !state.store.is_available() {
        return fail(
            ErrorCode::ServiceUnavailable,
            "the database is unavailable; try again",
        );
    }
    #[expect(
        clippy::disallowed_methods,
        reason = "the request path: the principal was just verified"
    )]
    let access = Access::new(principal, state.settings.today(), rid.clone())
        .with_client_request_id(headers.get("x-request-id").and_then(|v| v.to_str().ok()));
    let rc = Arc::new(RequestContext::new(
        access,
        state.store.clone(),
        state.forecasts.clone(),
        true,
    ));
    let request = async_graphql::Request::new(ROSTER)
        .variables(async_graphql::Variables::from_json(json!({
            "org": org,
            "year": params.get("schoolYear"),
            "grade": params.get("grade"),
        })))
        .data(rc.clone());
    let response = state.schema.execute(request).await;
    let refused = response.errors.first().map(|e| {
        let code = ErrorCode::of(e).unwrap_or(ErrorCode::InternalServerError);
        (code, e.message.clone())
    });
    if refused.is_none() {
        rc.record_export();
    }
    // What was read (or refused) is logged before anything is sent.
    if let Err(e) = rc.flush(&state.store).await {
        tracing::error!(request_id = %rid, error = %e, "access log append failed");
        return fail(
            ErrorCode::ServiceUnavailable,
            "the access log could not be written; nothing was served",
        );
    }
    if let Some((code, message)) = refused {
        if code == ErrorCode::ServiceUnavailable {
            state.store.report_unavailable();
        }
        return fail(code, &message);
    }
    let data = response.data.into_json().unwrap_or(Value::Null);
    let edges = match data["roster"]["edges"].as_array() {
        Some(edges) => edges.clone(),
        None => Vec::new(),
    };
    let blocks: Vec<Result<String, Infallible>> = std::iter::once(Ok(HEADER.to_owned()))
        .chain(edges.chunks(BLOCK).map(|chunk| Ok(rows(chunk))))
        .collect();
    let mut resp = Body::from_stream(futures_util::stream::iter(blocks)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"roster-{org}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&rid) {
        h.insert("x-request-id", v);
    }
    resp
}

/// The server's id of this request (the audit id); the caller's `x-request-id` is kept beside
/// it in the access log, bounded and sanitized (see `Access::with_client_request_id`).
pub(super) fn request_id(_headers: &HeaderMap) -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A refusal in the gateway's error shape: one GraphQL-style error with `extensions.code`.
/// A refusal in the gateway's error shape, with the code's HTTP status.
pub(super) fn error(code: ErrorCode, message: &str, rid: &str) -> Response {
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = super::operation::error_body(code.as_str(), message, rid);
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// One line per student and requirement (one line with empty requirement columns for a
/// student whose grade has none).
fn rows(edges: &[Value]) -> String {
    let mut out = String::new();
    for edge in edges {
        let node = &edge["node"];
        let person = &node["person"];
        let student = [
            text(&person["id"]),
            text(&person["lastName"]),
            text(&person["firstName"]),
            text(&person["dateOfBirth"]),
            text(&node["grade"]),
            text(&node["compliance"]["status"]),
        ];
        let requirements = node["compliance"]["requirements"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut line = |requirement: [String; 7]| {
            let fields: Vec<String> = student
                .iter()
                .chain(requirement.iter())
                .map(|f| field(f))
                .collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        };
        if requirements.is_empty() {
            line(Default::default());
        }
        for r in &requirements {
            line([
                text(&r["vaccineGroup"]),
                text(&r["dosesCounted"]),
                text(&r["dosesRequired"]),
                text(&r["status"]),
                text(&r["exemption"]),
                text(&r["nextDueDate"]),
                text(&r["inProgressUntil"]),
            ]);
        }
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every field quoted (RFC 4180), and an apostrophe before each formula start (`=`, `+`, `-`,
/// `@`, tab, CR) that begins a cell anywhere a spreadsheet might split one: at the start, and
/// after `;`, `,`, `|`, tab or a line break (a semicolon-locale spreadsheet splits on `;`, so
/// `Ann;=HYPERLINK(…)` would otherwise run its second half). A name must stay a name.
fn field(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    out.push('"');
    let mut cell_start = true;
    for c in value.chars() {
        if cell_start && matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r') {
            out.push('\'');
        }
        if c == '"' {
            out.push('"');
        }
        out.push(c);
        cell_start = matches!(c, ';' | ',' | '|' | '\t' | '\n' | '\r');
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("Olson"), "\"Olson\"");
        assert_eq!(field(""), "\"\"");
        assert_eq!(field("O'Brien, Jr."), "\"O'Brien, Jr.\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("2019-04-30"), "\"2019-04-30\"");
        assert_eq!(field("Smith-Jones"), "\"Smith-Jones\"");
    }

    /// A semicolon-locale spreadsheet splits on `;` (and some on tab or `|`): every piece that
    /// would become a cell is defused, not only the first.
    #[test]
    fn formula_starts_inside_a_field_are_defused_per_cell() {
        assert_eq!(field("Ann;=1+1"), "\"Ann;'=1+1\"");
        assert_eq!(field("Ann;@SUM(A1)"), "\"Ann;'@SUM(A1)\"");
        assert_eq!(field("Ann\t+cmd"), "\"Ann\t'+cmd\"");
        assert_eq!(field("a|-2"), "\"a|'-2\"");
        assert_eq!(field("x,\t=y"), "\"x,'\t'=y\"");
        assert_eq!(field("line\n=z"), "\"line\n'=z\"");
    }
}
