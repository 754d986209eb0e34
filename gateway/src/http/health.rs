//! Probes for orchestrators, metrics for Prometheus, and the dev issuer's public keys.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;

/// Liveness: the process is up and serving.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers. The cache is reported but never makes the gateway
/// unready: without it, reads go to the database.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let c = state.store.cache_status();
    let cache = json!({
        "backend": c.backend,
        "status": if c.healthy { "ok" } else { "degraded: serving from the database" },
        "error": c.error,
        "outages": c.outages,
        "hitRatio": c.hit_ratio(),
    });
    // While the database is known to be down, the probe answers at once instead of waiting
    // out the pool's acquire timeout.
    let answered = if state.store.is_available() {
        state.store.ping().await
    } else {
        Err(entities::StoreError::Unavailable("database down".into()))
    };
    match answered {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "ok", "cache": cache })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            if matches!(e, entities::StoreError::Unavailable(_)) {
                state.store.report_unavailable();
            }
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable", "cache": cache })),
            )
        }
    }
}

/// The dev issuer's JWKS, so partner systems and routers can verify its tokens.
pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    let card = state.card_issuer.public_jwk();
    if state.auth.is_dev() {
        Json(json!({ "keys": [state.auth.keys().jwk(), card] }))
    } else {
        Json(json!({ "keys": [card] }))
    }
}

/// Prometheus text exposition. Counts and pool figures only: no personal data, so it is
/// served without a token (keep the port off the internet like any metrics endpoint).
pub async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state
        .metrics
        .render(&state.store, &state.forecasts.status())
    {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
