//! Bearer-token authentication: a verified JWT becomes a [`Principal`], or the request is
//! refused with 401 `UNAUTHENTICATED`.
//!
//! Two modes, never both: the dev issuer (tokens signed by the data directory's ES256 key, also
//! minted by `POST /oauth/token` for registered [`clients`]), or an external OIDC issuer whose
//! keys come from its JWKS ([`jwks`]). In external mode the dev key is not trusted at all.

pub mod clients;
pub mod introspect;
pub mod jwks;
pub mod throttle;

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};
use policies::{Principal, PrincipalError, Purpose, Role, ScopeSet};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::ExternalIssuer;
use crate::keys::{DevKeys, KeyError, DEV_AUDIENCE, DEV_ISSUER};
use clients::ClientVerifier;
pub use introspect::Busy;
use introspect::{is_opaque, Introspector};
use jwks::{JwksError, RemoteKeys};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 5;

/// The token contract's claims, as minted.
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
    /// The registered client a token-endpoint token was issued to (RFC 9068 `client_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Which secret of that client it was issued with (see [`clients::secret_generation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgen: Option<String>,
    /// Authentication context class (OIDC `acr`): how well the user's identity was proofed,
    /// e.g. `IAL2`. A guardian or individual needs an accepted one to download a record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// The claims a principal is made of, as received. `iss`, `aud`, `exp` and `nbf` are checked
/// by the JWT validation itself (which also accepts an `aud` array, as external issuers send);
/// `iss` is also read here, as a string only, because the validation accepts an array of
/// issuers that merely contains the right one.
#[derive(Debug, Clone, Deserialize)]
pub struct PrincipalClaims {
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub iat: Option<i64>,
    pub sub: String,
    pub role: String,
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
    /// Every other claim (for [`TokenType`]'s configured access-token claim).
    #[serde(flatten, default)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl From<&Claims> for PrincipalClaims {
    fn from(c: &Claims) -> Self {
        PrincipalClaims {
            iss: Some(c.iss.clone()),
            iat: Some(c.iat),
            other: serde_json::Map::new(),
            sub: c.sub.clone(),
            role: c.role.clone(),
            org: c.org.clone(),
            person: c.person.clone(),
            scope: c.scope.clone(),
            purpose: c.purpose.clone(),
        }
    }
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

/// What marks an external issuer's JWT as an access token (RFC 9068 §2.1: `typ: at+jwt`),
/// so that an ID token of the same issuer — signed by the same keys, often with the same
/// audience — is not accepted as one.
#[derive(Debug, Clone)]
pub(crate) struct TokenType {
    types: Vec<String>,
    claim: Option<(String, String)>,
}

impl TokenType {
    pub(crate) fn of(issuer: &ExternalIssuer) -> TokenType {
        TokenType {
            types: issuer
                .token_types
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            claim: issuer.access_claim.clone(),
        }
    }

    pub(crate) fn check(
        &self,
        typ: Option<&str>,
        claims: &PrincipalClaims,
    ) -> Result<(), AuthError> {
        if typ.is_some_and(|t| self.types.contains(&t.to_ascii_lowercase())) {
            return Ok(());
        }
        if let Some((name, value)) = &self.claim {
            if claims.other.get(name).and_then(|v| v.as_str()) == Some(value.as_str()) {
                return Ok(());
            }
        }
        Err(AuthError::Invalid("not an access token".into()))
    }
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
    /// For the token endpoint: the client and its secret's generation, so the token is
    /// refused once the client is removed or its secret rotated.
    pub client: Option<(Uuid, String)>,
    /// The identity-assurance level the dev issuer vouches for (`acr`).
    pub acr: Option<String>,
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
            client: None,
            acr: None,
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
#[expect(
    clippy::disallowed_methods,
    reason = "checks the claims as the verified-token path will; the principal is dropped"
)]
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
        client_id: req.client.as_ref().map(|(id, _)| id.to_string()),
        cgen: req
            .client
            .as_ref()
            .map(|(_, generation)| generation.clone()),
        acr: req.acr.clone(),
    };
    Ok(keys.sign(&claims)?)
}

/// The validation every token gets: only `algorithm` (so `alg: none` and HMAC keyed with a
/// public key are refused), the expected issuer and audience, `nbf` honoured.
pub(crate) fn validation(algorithm: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECONDS;
    validation
}

