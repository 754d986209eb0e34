//! `GET` and `POST /graphql`, following the GraphQL-over-HTTP specification: content
//! negotiation, 405 for mutations over GET, 4xx for request errors under
//! `application/graphql-response+json`, and an `extensions.code` on every error.

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use entities::Access;
use schema::RequestContext;
use serde_json::Value;

use super::negotiate::{response_type, wants_html, ResponseType};
use super::problem::error_response;
use crate::app::AppState;

/// Whether the request may run a mutation (GET may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub async fn get_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.is_empty() && wants_html(&headers) {
        return Html(
            async_graphql::http::GraphiQLSource::build()
                .endpoint("/graphql")
                .title("izgraph")
                .finish(),
        )
        .into_response();
    }
    let parsed = async_graphql::http::parse_query_string(&query)
        .map_err(|e| format!("the query string is not a GraphQL request: {e}"));
    handle(state, headers, parsed, Method::Get).await
}

pub async fn post_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        let rt = response_type(&headers).unwrap_or(ResponseType::Json);
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            rt,
            "BAD_REQUEST",
            "POST bodies must be application/json",
            &request_id(&headers),
        );
    }
    let parsed = serde_json::from_slice::<async_graphql::Request>(&body)
        .map_err(|e| format!("the body is not a GraphQL request: {e}"));
    handle(state, headers, parsed, Method::Post).await
}

async fn handle(
    state: AppState,
    headers: HeaderMap,
    parsed: Result<async_graphql::Request, String>,
    method: Method,
) -> Response {
    let rid = request_id(&headers);
    let Some(rt) = response_type(&headers) else {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            ResponseType::Json,
            "NOT_ACCEPTABLE",
            "accept application/graphql-response+json or application/json",
            &rid,
        );
    };
    let principal = match state.auth.authenticate(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(p) => p,
        Err(e) => {
            let mut resp = error_response(
                StatusCode::UNAUTHORIZED,
                rt,
                "UNAUTHENTICATED",
                &e.to_string(),
                &rid,
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    };
    let request = match parsed {
        Ok(r) => r,
        Err(message) => {
            return error_response(StatusCode::BAD_REQUEST, rt, "BAD_REQUEST", &message, &rid)
        }
    };
    if request.query.trim().is_empty() {
        return error_response(
            StatusCode::BAD_REQUEST,
            rt,
            "BAD_REQUEST",
            "`query` is required",
            &rid,
        );
    }
    let operation = operation_type(&request);
    match operation {
        Err(message) => {
            let status = match rt {
                ResponseType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
                ResponseType::Json => StatusCode::OK,
            };
            return error_response(status, rt, "GRAPHQL_PARSE_FAILED", &message, &rid);
        }
        Ok(Some(OperationType::Mutation)) if method == Method::Get => {
            let mut resp = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                rt,
                "METHOD_NOT_ALLOWED",
                "mutations must be sent with POST",
                &rid,
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return resp;
        }
        Ok(_) => {}
    }
    let is_query = !matches!(operation, Ok(Some(OperationType::Mutation)));

    let access = Access::new(principal, state.settings.today(), rid.clone());
    let rc = Arc::new(RequestContext::new(access, state.store.clone(), is_query));
    let response = state.schema.execute(request.data(rc.clone())).await;
    // The access-log entry for what was read is durable before the response leaves.
    if let Err(e) = rc.flush(&state.store).await {
        tracing::error!(request_id = %rid, error = %e, "access log append failed");
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            rt,
            "SERVICE_UNAVAILABLE",
            "the access log could not be written; nothing was served",
            &rid,
        );
    }
    let mut body = serde_json::to_value(&response).unwrap_or(Value::Null);
    let request_error = complete_errors(&mut body, &rid);
    let status = match (rt, request_error) {
        (ResponseType::GraphqlResponseJson, true) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rt.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// The type of the operation the request will run, or the parse error.
fn operation_type(request: &async_graphql::Request) -> Result<Option<OperationType>, String> {
    let doc = async_graphql::parser::parse_query(&request.query).map_err(|e| e.to_string())?;
    let op = match &request.operation_name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str()))
            .map(|(_, op)| op.node.ty),
        None => doc.operations.iter().next().map(|(_, op)| op.node.ty),
    };
    Ok(op)
}

/// Gives every error an `extensions.code` and the request id, and drops `data` for request
/// errors (the document never executed). Returns whether it was a request error.
fn complete_errors(body: &mut Value, rid: &str) -> bool {
    let data_null = body.get("data").is_none_or(Value::is_null);
    let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) else {
        return false;
    };
    let request_error = data_null && errors.iter().all(|e| e.get("path").is_none());
    for error in errors.iter_mut() {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let Some(obj) = error.as_object_mut() else {
            continue;
        };
        let ext = obj
            .entry("extensions")
            .or_insert_with(|| Value::Object(Default::default()));
        let Some(ext) = ext.as_object_mut() else {
            continue;
        };
        if !ext.contains_key("code") {
            let code = if message.contains("Invalid value for argument")
                || message.contains("Failed to parse")
                || message.starts_with("Variable")
                || message.starts_with("Expected input type")
                || message.contains("is not a date")
                || message.contains("is not an RFC 3339")
            {
                "BAD_USER_INPUT"
            } else if request_error {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "INTERNAL_SERVER_ERROR"
            };
            ext.insert("code".into(), Value::String(code.into()));
        }
        ext.insert("requestId".into(), Value::String(rid.to_owned()));
    }
    if request_error {
        if let Some(obj) = body.as_object_mut() {
            obj.remove("data");
        }
    }
    request_error
}
