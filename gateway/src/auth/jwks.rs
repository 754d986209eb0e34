//! An external issuer's signing keys, from its JWKS: fetched at start-up, on a schedule
//! (the issuer's `Cache-Control: max-age` between the configured floor and ceiling; the new
//! set replaces the old one, so a key the issuer removed stops verifying), and when a token
//! names a key id the gateway does not know (key rotation) — never more often than the floor,
//! so a stream of tokens with made-up `kid`s cannot make the gateway hammer the issuer.
//! Redirects are not followed: the configured URL is https (or loopback), and a redirect could
//! lead anywhere, plain HTTP included.
//!
//! Only RS256 and ES256 keys meant for signatures are taken (`use` absent or `sig`, `key_ops`
//! absent or containing `verify`), and each key verifies only its own algorithm: a token
//! whose `alg` differs from its key's is refused, which shuts out `alg: none` and HMAC keyed
//! with a public key. Keys sharing a `kid` are all kept, each for its own algorithm.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{describe, validation, AuthError, PrincipalClaims, TokenType};
use crate::config::ExternalIssuer;
use crate::keys::KeyError;

/// A JWKS larger than this is refused (real ones are a few kilobytes).
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// RSA keys shorter than this are not trusted.
const MIN_RSA_MODULUS_BYTES: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("cannot fetch the issuer's JWKS from {url}: {why}")]
    Fetch { url: String, why: String },
    #[error("the issuer's JWKS at {url} is not a JWK set: {why}")]
    Malformed { url: String, why: String },
    #[error("the issuer's JWKS at {0} has no RS256 or ES256 signing key")]
    NoUsableKey(String),
    #[error("cannot create the in-memory dev key: {0}")]
    Key(#[from] KeyError),
    #[error(transparent)]
    Introspection(#[from] super::introspect::IntrospectionError),
}

/// One verification key and the only algorithm it verifies.
#[derive(Clone)]
struct VerifyKey {
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The keys of one JWKS fetch.
#[derive(Clone, Default)]
struct KeySet {
    /// Every key published under a `kid` (an issuer may publish one id for an RSA and an EC
    /// key; each verifies only its own algorithm).
    by_kid: HashMap<String, Vec<VerifyKey>>,
    /// Keys published without a `kid`, tried for tokens without one.
    unnamed: Vec<VerifyKey>,
}

impl KeySet {
    fn contains(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    fn len(&self) -> usize {
        self.by_kid.values().map(Vec::len).sum::<usize>() + self.unnamed.len()
    }
}

/// The external issuer's keys, kept fresh.
pub struct RemoteKeys {
    issuer: ExternalIssuer,
    http: reqwest::Client,
    keys: RwLock<Arc<KeySet>>,
    /// When the JWKS was last fetched; the lock also makes concurrent re-fetches wait for one.
    last_fetch: tokio::sync::Mutex<Instant>,
    rs256: Validation,
    es256: Validation,
    token_type: TokenType,
}

impl std::fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("issuer", &self.issuer.issuer)
            .field("jwks_url", &self.issuer.jwks_url)
            .field("keys", &self.current().len())
            .finish_non_exhaustive()
    }
}

impl RemoteKeys {
    /// Fetches the JWKS once, failing when it cannot be had or holds no usable key, and
    /// schedules the refreshes (which end when the keys are dropped).
    pub async fn fetch(issuer: ExternalIssuer) -> Result<Arc<RemoteKeys>, JwksError> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| JwksError::Fetch {
                url: issuer.jwks_url.clone(),
                why: e.to_string(),
            })?;
        let (keys, max_age) = load(&http, &issuer.jwks_url).await?;
        tracing::info!(issuer = %issuer.issuer, keys = keys.len(), "external issuer keys loaded");
        let remote = Arc::new(RemoteKeys {
            rs256: validation(Algorithm::RS256, &issuer.issuer, &issuer.audience),
            es256: validation(Algorithm::ES256, &issuer.issuer, &issuer.audience),
            token_type: TokenType::of(&issuer),
            issuer,
            http,
            keys: RwLock::new(Arc::new(keys)),
            last_fetch: tokio::sync::Mutex::new(Instant::now()),
        });
        let first = remote.next_refresh(max_age);
        tokio::spawn(refresh(Arc::downgrade(&remote), first));
        Ok(remote)
    }

    /// When to fetch again: the issuer's `max-age` within the configured floor and ceiling.
    fn next_refresh(&self, max_age: Option<Duration>) -> Duration {
        max_age.unwrap_or(self.issuer.refresh_interval).clamp(
            self.issuer.min_refresh_interval,
            self.issuer.refresh_interval,
        )
    }

    /// One scheduled fetch; the next one's delay. A failure keeps the current keys (an
    /// issuer outage must not lock everyone out) and is retried at the floor.
    async fn scheduled_fetch(&self) -> Duration {
        let mut last = self.last_fetch.lock().await;
        *last = Instant::now();
        match load(&self.http, &self.issuer.jwks_url).await {
            Ok((keys, max_age)) => {
                tracing::debug!(issuer = %self.issuer.issuer, keys = keys.len(), "external issuer keys refreshed");
                self.replace(keys);
                self.next_refresh(max_age)
            }
            Err(e) => {
                tracing::warn!(error = %e, "external issuer keys could not be refreshed; keeping the current ones");
                self.issuer.min_refresh_interval
            }
        }
    }

    fn current(&self) -> Arc<KeySet> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, keys: KeySet) {
        let keys = Arc::new(keys);
        match self.keys.write() {
            Ok(mut k) => *k = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    /// Re-fetches the JWKS if `token` names a key id not known yet and the last fetch is at
    /// least the configured interval ago. Failures are logged and leave the old keys in place.
    pub async fn ensure_key_for(&self, token: &str) {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return;
        };
        let Some(kid) = header.kid else { return };
        if accepted(header.alg).is_none() || self.current().contains(&kid) {
            return;
        }
        let mut last = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited for the lock.
        if self.current().contains(&kid) || last.elapsed() < self.issuer.min_refresh_interval {
            return;
        }
        *last = Instant::now();
        match load(&self.http, &self.issuer.jwks_url).await {
            Ok((keys, _)) => {
                tracing::info!(issuer = %self.issuer.issuer, keys = keys.len(), "external issuer keys re-fetched");
                self.replace(keys);
            }
            Err(e) => tracing::warn!(error = %e, "external issuer keys could not be re-fetched"),
        }
    }

    /// Verifies `token` against the known keys and returns its claims.
    pub fn verify(&self, token: &str) -> Result<PrincipalClaims, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("malformed token".into()))?;
        // RFC 7515 §4.1.11: extensions marked critical must be understood; none are.
        if header.crit.is_some() {
            return Err(AuthError::Invalid(
                "critical header extensions are not supported".into(),
            ));
        }
        let algorithm = accepted(header.alg)
            .ok_or_else(|| AuthError::Invalid("algorithm not accepted".into()))?;
        let keys = self.current();
        let candidates: Vec<&VerifyKey> = match &header.kid {
            Some(kid) => keys.by_kid.get(kid).into_iter().flatten().collect(),
            None => keys.unnamed.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(AuthError::Invalid("unknown signing key".into()));
        }
        let validation = match algorithm {
            Algorithm::RS256 => &self.rs256,
            _ => &self.es256,
        };
        let mut last_error = AuthError::Invalid("algorithm not accepted".into());
        for key in candidates.into_iter().filter(|k| k.algorithm == algorithm) {
            match jsonwebtoken::decode::<PrincipalClaims>(token, &key.key, validation) {
                Ok(data) => {
                    self.token_type.check(header.typ.as_deref(), &data.claims)?;
                    return Ok(data.claims);
                }
                Err(e) => last_error = AuthError::Invalid(describe(&e)),
            }
        }
        Err(last_error)
    }
}

