//! The HTTP surface: GraphQL over HTTP, health probes, Prometheus metrics, and — for the dev issuer only — its JWKS
//! and its OAuth2 token endpoint.

mod graphql;
mod health;
mod negotiate;
mod oauth;
mod operation;
pub mod persisted;
mod roster_csv;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use oauth::TOKEN_TTL_SECONDS;

pub fn router(state: AppState) -> Router {
    let graphql = get(graphql::get_graphql)
        .post(graphql::post_graphql)
        .layer(middleware::from_fn_with_state(state.clone(), fresh_keys));
    let mut router = Router::new()
        .route("/graphql", graphql)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/reports/roster/{file}",
            get(roster_csv::roster_csv)
                .layer(middleware::from_fn_with_state(state.clone(), fresh_keys)),
        )
        .route("/metrics", get(health::metrics));
    // With an external issuer the dev key is trusted by nothing, so it is not published and
    // nothing mints tokens here.
    if state.auth.is_dev() {
        router = router
            .route("/.well-known/jwks.json", get(health::jwks))
            .route("/oauth/token", post(oauth::token));
    }
    let limit = DefaultBodyLimit::max(state.settings.max_body_bytes);
    router.layer(limit).with_state(state)
}

/// Loads a rotated external-issuer key before the (synchronous) authentication sees the
/// token; see [`Authenticator::prepare`](crate::auth::Authenticator::prepare).
async fn fresh_keys(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state.auth.prepare(header).await;
    next.run(request).await
}
