//! The HTTP surface: GraphQL over HTTP, health probes and the dev issuer's JWKS.

mod graphql;
mod health;
mod negotiate;
mod problem;

use axum::routing::get;
use axum::Router;

use crate::app::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/.well-known/jwks.json", get(health::jwks))
        .with_state(state)
}
