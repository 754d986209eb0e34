//! RFC 7662 token introspection for opaque (non-JWT) access tokens of the external issuer.
//!
//! An answer is cached for a short while (at most [`MAX_CACHE`], never past the token's `exp`)
//! under the SHA-256 of the token, so a client's burst of requests costs one call to the
//! issuer; a revoked token therefore stays usable for up to that long. Refusals are cached
//! briefly too ([`NEGATIVE_CACHE`]); the cache evicts the least recently used answers past
//! [`MAX_ENTRIES`] (moka), instead of being wiped whole.
//!
//! Made-up tokens cannot make the gateway hammer the issuer or queue real users behind them:
//! calls run a few at a time, a request waits at most [`MAX_WAIT`] for its turn (then 503),
//! one source address has at most [`PER_SOURCE`] calls in flight (more are answered 503 at
//! once), a token shaped like a JWT is never sent (it is verified, or refused, locally), and
//! an answer larger than [`MAX_ANSWER_BYTES`] is refused as it streams in.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{AuthError, PrincipalClaims};
use crate::config::{ExternalIssuer, Introspection};

/// Longest an active answer is reused.
const MAX_CACHE: Duration = Duration::from_secs(60);
/// How long an inactive answer is reused.
const NEGATIVE_CACHE: Duration = Duration::from_secs(10);
/// Answers kept at most; the least recently used go first.
const MAX_ENTRIES: u64 = 100_000;
/// Calls to the issuer in flight at once.
const CONCURRENT_CALLS: usize = 8;
/// Calls in flight at once for one source address.
pub(crate) const PER_SOURCE: usize = 2;
/// The longest a request waits for a free call before it is answered 503.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(2);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// An introspection answer larger than this is refused (real ones are well under 4 KiB).
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The issuer cannot be asked now: the request is answered 503, not 401 (the token may be
/// fine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("token introspection is busy; try again shortly")]
pub struct Busy;

#[derive(Debug, thiserror::Error)]
pub enum IntrospectionError {
    #[error("cannot set up the introspection client: {0}")]
    Client(String),
}

/// An RFC 7662 response, with the token contract's claims.
#[derive(Debug, Deserialize)]
struct Answer {
    active: bool,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    person: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
}

/// RFC 7662 `token_type` values that name an access token (RFC 6749 §7.1 types, RFC 8693's
/// URI); anything else — `refresh_token`, Keycloak's `Refresh`, `id_token` — is refused.
fn is_access_token_type(t: &str) -> bool {
    let t = t.to_ascii_lowercase();
    matches!(
        t.as_str(),
        "bearer" | "dpop" | "access_token" | "urn:ietf:params:oauth:token-type:access_token"
    )
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

/// What a token was found to be.
#[derive(Debug, Clone)]
enum Verdict {
    Active(Box<PrincipalClaims>),
    Refused(String),
}

/// Introspects opaque tokens at the issuer, with a small cache.
pub struct Introspector {
    config: Introspection,
    issuer: String,
    audience: String,
    http: reqwest::Client,
    cache: moka::sync::Cache<[u8; 32], (Verdict, Instant)>,
    permits: Semaphore,
    /// Calls in flight per source address.
    sources: moka::sync::Cache<IpAddr, Arc<Semaphore>>,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("url", &self.config.url)
            .finish_non_exhaustive()
    }
}

/// Whether `token` is opaque: not shaped like a JWT (or JWE) — dot-separated base64url parts
/// whose first is a JSON object. A JWT-shaped token the gateway cannot verify (`alg: none`,
/// an unknown algorithm, a bad header) is refused locally, never sent to the issuer.
pub fn is_opaque(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    if !matches!(parts.len(), 3 | 5) {
        return true;
    }
    let header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[0].trim_end_matches('='));
    !header.is_ok_and(|h| h.trim_ascii_start().first() == Some(&b'{'))
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Introspector {
    pub fn new(issuer: &ExternalIssuer, config: Introspection) -> Result<Self, IntrospectionError> {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| IntrospectionError::Client(e.to_string()))?;
        Ok(Introspector {
            config,
            issuer: issuer.issuer.clone(),
            audience: issuer.audience.clone(),
            http,
            cache: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(MAX_CACHE)
                .build(),
            permits: Semaphore::new(CONCURRENT_CALLS),
            sources: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(60))
                .build(),
        })
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Verdict> {
        self.cache
            .get(key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(v, _)| v)
    }

    fn remember(&self, key: [u8; 32], verdict: Verdict, ttl: Duration) {
        self.cache.insert(key, (verdict, Instant::now() + ttl));
    }

    /// Introspects `token` unless a fresh answer is cached. [`Busy`] when `source` already
    /// has its share of calls in flight or no call is free within [`MAX_WAIT`].
    pub async fn ensure(&self, token: &str, source: Option<IpAddr>) -> Result<(), Busy> {
        let key = key(token);
        if self.cached(&key).is_some() {
            return Ok(());
        }
        let source = source.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let own = self
            .sources
            .get_with(source, || Arc::new(Semaphore::new(PER_SOURCE)));
        let Ok(_own) = own.try_acquire_owned() else {
            return Err(Busy);
        };
        let _permit = match tokio::time::timeout(MAX_WAIT, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(Busy),
        };
        // Another request may have asked while this one waited.
        if self.cached(&key).is_some() {
            return Ok(());
        }
        match self.call(token).await {
            Ok(answer) => {
                let (verdict, ttl) = self.judge(answer);
                self.remember(key, verdict, ttl);
            }
            // Not cached: the next request asks again (a few at a time).
            Err(why) => tracing::warn!(error = %why, "token introspection failed"),
        }
        Ok(())
    }

    /// The claims of an introspected, active `token`.
    pub fn verify(&self, token: &str) -> Result<PrincipalClaims, AuthError> {
        match self.cached(&key(token)) {
            Some(Verdict::Active(claims)) => Ok(*claims),
            Some(Verdict::Refused(why)) => Err(AuthError::Invalid(why)),
            None => Err(AuthError::Invalid(
                "the token could not be introspected".into(),
            )),
        }
    }

    async fn call(&self, token: &str) -> Result<Answer, String> {
        let resp = self
            .http
            .post(&self.config.url)
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        let mut resp = resp;
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err("the answer is too large".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| e.without_url().to_string())?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err("the answer is too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice::<Answer>(&body).map_err(|e| e.to_string())
    }

    /// Decides on an answer and for how long the decision holds.
    fn judge(&self, answer: Answer) -> (Verdict, Duration) {
        let refused = |why: &str| (Verdict::Refused(why.to_owned()), NEGATIVE_CACHE);
        let now = chrono::Utc::now().timestamp();
        if !answer.active {
            return refused("the token is not active");
        }
        if answer
            .token_type
            .as_deref()
            .is_some_and(|t| !is_access_token_type(t))
        {
            return refused("not an access token");
        }
        if answer.iss.as_deref().is_some_and(|i| i != self.issuer) {
            return refused("wrong issuer");
        }
        if !answer
            .aud
            .as_ref()
            .is_some_and(|a| a.contains(&self.audience))
        {
            return refused("wrong audience");
        }
        let Some(exp) = answer.exp else {
            return refused("missing claim `exp`");
        };
        if exp <= now {
            return refused("it has expired");
        }
        if answer.nbf.is_some_and(|nbf| nbf > now) {
            return refused("it is not valid yet");
        }
        let (Some(sub), Some(role)) = (answer.sub, answer.role) else {
            return refused("missing claim `sub` or `role`");
        };
        let ttl = Duration::from_secs(u64::try_from(exp - now).unwrap_or(0)).min(MAX_CACHE);
        let claims = PrincipalClaims {
            iss: answer.iss,
            iat: None,
            other: serde_json::Map::new(),
            sub,
            role,
            org: answer.org,
            person: answer.person,
            scope: answer.scope,
            purpose: answer.purpose,
        };
        (Verdict::Active(Box::new(claims)), ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn introspector() -> Introspector {
        let issuer =
            ExternalIssuer::new("https://id.example", "izgraph", "https://id.example/jwks");
        let config = Introspection {
            url: "https://id.example/introspect".into(),
            client_id: "gw".into(),
            client_secret: Secret::new("s"),
        };
        Introspector::new(&issuer, config).expect("client")
    }

    fn answer(v: serde_json::Value) -> Answer {
        serde_json::from_value(v).expect("answer")
    }

    #[test]
    fn only_active_tokens_for_this_audience_and_issuer_pass() {
        let i = introspector();
        let exp = chrono::Utc::now().timestamp() + 3600;
        let good = serde_json::json!({ "active": true, "iss": "https://id.example", "aud": ["x", "izgraph"], "exp": exp, "sub": "s", "role": "auditor" });
        let (verdict, ttl) = i.judge(answer(good.clone()));
        assert!(matches!(verdict, Verdict::Active(_)));
        assert_eq!(ttl, MAX_CACHE);
        for (field, value) in [
            ("active", serde_json::json!(false)),
            ("iss", serde_json::json!("https://evil.example")),
            ("aud", serde_json::json!("other")),
            ("exp", serde_json::json!(1)),
            ("nbf", serde_json::json!(exp)),
            ("token_type", serde_json::json!("refresh_token")),
        ] {
            let mut bad = good.clone();
            bad[field] = value;
            assert!(
                matches!(i.judge(answer(bad)).0, Verdict::Refused(_)),
                "{field}"
            );
        }
        assert!(is_opaque("2YotnFZFEjr1zCsicMWpAA"));
        // `{"alg":"none"}` . `{}` . (empty): a JWT, if an unverifiable one.
        assert!(!is_opaque("eyJhbGciOiJub25lIn0.e30."));
        assert!(is_opaque("a.b.c"));
    }
}
