//! GraphQL-shaped error responses for failures outside execution (auth, parsing, method).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::negotiate::ResponseType;

/// A response carrying one GraphQL error with `extensions.code`.
pub fn error_response(
    status: StatusCode,
    response_type: ResponseType,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response {
    let body = json!({
        "errors": [{
            "message": message,
            "extensions": { "code": code, "requestId": request_id }
        }]
    });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(response_type.content_type()),
    );
    resp
}