/// Whose tokens are accepted.
#[derive(Debug, Clone)]
enum Mode {
    /// The dev issuer: its key verifies, and its token endpoint serves registered clients.
    Dev {
        validation: Box<Validation>,
        clients: ClientVerifier,
    },
    /// An external issuer: only keys from its JWKS verify JWTs; opaque tokens are
    /// introspected at the issuer when that is configured, refused otherwise.
    External {
        keys: Arc<RemoteKeys>,
        introspection: Option<Arc<Introspector>>,
    },
}

/// Verifies bearer tokens.
#[derive(Debug, Clone)]
pub struct Authenticator {
    /// In dev mode the trusted key; in external mode an ephemeral key nothing trusts (kept so
    /// tests can show that a dev-signed token is refused there).
    keys: DevKeys,
    mode: Mode,
}

impl Authenticator {
    pub fn dev(keys: DevKeys) -> Self {
        Authenticator {
            keys,
            mode: Mode::Dev {
                validation: Box::new(validation(Algorithm::ES256, DEV_ISSUER, DEV_AUDIENCE)),
                clients: ClientVerifier::new(),
            },
        }
    }

    /// Trusts `issuer`, fetching its JWKS now: a gateway that cannot verify any token should
    /// not report itself started.
    pub async fn external(issuer: &ExternalIssuer) -> Result<Self, JwksError> {
        let keys = RemoteKeys::fetch(issuer.clone()).await?;
        let introspection = issuer
            .introspection
            .clone()
            .map(|config| Introspector::new(issuer, config).map(Arc::new))
            .transpose()?;
        Ok(Authenticator {
            keys: DevKeys::ephemeral()?,
            mode: Mode::External {
                keys,
                introspection,
            },
        })
    }

    /// The dev key (see the field's doc for external mode).
    pub fn keys(&self) -> &DevKeys {
        &self.keys
    }

    /// Whether this is the dev issuer (which serves its JWKS and its token endpoint).
    pub fn is_dev(&self) -> bool {
        matches!(self.mode, Mode::Dev { .. })
    }

    /// The registered-client verifier of the dev token endpoint; `None` in external mode.
    pub fn clients(&self) -> Option<&ClientVerifier> {
        match &self.mode {
            Mode::Dev { clients, .. } => Some(clients),
            Mode::External { .. } => None,
        }
    }

    /// Does the network work authenticating a token may need, before the synchronous
    /// [`authenticate`](Self::authenticate): with an external issuer, re-fetches its JWKS when
    /// a JWT names an unknown key (at most once per the configured interval), or introspects
    /// an opaque token. A no-op in dev mode.
    ///
    /// [`Busy`] when an introspection could not be made now (the caller answers 503):
    /// `source` (the peer address) has its share of calls in flight, or none was free soon.
    pub async fn prepare(
        &self,
        header: Option<&str>,
        source: Option<std::net::IpAddr>,
    ) -> Result<(), Busy> {
        let (
            Mode::External {
                keys,
                introspection,
            },
            Some(token),
        ) = (&self.mode, header.and_then(bearer))
        else {
            return Ok(());
        };
        match introspection {
            Some(introspector) if is_opaque(token) => introspector.ensure(token, source).await,
            _ => {
                keys.ensure_key_for(token).await;
                Ok(())
            }
        }
    }

    /// Refuses a token-endpoint token whose client was removed or rotated its secret since.
    /// Every instance asks the database on every such request, so a removal takes effect at
    /// once everywhere. The client is read from the token unverified: this can only refuse,
    /// and [`authenticate`](Self::authenticate) verifies the token itself. Other tokens (and
    /// an external issuer's) pass untouched.
    pub async fn refuse_revoked_client(
        &self,
        store: &entities::Store,
        header: Option<&str>,
    ) -> Result<(), RevokedClient> {
        let (Mode::Dev { .. }, Some(token)) = (&self.mode, header.and_then(bearer)) else {
            return Ok(());
        };
        let Some((id, generation)) = client_of(token) else {
            return Ok(());
        };
        match store.oauth_client(id).await {
            Ok(Some(c)) if clients::secret_generation(&c.secret_hash) == generation => Ok(()),
            Ok(_) => Err(RevokedClient::Revoked),
            Err(e) => {
                tracing::warn!(error = %e, "cannot check a client token's client");
                Err(RevokedClient::Unavailable)
            }
        }
    }

