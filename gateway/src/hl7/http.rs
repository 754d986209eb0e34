//! `POST /hl7/v2`: the ER7 message as the body, a bearer token as for GraphQL; the answer is
//! 200 with the ACK or RSP in the request's content type (`x-application/hl7-v2+er7`, or
//! `text/plain`). 401 without a valid token, 503 when the database cannot be reached.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use schema::ErrorCode;
use serde_json::json;

use super::{process, Hl7Failure};
use crate::app::AppState;

/// The HL7 v2 ER7 media type of the CDC guide's HTTP binding.
pub const ER7: &str = "x-application/hl7-v2+er7";

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

pub async fn post_hl7(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let principal = match state.auth.authenticate(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(p) => p,
        Err(e) => {
            let mut resp = error(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated.as_str(),
                &e.to_string(),
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let answer_type = match content_type.as_str() {
        ER7 | "application/hl7-v2" => ER7,
        "text/plain" | "" => "text/plain; charset=utf-8",
        _ => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::BadUserInput.as_str(),
                "send the message as x-application/hl7-v2+er7 or text/plain",
            )
        }
    };
    if !state.store.is_available() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable.as_str(),
            "the database is unavailable; try again",
        );
    }
    // HL7 v2 over HTTP is ASCII or UTF-8 here; anything else is read lossily and the parser
    // judges what is left.
    let text = String::from_utf8_lossy(&body);
    let request_id = uuid::Uuid::new_v4().to_string();
    match process(&state, principal, &text, request_id.clone()).await {
        Ok(answer) => {
            let mut resp = (StatusCode::OK, answer.text).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(answer_type));
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert("x-request-id", v);
            }
            resp
        }
        Err(Hl7Failure::Unavailable) => {
            state.store.report_unavailable();
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ServiceUnavailable.as_str(),
                "the database is unavailable; try again",
            )
        }
        Err(Hl7Failure::Internal) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalServerError.as_str(),
            "the message could not be processed",
        ),
    }
}
