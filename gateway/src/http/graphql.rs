//! `GET` and `POST /graphql`, following the GraphQL-over-HTTP specification: content
//! negotiation, 405 for mutations over GET, 4xx for request errors under
//! `application/graphql-response+json`, an `extensions.code` on every error, and the
//! request-level limits (body size, batch size) refused before authentication does any work.
//!
//! Each request gets a `graphql.request` span (continuing a caller's W3C trace context), one
//! JSON log line, and its metrics.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use schema::ErrorCode;
use tracing::{field::Empty, info_span, Instrument};

use super::negotiate::{response_type, wants_html, ResponseType};
use super::operation::{self, error_body, Method};
use crate::app::AppState;
use crate::metrics::Outcome;

/// A request's operations: one, or a batch (a JSON array, POST only).
enum Operations {
    Single(Box<async_graphql::Request>),
    Batch(Vec<async_graphql::Request>),
}

/// The server's id of this request: always its own, so an audit id cannot be chosen (or
/// repeated) by a caller. The caller's `x-request-id` is kept beside it (see
/// [`client_request_id`]).
fn request_id(_headers: &HeaderMap) -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The caller's `x-request-id` as sent (bounded and sanitized when it is stored).
fn client_request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

/// `body` is JSON text: an operation's answer is serialized once, straight from the executor's
/// value (see [`operation::Ran`]).
fn json_response(status: StatusCode, rt: ResponseType, body: String, rid: &str) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rt.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

fn too_large(headers: &HeaderMap, limit: usize) -> Response {
    let rid = request_id(headers);
    let rt = response_type(headers).unwrap_or(ResponseType::Json);
    let body = error_body(
        ErrorCode::RequestTooLarge.as_str(),
        &format!("the request is larger than {limit} bytes"),
        &rid,
    );
    json_response(StatusCode::PAYLOAD_TOO_LARGE, rt, body.to_string(), &rid)
}

pub async fn get_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.is_empty() && wants_html(&headers) && state.settings.graphiql() {
        return super::graphiql::page();
    }
    if query.len() > state.settings.max_body_bytes {
        return too_large(&headers, state.settings.max_body_bytes);
    }
    let parsed = async_graphql::http::parse_query_string(&query)
        .map(|r| Operations::Single(Box::new(r)))
        .map_err(|e| format!("the query string is not a GraphQL request: {e}"));
    serve(state, headers, parsed, Method::Get).await
}

pub async fn post_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        let rid = request_id(&headers);
        let rt = response_type(&headers).unwrap_or(ResponseType::Json);
        let body = error_body(
            ErrorCode::BadRequest.as_str(),
            "POST bodies must be application/json",
            &rid,
        );
        return json_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            rt,
            body.to_string(),
            &rid,
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large(&headers, state.settings.max_body_bytes);
        }
        Err(rejection) => {
            let parsed = Err(format!("the body could not be read: {rejection}"));
            return serve(state, headers, parsed, Method::Post).await;
        }
    };
    let is_batch = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[');
    let parsed = if is_batch {
        serde_json::from_slice::<Vec<async_graphql::Request>>(&body).map(Operations::Batch)
    } else {
        serde_json::from_slice::<async_graphql::Request>(&body)
            .map(|r| Operations::Single(Box::new(r)))
    }
    .map_err(|e| format!("the body is not a GraphQL request: {e}"));
    serve(state, headers, parsed, Method::Post).await
}

/// Reads a caller's `traceparent` so this request's spans join its trace.
struct HeaderExtractor<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

async fn serve(
    state: AppState,
    headers: HeaderMap,
    parsed: Result<Operations, String>,
    method: Method,
) -> Response {
    let rid = request_id(&headers);
    let span = info_span!(
        "graphql.request",
        request.id = %rid,
        http.request.method = match method { Method::Get => "GET", Method::Post => "POST" },
        enduser.role = Empty,
        graphql.operation.name = Empty,
        graphql.operation.type = Empty,
        graphql.batch.size = Empty,
        outcome = Empty,
        http.response.status_code = Empty,
    );
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(&headers)));
    let _ = tracing_opentelemetry::OpenTelemetrySpanExt::set_parent(&span, parent);
    serve_in_span(state, headers, parsed, method, rid)
        .instrument(span)
        .await
}

/// The end of a request: its span's outcome and status, its metrics and its log line.
struct Finish<'a> {
    state: &'a AppState,
    rid: &'a str,
    started: Instant,
    span: tracing::Span,
}

impl Finish<'_> {
    fn record(&self, status: StatusCode, outcome: Outcome, operation: Option<&str>, role: &str) {
        self.span.record("outcome", outcome.as_str());
        self.span
            .record("http.response.status_code", status.as_u16());
        let elapsed = self.started.elapsed();
        self.state.metrics.request(operation, outcome, elapsed);
        tracing::info!(
            request_id = %self.rid,
            role,
            operation = operation.unwrap_or(""),
            outcome = outcome.as_str(),
            status = status.as_u16(),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "graphql request"
        );
    }

    /// A refusal of the whole request before any operation ran.
    fn refuse(
        &self,
        status: StatusCode,
        outcome: Outcome,
        role: &str,
        rt: ResponseType,
        code: ErrorCode,
        message: &str,
    ) -> Response {
        self.record(status, outcome, None, role);
        let body = error_body(code.as_str(), message, self.rid);
        json_response(status, rt, body.to_string(), self.rid)
    }
}

