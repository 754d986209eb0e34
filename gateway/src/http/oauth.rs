//! `POST /oauth/token`: the dev issuer's OAuth2 token endpoint, client-credentials grant only
//! (RFC 6749 §4.4), so a partner system's real OAuth2 client works against the embedded
//! default. Clients authenticate with HTTP Basic or with `client_id`/`client_secret` form
//! fields (§2.3.1, one method per request); errors follow §5.2.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use policies::{Scope, ScopeSet};
use serde_json::json;

use crate::app::AppState;
use crate::auth::clients::{secret_generation, ClientAuthError};
use crate::auth::{mint, TokenRequest};

/// Lifetime of an issued access token.
pub const TOKEN_TTL_SECONDS: i64 = 3600;
const FORM: &str = "application/x-www-form-urlencoded";

/// The error codes of RFC 6749 §5.2 this endpoint uses (plus `server_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    /// Over the source's or the client's rate (`429`, with `Retry-After`).
    TooManyRequests,
    /// Every verification slot and queue place taken (`503`, with `Retry-After`).
    TemporarilyUnavailable,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A refused token request.
#[derive(Debug)]
struct OAuthError {
    code: ErrorCode,
    description: String,
    /// Seconds for `Retry-After`.
    retry_after: Option<u64>,
}

fn refuse(code: ErrorCode, description: impl Into<String>) -> OAuthError {
    OAuthError {
        code,
        description: description.into(),
        retry_after: None,
    }
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code.as_str(), "error_description": self.description });
        let mut resp = (self.code.status(), axum::Json(body)).into_response();
        if self.code == ErrorCode::InvalidClient {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="izgraph", charset="UTF-8""#),
            );
        }
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        no_store(&mut resp);
        resp
    }
}

/// The request's parameters; each may appear once (§3.2).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(FORM));
        if !is_form {
            return Err(refuse(
                ErrorCode::InvalidRequest,
                format!("the body must be {FORM}"),
            ));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| refuse(ErrorCode::InvalidRequest, "the body is not a valid form"))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(refuse(
                    ErrorCode::InvalidRequest,
                    format!("parameter `{name}` is repeated"),
                ));
            }
        }
        Ok(Params(pairs))
    }

    /// The parameter's value; an empty value counts as absent (§3.1).
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes one form-encoded part of a Basic credential (§2.3.1 encodes id and secret first).
fn form_decode(part: &str) -> Option<String> {
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The client id and secret, from exactly one of Basic auth and the form.
fn credentials(headers: &HeaderMap, params: &Params) -> Result<(String, String), OAuthError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let bad = || refuse(ErrorCode::InvalidClient, "malformed Basic credentials");
            let value = value.to_str().map_err(|_| bad())?;
            let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(bad)?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(refuse(
                    ErrorCode::InvalidClient,
                    "clients authenticate with HTTP Basic",
                ));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| bad())?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
            Some((
                form_decode(id).ok_or_else(bad)?,
                form_decode(secret).ok_or_else(bad)?,
            ))
        }
    };
    let form_id = params.get("client_id");
    let form_secret = params.get("client_secret");
    match basic {
        Some((id, secret)) => {
            if form_secret.is_some() {
                return Err(refuse(
                    ErrorCode::InvalidRequest,
                    "use one client authentication method, not Basic and client_secret both",
                ));
            }
            if form_id.is_some_and(|f| f != id) {
                return Err(refuse(
                    ErrorCode::InvalidRequest,
                    "client_id differs from the Basic credentials",
                ));
            }
            Ok((id, secret))
        }
        None => match (form_id, form_secret) {
            (Some(id), Some(secret)) => Ok((id.to_owned(), secret.to_owned())),
            _ => Err(refuse(
                ErrorCode::InvalidClient,
                "client authentication is required",
            )),
        },
    }
}

