//! Running one GraphQL operation of a request: persisted documents, parsing, the GET rule,
//! execution, the access log, and errors completed with a code and the request id.

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use axum::http::StatusCode;
use entities::Access;
use policies::Principal;
use schema::{ErrorCode, RequestContext};
use serde_json::{json, Value};
use tracing::{field::Empty, info_span, Instrument};

use super::negotiate::ResponseType;
use crate::app::AppState;
use crate::metrics::Outcome;

/// Whether the request may run a mutation (GET may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// What one operation produced.
pub struct Ran {
    pub status: StatusCode,
    /// The response as JSON text.
    pub body: String,
    pub outcome: Outcome,
    pub operation: Option<String>,
    /// The operation was a mutation sent with GET (405, `Allow: POST`).
    pub needs_post: bool,
}

impl Ran {
    /// A refusal before execution: 4xx for `application/graphql-response+json`, 200 for
    /// legacy `application/json` clients (per GraphQL over HTTP), or the given status.
    fn refused(rt: ResponseType, code: ErrorCode, message: &str, rid: &str) -> Ran {
        Ran {
            status: refusal_status(rt, code),
            body: error_body(code.as_str(), message, rid).to_string(),
            outcome: Outcome::Rejected,
            operation: None,
            needs_post: false,
        }
    }
}

/// The status of a refused operation: the code's own, except that a request error (400) is
/// 200 for legacy `application/json` clients, as GraphQL over HTTP says.
pub fn refusal_status(rt: ResponseType, code: ErrorCode) -> StatusCode {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    match rt {
        ResponseType::Json if status == StatusCode::BAD_REQUEST => StatusCode::OK,
        _ => status,
    }
}

/// 503 `SERVICE_UNAVAILABLE`: nothing was served, and the client may retry.
fn unavailable(operation: Option<String>, rid: &str, message: &str) -> Ran {
    Ran {
        status: StatusCode::SERVICE_UNAVAILABLE,
        body: error_body(ErrorCode::ServiceUnavailable.as_str(), message, rid).to_string(),
        outcome: Outcome::Unavailable,
        operation,
        needs_post: false,
    }
}

/// `{"errors": [{message, extensions: {code, requestId}}]}`.
pub fn error_body(code: &str, message: &str, rid: &str) -> Value {
    json!({
        "errors": [{
            "message": message,
            "extensions": { "code": code, "requestId": rid }
        }]
    })
}

/// Runs one operation for `principal`.
pub async fn run(
    state: &AppState,
    principal: &Principal,
    rid: &str,
    client_rid: Option<&str>,
    rt: ResponseType,
    mut request: async_graphql::Request,
    method: Method,
) -> Ran {
    let apq_scope = super::persisted::apq_scope(principal);
    if let Err(refusal) = state
        .persisted
        .resolve(&mut request, &apq_scope, &state.metrics)
        .await
    {
        return Ran::refused(rt, refusal.code, &refusal.message, rid);
    }
    if request.query.trim().is_empty() {
        let mut ran = Ran::refused(rt, ErrorCode::BadRequest, "`query` is required", rid);
        // Not a GraphQL request at all: 400 whatever the response type.
        ran.status = StatusCode::BAD_REQUEST;
        return ran;
    }
    let (kind, name) = {
        let _span = info_span!("graphql.parse").entered();
        state.documents.attach(&mut request);
        match operation_of(&mut request) {
            Ok(found) => found,
            Err(message) => {
                return Ran::refused(rt, ErrorCode::GraphqlParseFailed, &message, rid);
            }
        }
    };
    let span = tracing::Span::current();
    span.record("graphql.operation.name", name.as_deref().unwrap_or(""));
    if let Some(kind) = kind {
        span.record("graphql.operation.type", kind.to_string());
    }
    if kind == Some(OperationType::Mutation) && method == Method::Get {
        let mut ran = Ran::refused(
            rt,
            ErrorCode::MethodNotAllowed,
            "mutations must be sent with POST",
            rid,
        );
        ran.needs_post = true;
        return ran;
    }
    if !state.store.is_available() {
        return unavailable(name, rid, "the database is unavailable; try again");
    }
    // Individuals are adults (18 and over) on the request date: a token naming a minor is
    // refused before anything runs (a minor's record is their guardian's to read).
    if principal.role == policies::Role::Individual {
        let adult = match principal.person {
            Some(person) => state.store.is_adult(person, state.settings.today()).await,
            None => Ok(false),
        };
        match adult {
            Ok(true) => {}
            Ok(false) => {
                return Ran::refused(
                    rt,
                    ErrorCode::Forbidden,
                    "individual tokens are for adults (18 and over) about themselves",
                    rid,
                );
            }
            Err(e) => {
                if matches!(e, entities::StoreError::Unavailable(_)) {
                    state.store.report_unavailable();
                }
                return unavailable(name, rid, "the database is unavailable; try again");
            }
        }
    }
    let is_query = kind != Some(OperationType::Mutation);
    #[expect(
        clippy::disallowed_methods,
        reason = "the request path: the principal was just verified"
    )]
    let access = Access::new(principal.clone(), state.settings.today(), rid.to_owned())
        .with_client_request_id(client_rid);
    let rc = Arc::new(RequestContext::new(
        access,
        state.store.clone(),
        state.forecasts.clone(),
        is_query,
    ));
    let response = state.schema.execute(request.data(rc.clone())).await;
    for rule in rc.denial_rules() {
        state.metrics.denial(principal.role, rule);
    }
    // The access-log entry for what was read is durable before the response leaves. The body
    // is written meanwhile (the append is the log writer's round trip, the body this task's
    // CPU), and only sent once the append is acknowledged.
    let append = rc
        .flush(&state.store)
        .instrument(info_span!("access_log.append", otel.status_code = Empty));
    let (flushed, (body, request_error)) = tokio::join!(append, async { written(&response, rid) });
    if let Err(e) = flushed {
        tracing::error!(request_id = %rid, error = %e, "access log append failed");
        if matches!(e, entities::StoreError::Unavailable(_)) {
            state.store.report_unavailable();
        }
        return unavailable(
            name,
            rid,
            "the access log could not be written; nothing was served",
        );
    }
    if response
        .errors
        .iter()
        .any(|e| ErrorCode::of(e) == Some(ErrorCode::ServiceUnavailable))
    {
        // A partial answer from a database that stopped halfway is not an answer: the whole
        // request fails with 503, to be retried, and later ones fail fast until it is back.
        state.store.report_unavailable();
        return unavailable(name, rid, "the database is unavailable; try again");
    }
    let status = match (rt, request_error) {
        (ResponseType::GraphqlResponseJson, true) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let outcome = if request_error {
        Outcome::Rejected
    } else if response.errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::PartialErrors
    };
    Ran {
        status,
        body,
        outcome,
        operation: name,
        needs_post: false,
    }
}

