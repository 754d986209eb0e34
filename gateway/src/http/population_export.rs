//! `GET /reports/population/{jobId}/{file}`: a population job's output as a file
//! (`results.csv`, `letters.pdf`, `chart.svg`, `chart.png`).
//!
//! The same token, policy and job-ownership rule as the `populationResults` query; the
//! access-log entry (`EXPORT`, naming every person in the file) is durable before the first
//! byte leaves.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entities::Access;
use schema::population::ExportFormat;
use schema::ErrorCode;
use schema::RequestContext;
use serde_json::json;

use crate::app::AppState;

pub async fn population_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((job, file)): Path<(String, String)>,
) -> Response {
    let rid = uuid::Uuid::new_v4().to_string();
    let fail = |status, code: &str, message: &str| error(status, code, message, &rid);
    let (Ok(job_id), Some(format)) = (job.parse::<uuid::Uuid>(), ExportFormat::from_file(&file))
    else {
        return fail(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound.as_str(),
            "no such report",
        );
    };
    let principal = match state.auth.authenticate(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(p) => p,
        Err(e) => {
            let mut resp = fail(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated.as_str(),
                &e.to_string(),
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    };
    if !state.store.is_available() {
        return fail(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable.as_str(),
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
        false,
    ));
    let registry = format!(
        "{} Immunization Information System",
        state.settings.jurisdiction
    );
    let made = schema::population::export(&rc, &state.store, job_id, format, &registry).await;
    // What was exported (or refused) is logged before anything is sent.
    if let Err(e) = rc.flush(&state.store).await {
        tracing::error!(request_id = %rid, error = %e, "access log append failed");
        return fail(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable.as_str(),
            "the access log could not be written; nothing was served",
        );
    }
    let bytes = match made {
        Ok(b) => b,
        Err(e) => {
            let code = e.code();
            let status = match code {
                schema::ErrorCode::Forbidden => StatusCode::FORBIDDEN,
                schema::ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
                schema::ErrorCode::NotFound => StatusCode::NOT_FOUND,
                schema::ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            return fail(status, code.as_str(), &e.message());
        }
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{job}-{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&rid) {
        h.insert("x-request-id", v);
    }
    resp
}

fn error(status: StatusCode, code: &str, message: &str, rid: &str) -> Response {
    let body = json!({
        "errors": [{ "message": message, "extensions": { "code": code, "requestId": rid } }]
    });
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
