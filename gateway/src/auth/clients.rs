//! Registered OAuth2 partner clients of the dev token endpoint: registration (`izgraph client
//! add`) and client authentication (RFC 6749 §2.3.1).
//!
//! A client secret is 256 random bits, shown once and stored only as an Argon2id hash. The
//! secret's entropy is what protects it; Argon2id at OWASP's minimum parameters is a second
//! line should the table leak. Hashing runs on the blocking pool, a few at a time, behind the
//! admission control of [`super::throttle`] (rates per source and per client, a bounded
//! queue), so a flood of token requests can neither starve the request workers nor stall a
//! good client behind it.
//!
//! A client can be removed (`izgraph client remove`) or given a new secret (`izgraph client
//! rotate`); either refuses the tokens it was issued before, on every instance at once (see
//! [`secret_generation`]).

use std::net::IpAddr;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use base64::Engine as _;
use entities::repo::oauth_clients::{NewOAuthClient, OAuthClient};
use entities::{Store, StoreError};
use policies::{Role, ScopeSet};
use rand::RngCore as _;
use uuid::Uuid;

use super::throttle::{Gate, Limits, Refusal};
use crate::config::Secret;

/// Prefix of every client secret, so secret scanners can recognise a leaked one.
const SECRET_PREFIX: &str = "izs_";
/// Argon2id memory cost in KiB (OWASP: 19 MiB, 2 passes, 1 lane).
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot hash the client secret: {0}")]
    Hash(String),
}

/// Why client authentication failed. Deliberately not saying which part was wrong.
#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    #[error("client authentication failed")]
    Failed,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("client authentication is unavailable: {0}")]
    Unavailable(String),
    /// Too many requests from this source or for this client: retry after this long.
    #[error("too many token requests")]
    RateLimited(std::time::Duration),
    /// Every verification slot and queue place is taken.
    #[error("the token endpoint is busy")]
    Busy,
}

/// What a client is registered as.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    pub name: Option<String>,
    pub role: Role,
    pub org: Option<Uuid>,
    /// The most the client may ask for; `None`: every right of its role.
    pub scope: Option<ScopeSet>,
}

/// A newly registered client and its secret, which exists nowhere else.
#[derive(Debug)]
pub struct IssuedClient {
    pub client: OAuthClient,
    pub secret: Secret,
}

fn argon2() -> Result<Argon2<'static>, String> {
    let params =
        Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

