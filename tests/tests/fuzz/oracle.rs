//! What every answer must satisfy, whatever was sent:
//!
//! - it comes, within the timeout, on a connection that was not reset (a panicking handler
//!   drops its connection);
//! - its status is below 500 (no 500, and no 503 either: nothing here makes the database
//!   unavailable);
//! - on `/graphql` (GET and POST) it is GraphQL-over-HTTP JSON — or GraphiQL for a browser's
//!   GET without a query — with `data` and/or `errors`, and every error carries a non-empty
//!   `extensions.code` that is not `INTERNAL_SERVER_ERROR` (an internal error caused by a
//!   request is a bug);
//! - the roster CSV is a CSV or a coded JSON error; the token endpoint answers RFC 6749 JSON.
//!
//! The run-level checks (no panic, no error logged, `/healthz` still answering, memory
//! bounded) are in `main.rs`.

use serde_json::Value;

use crate::http::{HttpRequest, HttpResponse, Kind, Outcome};

/// What one answer showed, for the statistics.
#[derive(Debug, Default)]
pub struct Seen {
    pub status: Option<u16>,
    /// `extensions.code` of every error.
    pub codes: Vec<String>,
    /// `code: message` of every error (for `IZGRAPH_FUZZ_VERBOSE`).
    pub messages: Vec<String>,
    /// Whether some operation executed (`data` present and not null).
    pub executed: bool,
}

fn is_json(content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    ct.starts_with("application/json") || ct.starts_with("application/graphql-response+json")
}

/// A `cursor` or `endCursor` anywhere in `v` that decodes to a key in clear (the old
/// `LAST␟FIRST␟id` form, or anything with a unit separator or a UUID in it): cursors are
/// sealed, so none may.
fn clear_cursor(v: &Value) -> Option<String> {
    use base64::Engine as _;
    match v {
        Value::Object(fields) => fields.iter().find_map(|(k, v)| match v {
            Value::String(c) if k == "cursor" || k == "endCursor" => {
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(c)
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                let uuid_like = text
                    .split(|ch: char| !(ch.is_ascii_hexdigit() || ch == '-'))
                    .any(|w| w.parse::<uuid::Uuid>().is_ok());
                // The old form was text joined by unit separators; a sealed cursor's random
                // bytes hold a 0x1F byte about once in seven, so only text counts for that.
                let separated = std::str::from_utf8(&bytes).is_ok_and(|t| t.contains('\u{1f}'));
                (separated || uuid_like).then(|| c.clone())
            }
            other => clear_cursor(other),
        }),
        Value::Array(items) => items.iter().find_map(clear_cursor),
        _ => None,
    }
}

/// Checks one GraphQL response object (one element of a batch).
fn check_graphql_object(v: &Value, seen: &mut Seen) -> Result<(), String> {
    let Some(obj) = v.as_object() else {
        return Err(format!("a GraphQL response must be an object, got {v}"));
    };
    let data = obj.get("data");
    let errors = obj.get("errors");
    if data.is_none() && errors.is_none() {
        return Err("a GraphQL response needs `data` or `errors`".into());
    }
    if data.is_some_and(|d| !d.is_null()) {
        seen.executed = true;
    }
    if let Some(cursor) = data.and_then(clear_cursor) {
        return Err(format!("a cursor carries its key in clear: {cursor}"));
    }
    if let Some(errors) = errors {
        let Some(list) = errors.as_array() else {
            return Err(format!("`errors` must be a list, got {errors}"));
        };
        if list.is_empty() {
            return Err("`errors` must not be empty when present".into());
        }
        for e in list {
            let code = e["extensions"]["code"].as_str().unwrap_or("");
            if code.is_empty() {
                return Err(format!("an error without extensions.code: {e}"));
            }
            if !e["message"].is_string() {
                return Err(format!("an error without a message: {e}"));
            }
            if code == "INTERNAL_SERVER_ERROR" {
                return Err(format!("an internal error answered a request: {e}"));
            }
            seen.codes.push(code.to_owned());
            let message = e["message"].as_str().unwrap_or("");
            let message: String = message.chars().take(90).collect();
            seen.messages.push(format!("{code}: {message}"));
        }
    }
    Ok(())
}

