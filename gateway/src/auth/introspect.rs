//! RFC 7662 token introspection for opaque (non-JWT) access tokens of the external issuer.
//!
//! An answer is cached for a short while (at most [`MAX_CACHE`], never past the token's `exp`)
//! under the SHA-256 of the token, so a client's burst of requests costs one call to the
//! issuer; a revoked token therefore stays usable for up to that long. Refusals are cached
//! briefly too, and calls run a few at a time, so made-up tokens cannot make the gateway hammer
//! the issuer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{AuthError, PrincipalClaims};
use crate::config::{ExternalIssuer, Introspection};

/// Longest an active answer is reused.
const MAX_CACHE: Duration = Duration::from_secs(60);
/// How long an inactive answer is reused.
const NEGATIVE_CACHE: Duration = Duration::from_secs(10);
/// Entries kept at most; past this, expired ones are dropped, then everything.
const MAX_ENTRIES: usize = 10_000;
const CONCURRENT_CALLS: usize = 4;
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

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
    Active(PrincipalClaims),
    Refused(String),
}

/// Introspects opaque tokens at the issuer, with a small cache.
pub struct Introspector {
    config: Introspection,
    issuer: String,
    audience: String,
    http: reqwest::Client,
    cache: Mutex<HashMap<[u8; 32], (Verdict, Instant)>>,
    permits: Semaphore,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("url", &self.config.url)
            .finish_non_exhaustive()
    }
}

/// Whether `token` is opaque, i.e. not shaped like a JWT (which is verified locally).
pub fn is_opaque(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_err()
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
            cache: Mutex::new(HashMap::new()),
            permits: Semaphore::new(CONCURRENT_CALLS),
        })
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Verdict> {
        let cache = match self.cache.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        cache
            .get(key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(v, _)| v.clone())
    }

    fn remember(&self, key: [u8; 32], verdict: Verdict, ttl: Duration) {
        let mut cache = match self.cache.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if cache.len() >= MAX_ENTRIES {
            let now = Instant::now();
            cache.retain(|_, (_, until)| *until > now);
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (verdict, Instant::now() + ttl));
    }

    /// Introspects `token` unless a fresh answer is cached.
    pub async fn ensure(&self, token: &str) {
        let key = key(token);
        if self.cached(&key).is_some() {
            return;
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return;
        };
        // Another request may have asked while this one waited.
        if self.cached(&key).is_some() {
            return;
        }
        match self.call(token).await {
            Ok(answer) => {
                let (verdict, ttl) = self.judge(answer);
                self.remember(key, verdict, ttl);
            }
            // Not cached: the next request asks again (a few at a time).
            Err(why) => tracing::warn!(error = %why, "token introspection failed"),
        }
    }

    /// The claims of an introspected, active `token`.
    pub fn verify(&self, token: &str) -> Result<PrincipalClaims, AuthError> {
        match self.cached(&key(token)) {
            Some(Verdict::Active(claims)) => Ok(claims),
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
        resp.json::<Answer>().await.map_err(|e| e.to_string())
    }

    /// Decides on an answer and for how long the decision holds.
    fn judge(&self, answer: Answer) -> (Verdict, Duration) {
        let refused = |why: &str| (Verdict::Refused(why.to_owned()), NEGATIVE_CACHE);
        let now = chrono::Utc::now().timestamp();
        if !answer.active {
            return refused("the token is not active");
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
            sub,
            role,
            org: answer.org,
            person: answer.person,
            scope: answer.scope,
            purpose: answer.purpose,
        };
        (Verdict::Active(claims), ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn introspector() -> Introspector {
        let issuer = ExternalIssuer {
            issuer: "https://id.example".into(),
            audience: "izgraph".into(),
            jwks_url: "https://id.example/jwks".into(),
            min_refresh_interval: Duration::from_secs(30),
            introspection: None,
        };
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
        ] {
            let mut bad = good.clone();
            bad[field] = value;
            assert!(
                matches!(i.judge(answer(bad)).0, Verdict::Refused(_)),
                "{field}"
            );
        }
        assert!(is_opaque("2YotnFZFEjr1zCsicMWpAA"));
    }
}