/// The algorithms an external issuer's tokens may use.
fn accepted(alg: Algorithm) -> Option<Algorithm> {
    matches!(alg, Algorithm::RS256 | Algorithm::ES256).then_some(alg)
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

/// Refreshes the keys on schedule while they are in use.
async fn refresh(keys: Weak<RemoteKeys>, mut delay: Duration) {
    loop {
        tokio::time::sleep(delay).await;
        let Some(keys) = keys.upgrade() else {
            return;
        };
        delay = keys.scheduled_fetch().await;
    }
}

/// The `max-age` of a `Cache-Control` value (`no-store`/`no-cache` count as 0).
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            return Some(Duration::ZERO);
        }
        directive
            .strip_prefix("max-age=")
            .and_then(|n| n.trim_matches('"').parse::<u64>().ok())
            .map(Duration::from_secs)
    })
}

/// Fetches and parses the JWKS at `url`, keeping the usable keys; with the answer's max-age.
async fn load(http: &reqwest::Client, url: &str) -> Result<(KeySet, Option<Duration>), JwksError> {
    let fetch = |why: String| JwksError::Fetch {
        url: url.to_owned(),
        why,
    };
    let mut resp = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| fetch(e.to_string()))?;
    if resp.status().is_redirection() {
        return Err(fetch(format!(
            "HTTP {}: redirects are not followed; configure the final URL",
            resp.status()
        )));
    }
    if !resp.status().is_success() {
        return Err(fetch(format!("HTTP {}", resp.status())));
    }
    let max_age = resp
        .headers()
        .get_all(reqwest::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(max_age);
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(fetch("the response is too large".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fetch(e.to_string()))? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(fetch("the response is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let raw: RawSet = serde_json::from_slice(&body).map_err(|e| JwksError::Malformed {
        url: url.to_owned(),
        why: e.to_string(),
    })?;
    let mut set = KeySet::default();
    for value in raw.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let Some(key) = verify_key(&jwk) else {
            tracing::debug!(kid = ?jwk.common.key_id, "JWKS key skipped: not an RS256/ES256 signing key");
            continue;
        };
        match jwk.common.key_id {
            Some(kid) => set.by_kid.entry(kid).or_default().push(key),
            None => set.unnamed.push(key),
        }
    }
    if set.len() == 0 {
        return Err(JwksError::NoUsableKey(url.to_owned()));
    }
    Ok((set, max_age))
}