fn graphql(req: &HttpRequest, resp: &HttpResponse, seen: &mut Seen) -> Result<(), String> {
    let ct = resp.content_type.to_ascii_lowercase();
    if ct.starts_with("text/html") {
        let wants_html = req
            .header("accept")
            .is_some_and(|a| String::from_utf8_lossy(a).contains("text/html"));
        let no_query = !req.target.contains('?') || req.target.ends_with('?');
        if req.method == "GET" && wants_html && no_query && resp.status == 200 {
            return Ok(());
        }
        return Err("GraphiQL served to a request that did not ask for it".into());
    }
    if resp.status == 431 || resp.status == 414 {
        // hyper refuses an oversized head before the router runs.
        return Ok(());
    }
    if !is_json(&ct) {
        return Err(format!(
            "not a JSON answer (content-type `{}`)",
            resp.content_type
        ));
    }
    let body: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| format!("the JSON answer does not parse: {e}"))?;
    match &body {
        Value::Array(items) => {
            if resp.status != 200 || req.kind != Kind::PostBatch && req.kind != Kind::PostRaw {
                return Err("a list answered a request that was not a batch".into());
            }
            for item in items {
                check_graphql_object(item, seen)?;
            }
        }
        other => check_graphql_object(other, seen)?,
    }
    if resp.status >= 400 && body.get("errors").is_none() {
        return Err(format!("status {} without errors", resp.status));
    }
    Ok(())
}

fn roster_csv(resp: &HttpResponse, seen: &mut Seen) -> Result<(), String> {
    if resp.status == 200 {
        if !resp.content_type.starts_with("text/csv") {
            return Err(format!(
                "a 200 roster that is not CSV: `{}`",
                resp.content_type
            ));
        }
        if !resp.body.starts_with(b"person_id,") {
            return Err("a CSV without its header line".into());
        }
        return Ok(());
    }
    if is_json(&resp.content_type) {
        let body: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| format!("the JSON error does not parse: {e}"))?;
        return check_graphql_object(&body, seen);
    }
    // axum's own extractor refusals (a path or query string that does not decode).
    if matches!(resp.status, 400 | 404 | 405) {
        return Ok(());
    }
    Err(format!(
        "status {} with a `{}` body",
        resp.status, resp.content_type
    ))
}

fn oauth(resp: &HttpResponse) -> Result<(), String> {
    if !is_json(&resp.content_type) {
        // axum's body-size refusal.
        return if matches!(resp.status, 405 | 413) {
            Ok(())
        } else {
            Err(format!(
                "status {} with a `{}` body",
                resp.status, resp.content_type
            ))
        };
    }
    let body: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| format!("the JSON answer does not parse: {e}"))?;
    if resp.status == 200 {
        if !body["access_token"].is_string() || body["token_type"] != "Bearer" {
            return Err(format!("a 200 without a bearer token: {body}"));
        }
    } else if !body["error"].is_string() {
        return Err(format!("an RFC 6749 error needs `error`: {body}"));
    }
    Ok(())
}

/// Checks one answer.
pub fn check(req: &HttpRequest, outcome: &Outcome) -> Result<Seen, String> {
    let mut seen = Seen::default();
    let resp = match outcome {
        Outcome::Answered(r) => r,
        Outcome::TimedOut => return Err("no answer within the timeout (a hang)".into()),
        Outcome::Failed(e) if req.kind == Kind::RawHttp => {
            // A raw socket may see a reset once the server drops unread garbage; a panic
            // would show in the panic log instead.
            let _ = e;
            return Ok(seen);
        }
        // Refusing a body over the limit before reading it, the server closes the connection
        // (with `Connection: close`); a client still writing may see the reset first.
        Outcome::Failed(_) if req.body.len() > gateway::config::DEFAULT_MAX_BODY_BYTES => {
            return Ok(seen)
        }
        Outcome::Failed(e) => return Err(format!("the connection failed: {e}")),
        Outcome::ClosedWithoutResponse => return Ok(seen),
        Outcome::NotSent(_) => return Ok(seen),
    };
    seen.status = Some(resp.status);
    if resp.status >= 500 {
        return Err(format!(
            "status {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body[..resp.body.len().min(2000)])
        ));
    }
    let result = match req.kind {
        Kind::RawHttp | Kind::OtherRoute => Ok(()),
        Kind::RosterCsv => roster_csv(resp, &mut seen),
        Kind::OAuth => oauth(resp),
        // Other paths (`/graphql/`, `/graphql;x`…) are the router's 404.
        k if k.is_graphql()
            && matches!(req.method.as_str(), "GET" | "POST")
            && req.target.split('?').next() == Some("/graphql") =>
        {
            graphql(req, resp, &mut seen)
        }
        _ => Ok(()),
    };
    result.map(|()| seen).map_err(|e| {
        format!(
            "{e}\n  status {} content-type `{}` body: {}",
            resp.status,
            resp.content_type,
            String::from_utf8_lossy(&resp.body[..resp.body.len().min(2000)])
        )
    })
}
