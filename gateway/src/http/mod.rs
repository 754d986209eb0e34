//! The HTTP surface: GraphQL over HTTP, health probes, Prometheus metrics, and — for the dev issuer only — its JWKS
//! and its OAuth2 token endpoint.

pub mod documents;
mod graphiql;
mod graphql;
mod health;
mod negotiate;
mod oauth;
mod operation;
pub mod persisted;
mod population_export;
mod records;
mod roster_csv;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Version};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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
            "/records/{file}",
            get(records::record).layer(middleware::from_fn_with_state(state.clone(), fresh_keys)),
        )
        .route("/.well-known/jwks.json", get(health::jwks))
        .route(
            "/hl7/v2",
            post(crate::hl7::http::post_hl7)
                .layer(middleware::from_fn_with_state(state.clone(), fresh_keys)),
        )
        .route(
            "/soap",
            get(crate::hl7::soap::get_wsdl).post(crate::hl7::soap::post_soap),
        )
        .route(
            "/reports/population/{job}/{file}",
            get(population_export::population_export)
                .layer(middleware::from_fn_with_state(state.clone(), fresh_keys)),
        )
        .route(
            "/reports/roster/{file}",
            get(roster_csv::roster_csv)
                .layer(middleware::from_fn_with_state(state.clone(), fresh_keys)),
        );
    if state.settings.metrics_listen.is_none() {
        router = router.route("/metrics", get(health::metrics));
    }
    // With an external issuer the dev key is trusted by nothing, so it is not published and
    // nothing mints tokens here.
    if state.auth.is_dev() {
        router = router.route("/oauth/token", post(oauth::token));
    }
    if state.settings.graphiql() {
        router = router.route("/graphiql/{file}", get(graphiql::asset));
    }
    let limit = DefaultBodyLimit::max(state.settings.max_body_bytes);
    router
        .layer(limit)
        .layer(middleware::from_fn(close_if_body_unread))
        .layer(middleware::from_fn(browser_headers))
        .with_state(state)
}

/// Headers for browsers on every response: nothing is stored by a browser or a shared cache
/// unless the handler says otherwise (`/graphql` answers and roster CSVs name persons), MIME
/// types are not sniffed, and no page may frame a response (clickjacking).
async fn browser_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("frame-ancestors 'none'"));
    response
}

/// `/metrics` alone, for the separate metrics listener (`IZGRAPH_METRICS_LISTEN`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// Answers with `Connection: close` when a request's body was not read to its end (refused
/// for its size, its method or its path before being read). hyper closes such a connection
/// after the response; without the header an HTTP/1.1 client or proxy keeping it alive sends
/// its next request on a connection that is going away, and that request fails.
async fn close_if_body_unread(mut request: Request, next: Next) -> Response {
    use axum::body::{Body, Bytes, HttpBody};
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    if request.version() >= Version::HTTP_2 || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let end = read.clone();
    let body = std::mem::take(request.body_mut()).into_data_stream();
    let at_end = futures_util::stream::iter(std::iter::from_fn(
        move || -> Option<Result<Bytes, axum::Error>> {
            end.store(true, Ordering::Release);
            None
        },
    ));
    *request.body_mut() = Body::from_stream(body.chain(at_end));
    let mut response = next.run(request).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Loads a rotated external-issuer key, or introspects an opaque token, before the
/// (synchronous) authentication sees the token; see
/// [`Authenticator::prepare`](crate::auth::Authenticator::prepare). When introspection is
/// busy the request is answered 503 `SERVICE_UNAVAILABLE` at once (with `Retry-After`)
/// rather than queued.
async fn fresh_keys(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let source = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Err(busy) = state.auth.prepare(header, source).await {
        let body = serde_json::json!({ "errors": [{
            "message": busy.to_string(),
            "extensions": { "code": schema::ErrorCode::ServiceUnavailable.as_str() },
        }] });
        let mut response = (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(body),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    if let Err(why) = state.auth.refuse_revoked_client(&state.store, header).await {
        return revoked(why);
    }
    next.run(request).await
}

/// The answer to a token whose client was removed (401) or could not be checked (503), in the
/// gateway's error shape.
fn revoked(why: crate::auth::RevokedClient) -> Response {
    use crate::auth::RevokedClient;
    let (code, message) = match why {
        RevokedClient::Revoked => (
            schema::ErrorCode::Unauthenticated,
            "the token is invalid: its client was removed or its secret rotated",
        ),
        RevokedClient::Unavailable => (
            schema::ErrorCode::ServiceUnavailable,
            "the database is unavailable; try again",
        ),
    };
    let status = axum::http::StatusCode::from_u16(code.http_status())
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let code = code.as_str();
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    let mut resp = (status, axum::Json(body)).into_response();
    if why == RevokedClient::Revoked {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer error="invalid_token""#),
        );
    }
    resp
}