/// The key and its one algorithm, if `jwk` is an RS256 or ES256 signing key.
fn verify_key(jwk: &Jwk) -> Option<VerifyKey> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if jwk
        .common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let (algorithm, key) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .ok()?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return None;
            }
            (
                Algorithm::RS256,
                DecodingKey::from_rsa_components(&rsa.n, &rsa.e).ok()?,
            )
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => (
            Algorithm::ES256,
            DecodingKey::from_ec_components(&ec.x, &ec.y).ok()?,
        ),
        _ => return None,
    };
    // A published `alg` must be the key's own; a key without one gets its type's algorithm.
    match jwk.common.key_algorithm {
        None => {}
        Some(KeyAlgorithm::RS256) if algorithm == Algorithm::RS256 => {}
        Some(KeyAlgorithm::ES256) if algorithm == Algorithm::ES256 => {}
        Some(_) => return None,
    }
    Some(VerifyKey { algorithm, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(value: serde_json::Value) -> Jwk {
        serde_json::from_value(value).expect("jwk")
    }

    #[test]
    fn only_rs256_and_es256_signing_keys_are_taken() {
        let keys = crate::keys::DevKeys::ephemeral().expect("key");
        let ec = serde_json::to_value(keys.jwk()).expect("json");
        assert!(verify_key(&jwk(ec.clone())).is_some());
        let mut enc = ec.clone();
        enc["use"] = "enc".into();
        assert!(verify_key(&jwk(enc)).is_none());
        let mut hs = ec.clone();
        hs["alg"] = "HS256".into();
        assert!(verify_key(&jwk(hs)).is_none());
        let oct = serde_json::json!({ "kty": "oct", "k": "c2VjcmV0", "alg": "HS256" });
        assert!(verify_key(&jwk(oct)).is_none());
        let short_rsa = serde_json::json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB" });
        assert!(verify_key(&jwk(short_rsa)).is_none());
        let mut encrypting = ec.clone();
        encrypting["key_ops"] = serde_json::json!(["encrypt", "wrapKey"]);
        assert!(verify_key(&jwk(encrypting)).is_none());
        let mut verifying = ec.clone();
        verifying["key_ops"] = serde_json::json!(["verify"]);
        assert!(verify_key(&jwk(verifying)).is_some());
    }

    #[test]
    fn cache_control_max_age_is_read() {
        assert_eq!(
            max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
    }
}