/// The response's JSON text, its errors completed with codes and the request id, and whether
/// it is a request error (no `data`).
fn written(response: &async_graphql::Response, rid: &str) -> (String, bool) {
    let data_null = matches!(response.data, async_graphql::Value::Null);
    let mut errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
    let request_error = complete_errors(&mut errors, data_null, rid);
    let body = serde_json::to_string(&Body {
        data: (!request_error).then_some(&response.data),
        errors: &errors,
        extensions: &response.extensions,
    })
    .unwrap_or_else(|e| {
        tracing::error!(request_id = %rid, error = %e, "response not serializable");
        error_body(
            ErrorCode::InternalServerError.as_str(),
            "the response could not be written",
            rid,
        )
        .to_string()
    });
    (body, request_error)
}

/// The type and name of the operation the request will run, or the parse error. The parsed
/// document stays in the request, so it is not parsed again.
fn operation_of(
    request: &mut async_graphql::Request,
) -> Result<(Option<OperationType>, Option<String>), String> {
    let wanted = request.operation_name.clone();
    let doc = request.parsed_query().map_err(|e| e.message)?;
    let found = match &wanted {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str())),
        None => doc.operations.iter().next(),
    };
    Ok(match found {
        Some((n, op)) => (Some(op.node.ty), n.map(|n| n.to_string()).or(wanted)),
        None => (None, wanted),
    })
}

/// Gives every error the request id (the schema gave each its `extensions.code`, see
/// `schema::build`), and drops `data` for request errors (the document never executed).
/// Returns whether it was a request error.
fn complete_errors(errors: &mut Value, data_null: bool, rid: &str) -> bool {
    let Some(errors) = errors.as_array_mut().filter(|e| !e.is_empty()) else {
        return false;
    };
    let request_error = data_null && errors.iter().all(|e| e.get("path").is_none());
    for error in errors.iter_mut() {
        let Some(obj) = error.as_object_mut() else {
            continue;
        };
        let ext = obj
            .entry("extensions")
            .or_insert_with(|| Value::Object(Default::default()));
        let Some(ext) = ext.as_object_mut() else {
            continue;
        };
        // Every error leaves the schema with a code; one without would be a bug there, and
        // is not the caller's to fix.
        ext.entry("code")
            .or_insert_with(|| Value::String(ErrorCode::InternalServerError.as_str().into()));
        ext.insert("requestId".into(), Value::String(rid.to_owned()));
    }
    request_error
}

/// An operation's response as sent. `data` is serialized straight from the executor's value:
/// copying it into a `serde_json::Value` first cost a second allocation per object and name
/// (a 1,000-student roster is some 70,000 of them). Absent for a request error, as the
/// GraphQL-over-HTTP specification has it.
#[derive(serde::Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "is_empty_list")]
    errors: &'a Value,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

fn is_empty_list(v: &&Value) -> bool {
    v.as_array().is_none_or(Vec::is_empty)
}
