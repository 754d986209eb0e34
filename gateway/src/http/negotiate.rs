//! Media types of GraphQL over HTTP: which response type the client accepts.

use axum::http::HeaderMap;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

/// The response media type to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphqlResponseJson,
    /// `application/json`: always 200 for a well-formed request (legacy clients).
    Json,
}

impl ResponseType {
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            ResponseType::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks by the `Accept` header's order and q-values; `None` when nothing acceptable is
/// offered (406). No header, or `*/*`, means the spec's default.
pub fn response_type(headers: &HeaderMap) -> Option<ResponseType> {
    let Some(accept) = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Some(ResponseType::GraphqlResponseJson);
    };
    let mut best: Option<(f32, ResponseType)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let kind = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => ResponseType::GraphqlResponseJson,
            JSON => ResponseType::Json,
            "*/*" | "application/*" => ResponseType::GraphqlResponseJson,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, kind));
        }
    }
    if accept.trim().is_empty() {
        return Some(ResponseType::GraphqlResponseJson);
    }
    best.map(|(_, k)| k)
}

/// Whether the client asked for a page (a browser opening `/graphql`).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}