/// The scopes asked for, which must all be known and within what the client may have.
fn granted_scopes(requested: Option<&str>, allowed: ScopeSet) -> Result<ScopeSet, OAuthError> {
    let Some(requested) = requested else {
        return Ok(allowed);
    };
    let mut scopes = Vec::new();
    for name in requested.split(' ').filter(|s| !s.is_empty()) {
        let scope: Scope = name
            .parse()
            .map_err(|()| refuse(ErrorCode::InvalidScope, format!("unknown scope `{name}`")))?;
        if !allowed.contains(scope) {
            return Err(refuse(
                ErrorCode::InvalidScope,
                format!("scope `{name}` is not granted to this client"),
            ));
        }
        scopes.push(scope);
    }
    if scopes.is_empty() {
        return Ok(allowed);
    }
    Ok(ScopeSet::of(&scopes))
}

pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match issue(&state, peer.ip(), &headers, &body).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn issue(
    state: &AppState,
    source: IpAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let Some(verifier) = state.auth.clients() else {
        return Err(refuse(
            ErrorCode::ServerError,
            "this gateway trusts an external issuer; ask it for tokens",
        ));
    };
    let params = Params::parse(headers, body)?;
    match params.get("grant_type") {
        None => return Err(refuse(ErrorCode::InvalidRequest, "grant_type is required")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(refuse(
                ErrorCode::UnsupportedGrantType,
                format!("grant type `{other}` is not supported; use client_credentials"),
            ))
        }
    }
    let (id, secret) = credentials(headers, &params)?;
    let client = verifier
        .authenticate(&state.store, &id, &secret, source)
        .await
        .map_err(|e| match e {
            ClientAuthError::Failed => {
                refuse(ErrorCode::InvalidClient, "client authentication failed")
            }
            ClientAuthError::RateLimited(after) => OAuthError {
                retry_after: Some(after.as_secs_f64().ceil() as u64),
                ..refuse(
                    ErrorCode::TooManyRequests,
                    "too many token requests; retry later",
                )
            },
            ClientAuthError::Busy => OAuthError {
                retry_after: Some(1),
                ..refuse(
                    ErrorCode::TemporarilyUnavailable,
                    "the token endpoint is busy; retry shortly",
                )
            },
            other => {
                tracing::error!(error = %other, "client authentication could not run");
                refuse(
                    ErrorCode::ServerError,
                    "client authentication is unavailable",
                )
            }
        })?;
    let scopes = granted_scopes(params.get("scope"), client.scopes)?;
    let scope = scopes.to_claim();
    let access_token = mint(
        state.auth.keys(),
        &TokenRequest {
            role: client.role,
            org: client.organization,
            person: None,
            scope: Some(scope.clone()),
            purpose: None,
            ttl_seconds: TOKEN_TTL_SECONDS,
            subject: Some(client.id.to_string()),
            client: Some((client.id, secret_generation(&client.secret_hash))),
            acr: None,
        },
    )
    .map_err(|e| {
        tracing::error!(client = %client.id, error = %e, "cannot mint a client token");
        refuse(ErrorCode::ServerError, "the token could not be issued")
    })?;
    tracing::info!(client = %client.id, role = %client.role, "client token issued");
    let mut resp = axum::Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL_SECONDS,
        "scope": scope,
    }))
    .into_response();
    no_store(&mut resp);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_must_be_known_and_allowed() {
        let allowed = ScopeSet::of(&[Scope::PersonRead, Scope::DoseWrite]);
        assert_eq!(granted_scopes(None, allowed).ok(), Some(allowed));
        assert_eq!(
            granted_scopes(Some("person:read"), allowed).ok(),
            Some(ScopeSet::of(&[Scope::PersonRead]))
        );
        assert!(granted_scopes(Some("admin"), allowed).is_err());
        assert!(granted_scopes(Some("bogus"), allowed).is_err());
    }

    #[test]
    fn basic_parts_are_form_decoded() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("%FF"), None);
    }
}