fn hash_secret(secret: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()?
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `secret` matches `hash` (constant-time comparison inside `argon2`).
fn secret_matches(secret: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2().is_ok_and(|a| a.verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// A fresh secret: 32 random bytes, base64url, prefixed.
fn new_secret() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::new(format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// Registers a client and returns it with its secret.
pub async fn register(
    store: &Store,
    registration: ClientRegistration,
) -> Result<IssuedClient, ClientError> {
    let secret = new_secret();
    let to_hash = secret.clone();
    let secret_hash = tokio::task::spawn_blocking(move || hash_secret(to_hash.expose()))
        .await
        .map_err(|e| ClientError::Hash(e.to_string()))?
        .map_err(ClientError::Hash)?;
    let client = store
        .create_oauth_client(NewOAuthClient {
            name: registration.name,
            role: registration.role,
            organization: registration.org,
            scope: registration.scope,
            secret_hash,
        })
        .await?;
    Ok(IssuedClient { client, secret })
}

/// Gives a registered client a new secret; the old one, and every token issued with it,
/// stop working at once.
pub async fn rotate(store: &Store, id: Uuid) -> Result<IssuedClient, ClientError> {
    let secret = new_secret();
    let to_hash = secret.clone();
    let secret_hash = tokio::task::spawn_blocking(move || hash_secret(to_hash.expose()))
        .await
        .map_err(|e| ClientError::Hash(e.to_string()))?
        .map_err(ClientError::Hash)?;
    let client = store.rotate_oauth_client_secret(id, secret_hash).await?;
    Ok(IssuedClient { client, secret })
}

/// Which secret of its client a token was issued with: a digest of the secret's hash, carried
/// in the token (`cgen`), so a token outlives neither its client's removal nor a rotation.
pub fn secret_generation(secret_hash: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(secret_hash.as_bytes())[..8])
}

/// Authenticates clients at the token endpoint.
#[derive(Debug, Clone)]
pub struct ClientVerifier {
    gate: Gate,
}

impl Default for ClientVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientVerifier {
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Self {
        // The hash unknown ids are checked against is computed now, off the async workers,
        // rather than by the first request that needs it.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn_blocking(|| {
                let _ = dummy_hash();
            });
        }
        ClientVerifier {
            gate: Gate::new(limits),
        }
    }

    /// The registered client `client_id` if `secret` is its secret, for a request from
    /// `source`. An unknown client costs the same hash as a known one, so timing does not tell
    /// which client ids exist; rates and the queue apply to both alike.
    pub async fn authenticate(
        &self,
        store: &Store,
        client_id: &str,
        secret: &str,
        source: IpAddr,
    ) -> Result<OAuthClient, ClientAuthError> {
        let _admitted = self
            .gate
            .admit(source, client_id)
            .await
            .map_err(|r| match r {
                Refusal::RateLimited(after) => ClientAuthError::RateLimited(after),
                Refusal::Busy => ClientAuthError::Busy,
            })?;
        let client = match Uuid::parse_str(client_id) {
            Ok(id) => store.oauth_client(id).await?,
            Err(_) => None,
        };
        let hash = client.as_ref().map(|c| c.secret_hash.clone());
        let secret = secret.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            let hash = match hash {
                Some(h) => h,
                None => dummy_hash()?,
            };
            Ok::<_, ClientAuthError>(secret_matches(&secret, &hash))
        })
        .await
        .map_err(|e| ClientAuthError::Unavailable(e.to_string()))??;
        match client {
            Some(c) if matches => Ok(c),
            _ => Err(ClientAuthError::Failed),
        }
    }
}

/// A hash of nothing anyone knows, verified against for unknown client ids. Computing it takes
/// as long as a verification: only ever on the blocking pool.
fn dummy_hash() -> Result<String, ClientAuthError> {
    DUMMY
        .get_or_init(|| {
            #[cfg(test)]
            let _ = DUMMY_HASHED_ON.set(std::thread::current().id());
            hash_secret(new_secret().expose())
        })
        .clone()
        .map_err(ClientAuthError::Unavailable)
}

static DUMMY: OnceLock<Result<String, String>> = OnceLock::new();

/// The thread the dummy hash was computed on (tests check it is not an async worker).
#[cfg(test)]
static DUMMY_HASHED_ON: OnceLock<std::thread::ThreadId> = OnceLock::new();

#[cfg(test)]
mod tests {
    use super::*;

    /// The dummy hash costs a verification's time: it is computed when the verifier is built,
    /// on the blocking pool, before any client asks, and never on the async worker.
    #[tokio::test(flavor = "current_thread")]
    async fn the_dummy_hash_is_computed_at_start_off_the_async_worker() {
        let worker = std::thread::current().id();
        let _verifier = ClientVerifier::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while DUMMY.get().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the dummy hash was not computed at start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(DUMMY.get().is_some_and(Result::is_ok));
        assert_ne!(DUMMY_HASHED_ON.get(), Some(&worker));
    }

    #[test]
    fn secrets_are_random_prefixed_and_verify_only_against_their_hash() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.expose().starts_with(SECRET_PREFIX));
        assert_eq!(a.expose().len(), SECRET_PREFIX.len() + 43);
        let hash = hash_secret(a.expose()).expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains(a.expose()));
        assert!(secret_matches(a.expose(), &hash));
        assert!(!secret_matches(b.expose(), &hash));
        assert!(!secret_matches(a.expose(), "not a hash"));
    }
}
