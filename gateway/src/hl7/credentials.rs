//! The SOAP service's username and password: a registered OAuth2 client's id and secret (`izgraph
//! client add`), mapped onto exactly the principal a token for that client would carry.
//!
//! The secret is checked against its Argon2id hash by the token endpoint's verifier (same
//! rates, queue and constant cost for unknown ids). A sender submits thousands of messages
//! with the same credentials, and Argon2id is built to be slow, so a verified pair is
//! remembered for a minute — as a SHA-256 of the secret, never the secret — and each message
//! still reads the client from the database, so a removed or rotated client is refused at
//! once, as its tokens are.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use entities::Store;
use policies::Principal;
use sha2::Digest;
use uuid::Uuid;

use crate::auth::clients::{secret_generation, ClientAuthError, ClientVerifier};
use crate::auth::principal_of_client;

/// How long a verified (client, secret) pair is trusted without Argon2id.
const REMEMBER: Duration = Duration::from_secs(60);

/// Why credentials were refused.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the username or password is not valid")]
    Invalid,
    #[error("too many attempts; retry later")]
    Throttled,
    #[error("the registry's database is unavailable; try again")]
    Unavailable,
}

/// Verified client credentials, remembered briefly.
#[derive(Debug, Clone)]
pub struct Credentials {
    verified: moka::sync::Cache<Uuid, ([u8; 32], String)>,
}

impl Default for Credentials {
    fn default() -> Self {
        Self::new()
    }
}

impl Credentials {
    pub fn new() -> Self {
        Credentials {
            verified: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(REMEMBER)
                .build(),
        }
    }

    /// The principal of `username` (a client id) if `password` is its secret.
    pub async fn principal(
        &self,
        verifier: Option<&ClientVerifier>,
        store: &Store,
        username: &str,
        password: &str,
        source: IpAddr,
    ) -> Result<Principal, CredentialError> {
        let digest: [u8; 32] = sha2::Sha256::digest(password.as_bytes()).into();
        if let Ok(id) = Uuid::parse_str(username.trim()) {
            if let Some((known, generation)) = self.verified.get(&id) {
                if known == digest {
                    // Still registered with the same secret?
                    let client = store
                        .oauth_client(id)
                        .await
                        .map_err(|_| CredentialError::Unavailable)?;
                    return match client {
                        Some(c) if secret_generation(&c.secret_hash) == generation => {
                            principal_of_client(&c).map_err(|_| CredentialError::Invalid)
                        }
                        _ => {
                            self.verified.invalidate(&id);
                            Err(CredentialError::Invalid)
                        }
                    };
                }
            }
        }
        let Some(verifier) = verifier else {
            // An external issuer: the registry holds no client secrets.
            return Err(CredentialError::Invalid);
        };
        let started = Instant::now();
        let client = verifier
            .authenticate(store, username.trim(), password, source)
            .await
            .map_err(|e| match e {
                ClientAuthError::Failed => CredentialError::Invalid,
                ClientAuthError::RateLimited(_) | ClientAuthError::Busy => {
                    CredentialError::Throttled
                }
                ClientAuthError::Store(_) | ClientAuthError::Unavailable(_) => {
                    CredentialError::Unavailable
                }
            })?;
        tracing::debug!(
            client = %client.id,
            ms = started.elapsed().as_millis() as u64,
            "HL7 sender verified"
        );
        self.verified
            .insert(client.id, (digest, secret_generation(&client.secret_hash)));
        principal_of_client(&client).map_err(|_| CredentialError::Invalid)
    }
}
