//! Bearer-token authentication: a verified JWT becomes a [`Principal`], or the request is
//! refused with 401 `UNAUTHENTICATED`.

use jsonwebtoken::{Algorithm, Validation};
use policies::{Principal, PrincipalError, Purpose, Role, ScopeSet};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keys::{DevKeys, KeyError, DEV_AUDIENCE, DEV_ISSUER};

/// The token contract's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// Why a request is unauthenticated. The message is safe to show the caller.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the token's claims are invalid: {0}")]
    Claims(#[from] PrincipalError),
}

/// What a minted dev token says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub role: Role,
    pub org: Option<Uuid>,
    pub person: Option<Uuid>,
    pub scope: Option<String>,
    pub purpose: Option<Purpose>,
    pub ttl_seconds: i64,
    pub subject: Option<String>,
}

impl TokenRequest {
    pub fn new(role: Role) -> Self {
        TokenRequest {
            role,
            org: None,
            person: None,
            scope: None,
            purpose: None,
            ttl_seconds: 3600,
            subject: None,
        }
    }

    pub fn org(mut self, org: Uuid) -> Self {
        self.org = Some(org);
        self
    }

    pub fn person(mut self, person: Uuid) -> Self {
        self.person = Some(person);
        self
    }

    pub fn scope(mut self, scope: &str) -> Self {
        self.scope = Some(scope.to_owned());
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error(transparent)]
    Claims(#[from] PrincipalError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Signs a dev token, refusing claims that would not make a principal.
pub fn mint(keys: &DevKeys, req: &TokenRequest) -> Result<String, MintError> {
    let subject = req
        .subject
        .clone()
        .unwrap_or_else(|| format!("dev-{}", req.role.as_str()));
    Principal::from_claims(
        &subject,
        req.role,
        req.org,
        req.person,
        req.scope.as_deref().map(ScopeSet::parse_claim),
        req.purpose,
    )?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        iss: DEV_ISSUER.to_owned(),
        aud: DEV_AUDIENCE.to_owned(),
        sub: subject,
        exp: now + req.ttl_seconds,
        iat: now,
        nbf: None,
        role: req.role.as_str().to_owned(),
        org: req.org.map(|o| o.to_string()),
        person: req.person.map(|p| p.to_string()),
        scope: req.scope.clone(),
        purpose: req.purpose.map(|p| p.as_str().to_owned()),
    };
    Ok(keys.sign(&claims)?)
}

/// Verifies tokens of the dev issuer.
#[derive(Debug, Clone)]
pub struct Authenticator {
    keys: DevKeys,
    validation: Validation,
}

impl Authenticator {
    pub fn dev(keys: DevKeys) -> Self {
        // Only the key's own algorithm: `alg: none` and HMAC-with-the-public-key are refused.
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[DEV_ISSUER]);
        validation.set_audience(&[DEV_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Authenticator { keys, validation }
    }

    pub fn keys(&self) -> &DevKeys {
        &self.keys
    }

    /// The principal of an `Authorization` header value.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Malformed)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, self.keys.decoding_key(), &self.validation)
                .map_err(|e| AuthError::Invalid(describe(&e)))?;
        principal_of(&data.claims)
    }
}

fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match e.kind() {
        ExpiredSignature => "it has expired".into(),
        ImmatureSignature => "it is not valid yet".into(),
        InvalidIssuer => "wrong issuer".into(),
        InvalidAudience => "wrong audience".into(),
        InvalidSignature => "bad signature".into(),
        InvalidAlgorithm => "algorithm not accepted".into(),
        MissingRequiredClaim(c) => format!("missing claim `{c}`"),
        _ => "malformed token".into(),
    }
}

fn parse_uuid(claim: &'static str, value: Option<&str>) -> Result<Option<Uuid>, AuthError> {
    value
        .map(|v| {
            Uuid::parse_str(v).map_err(|_| AuthError::Invalid(format!("`{claim}` is not a UUID")))
        })
        .transpose()
}

/// Turns verified claims into a principal.
pub fn principal_of(claims: &Claims) -> Result<Principal, AuthError> {
    let role: Role = claims.role.parse()?;
    let purpose = claims
        .purpose
        .as_deref()
        .map(|p| {
            p.parse::<Purpose>()
                .map_err(|_| PrincipalError::UnknownPurpose(p.to_owned()))
        })
        .transpose()?;
    Ok(Principal::from_claims(
        &claims.sub,
        role,
        parse_uuid("org", claims.org.as_deref())?,
        parse_uuid("person", claims.person.as_deref())?,
        claims.scope.as_deref().map(ScopeSet::parse_claim),
        purpose,
    )?)
}