/// Negotiates, authenticates, then runs the request's operation or batch.
async fn serve_in_span(
    state: AppState,
    headers: HeaderMap,
    parsed: Result<Operations, String>,
    method: Method,
    rid: String,
) -> Response {
    let finish = Finish {
        state: &state,
        rid: &rid,
        started: Instant::now(),
        span: tracing::Span::current(),
    };
    let Some(rt) = response_type(&headers) else {
        return finish.refuse(
            StatusCode::NOT_ACCEPTABLE,
            Outcome::Rejected,
            "",
            ResponseType::Json,
            ErrorCode::NotAcceptable,
            "accept application/graphql-response+json or application/json",
        );
    };
    let principal = match state.auth.authenticate(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(p) => p,
        Err(e) => {
            let mut resp = finish.refuse(
                StatusCode::UNAUTHORIZED,
                Outcome::Unauthenticated,
                "",
                rt,
                ErrorCode::Unauthenticated,
                &e.to_string(),
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    };
    let role = principal.role.as_str();
    finish.span.record("enduser.role", role);
    let operations = match parsed {
        Ok(ops) => ops,
        Err(message) => {
            return finish.refuse(
                StatusCode::BAD_REQUEST,
                Outcome::Rejected,
                role,
                rt,
                ErrorCode::BadRequest,
                &message,
            );
        }
    };
    let client_rid = client_request_id(&headers);
    match operations {
        Operations::Single(request) => {
            serve_one(&finish, &principal, client_rid, rt, *request, method).await
        }
        Operations::Batch(requests) => {
            serve_batch(&finish, &principal, client_rid, rt, requests, method).await
        }
    }
}

/// One operation: its answer is the response.
async fn serve_one(
    finish: &Finish<'_>,
    principal: &policies::Principal,
    client_rid: Option<&str>,
    rt: ResponseType,
    request: async_graphql::Request,
    method: Method,
) -> Response {
    let ran = operation::run(
        finish.state,
        principal,
        finish.rid,
        client_rid,
        rt,
        request,
        method,
    )
    .await;
    finish.record(
        ran.status,
        ran.outcome,
        ran.operation.as_deref(),
        principal.role.as_str(),
    );
    let mut resp = json_response(ran.status, rt, ran.body, finish.rid);
    if ran.needs_post {
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    resp
}

/// A batch: refused whole when empty or too large, else run in order (a later operation may
/// read what an earlier mutation wrote), each answer one element of the response's array; a
/// database found unavailable ends the batch with 503.
async fn serve_batch(
    finish: &Finish<'_>,
    principal: &policies::Principal,
    client_rid: Option<&str>,
    rt: ResponseType,
    requests: Vec<async_graphql::Request>,
    method: Method,
) -> Response {
    let (state, rid, role) = (finish.state, finish.rid, principal.role.as_str());
    finish.span.record("graphql.batch.size", requests.len());
    let refusal = if requests.is_empty() {
        Some((
            ErrorCode::BadRequest,
            "a batch needs at least one operation".to_owned(),
        ))
    } else if requests.len() > state.settings.max_batch {
        Some((
            ErrorCode::BatchTooLarge,
            format!(
                "the batch has {} operations; the limit is {}",
                requests.len(),
                state.settings.max_batch
            ),
        ))
    } else {
        None
    };
    if let Some((code, message)) = refusal {
        return finish.refuse(
            StatusCode::BAD_REQUEST,
            Outcome::Rejected,
            role,
            rt,
            code,
            &message,
        );
    }
    let mut bodies = Vec::with_capacity(requests.len());
    let mut worst = Outcome::Ok;
    for request in requests {
        let op_span = info_span!(
            "graphql.operation",
            graphql.operation.name = Empty,
            graphql.operation.type = Empty,
            outcome = Empty,
        );
        let ran = operation::run(state, principal, rid, client_rid, rt, request, method)
            .instrument(op_span.clone())
            .await;
        op_span.record("outcome", ran.outcome.as_str());
        state.metrics.request(
            ran.operation.as_deref(),
            ran.outcome,
            finish.started.elapsed(),
        );
        if ran.outcome == Outcome::Unavailable {
            finish.record(ran.status, ran.outcome, None, role);
            return json_response(ran.status, rt, ran.body, rid);
        }
        if ran.outcome != Outcome::Ok {
            worst = ran.outcome;
        }
        bodies.push(ran.body);
    }
    finish.span.record("outcome", worst.as_str());
    finish.span.record("http.response.status_code", 200);
    tracing::info!(request_id = %rid, role, batch = bodies.len(), "graphql batch");
    json_response(StatusCode::OK, rt, format!("[{}]", bodies.join(",")), rid)
}