    /// The principal of an `Authorization` header value.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, AuthError> {
        self.authenticate_with_acr(header).map(|(p, _)| p)
    }

    /// The principal and the token's `acr` claim (how well the user's identity was proofed),
    /// for the downloads that require identity proofing.
    pub fn authenticate_with_acr(
        &self,
        header: Option<&str>,
    ) -> Result<(Principal, Option<String>), AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let token = bearer(header).ok_or(AuthError::Malformed)?;
        let claims = match &self.mode {
            Mode::Dev { validation, .. } => {
                jsonwebtoken::decode::<PrincipalClaims>(token, self.keys.decoding_key(), validation)
                    .map_err(|e| AuthError::Invalid(describe(&e)))?
                    .claims
            }
            Mode::External {
                introspection: Some(introspector),
                ..
            } if is_opaque(token) => introspector.verify(token)?,
            Mode::External { keys, .. } => keys.verify(token)?,
        };
        let acr = claims
            .other
            .get("acr")
            .and_then(|v| v.as_str())
            .filter(|a| !a.chars().any(is_control_or_format))
            .map(str::to_owned);
        Ok((principal_of_claims(&claims)?, acr))
    }
}

/// Why [`Authenticator::refuse_revoked_client`] refused a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedClient {
    /// The client was removed, or its secret rotated.
    Revoked,
    /// The database could not say.
    Unavailable,
}

/// The client and secret generation a JWT's payload names, if any (not verified).
fn client_of(token: &str) -> Option<(Uuid, String)> {
    #[derive(Deserialize)]
    struct ClientClaims {
        client_id: Option<String>,
        cgen: Option<String>,
    }
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: ClientClaims = serde_json::from_slice(&bytes).ok()?;
    Some((
        claims.client_id?.parse().ok()?,
        claims.cgen.unwrap_or_default(),
    ))
}

/// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 7235).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A caller-safe description of a validation failure.
pub(crate) fn describe(e: &jsonwebtoken::errors::Error) -> String {
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
    principal_of_claims(&PrincipalClaims::from(claims))
}

/// Whether `c` is a control or format character (Unicode general category Cc or Cf: NUL,
/// newlines, U+202E RIGHT-TO-LEFT OVERRIDE, zero-width joiners…): such characters let a
/// claim display as something else in the access log, a review screen or a terminal.
fn is_control_or_format(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control | GeneralCategory::Format
    )
}

/// Refuses claims no issuer should send: control or format characters in any string claim,
/// and an `iat` in the future (beyond the clock-skew leeway).
fn check_claims(claims: &PrincipalClaims) -> Result<(), AuthError> {
    let strings = [
        ("iss", claims.iss.as_deref()),
        ("sub", Some(claims.sub.as_str())),
        ("role", Some(claims.role.as_str())),
        ("org", claims.org.as_deref()),
        ("person", claims.person.as_deref()),
        ("scope", claims.scope.as_deref()),
        ("purpose", claims.purpose.as_deref()),
    ];
    for (name, value) in strings {
        if value.is_some_and(|v| v.chars().any(is_control_or_format)) {
            return Err(AuthError::Invalid(format!(
                "`{name}` contains a control or format character"
            )));
        }
    }
    let now = chrono::Utc::now().timestamp();
    if claims
        .iat
        .is_some_and(|iat| iat > now.saturating_add(LEEWAY_SECONDS as i64))
    {
        return Err(AuthError::Invalid("it was issued in the future".into()));
    }
    Ok(())
}

#[expect(
    clippy::disallowed_methods,
    reason = "the verified-token path: the one place principals are made"
)]
fn principal_of_claims(claims: &PrincipalClaims) -> Result<Principal, AuthError> {
    check_claims(claims)?;
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

/// The principal of a registered client authenticated by its id and secret (the HL7 SOAP
/// service's username and password): exactly what a token from the token endpoint for that
/// client, with every scope it is registered for, would make.
pub fn principal_of_client(
    client: &entities::repo::oauth_clients::OAuthClient,
) -> Result<Principal, AuthError> {
    principal_of_claims(&PrincipalClaims {
        iss: None,
        iat: None,
        sub: client.id.to_string(),
        role: client.role.to_string(),
        org: client.organization.map(|o| o.to_string()),
        person: None,
        scope: Some(client.scopes.to_claim()),
        purpose: None,
        other: serde_json::Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bEaReR  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
