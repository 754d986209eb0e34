//! The dev issuer's signing key: an ES256 (P-256) key generated into the data directory on
//! first use, so `izgraph token` and the gateway agree without any set-up.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use p256::SecretKey;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The dev issuer's `iss` claim.
pub const DEV_ISSUER: &str = "urn:izgraph:dev";
/// The audience dev tokens are minted for.
pub const DEV_AUDIENCE: &str = "izgraph";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the dev key at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the dev key at {0} is not a PKCS#8 P-256 key")]
    Malformed(PathBuf),
    #[error("cannot sign: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// The SMART Health Card issuer of this registry: the P-256 key at `path` (PKCS#8 PEM,
/// created mode 0600 on first use, like the dev key) and the cards' `iss`.
pub fn card_issuer(path: &Path, iss: &str) -> Result<record::shc::Issuer, KeyError> {
    use p256::pkcs8::DecodePrivateKey as _;
    DevKeys::load_or_create_file(path)?;
    let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })?;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem)
        .map_err(|_| KeyError::Malformed(path.to_owned()))?;
    Ok(record::shc::Issuer {
        iss: iss.to_owned(),
        key,
    })
}

/// The key pair, its key id and its public JWK.
#[derive(Clone)]
pub struct DevKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    x: String,
    y: String,
}

impl std::fmt::Debug for DevKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevKeys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// One JSON Web Key (public part only).
#[derive(Debug, Clone, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub x: String,
    pub y: String,
}

impl DevKeys {
    /// Loads `data_dir/dev-signing-key.pem`, creating it (mode 0600) if it does not exist.
    pub fn load_or_create(data_dir: &Path) -> Result<DevKeys, KeyError> {
        Self::load_or_create_file(&data_dir.join("dev-signing-key.pem"))
    }

    /// Loads the P-256 key at `path` (PKCS#8 PEM), creating it (mode 0600) if it does not
    /// exist: the dev issuer's key, and the key that signs access-log checkpoints.
    pub fn load_or_create_file(path: &Path) -> Result<DevKeys, KeyError> {
        let path = path.to_owned();
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        let secret = if path.exists() {
            let pem = std::fs::read_to_string(&path).map_err(io)?;
            SecretKey::from_pkcs8_pem(&pem).map_err(|_| KeyError::Malformed(path.clone()))?
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let secret = SecretKey::random(&mut rand::rngs::OsRng);
            let pem = secret
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|_| KeyError::Malformed(path.clone()))?;
            write_private(&path, pem.as_bytes()).map_err(io)?;
            secret
        };
        Self::from_secret(&secret, &path)
    }

    /// A fresh key that lives only in memory. With an external issuer nothing trusts it; it
    /// exists so that code holding "the dev key" has one, and no key file is written.
    pub fn ephemeral() -> Result<DevKeys, KeyError> {
        let secret = SecretKey::random(&mut rand::rngs::OsRng);
        Self::from_secret(&secret, Path::new("<memory>"))
    }

    fn from_secret(secret: &SecretKey, path: &Path) -> Result<DevKeys, KeyError> {
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| KeyError::Malformed(path.to_owned()))?;
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes())?;
        let point = p256::EncodedPoint::from(secret.public_key());
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(KeyError::Malformed(path.to_owned()));
        };
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (x, y) = (b64.encode(x), b64.encode(y));
        let decoding = DecodingKey::from_ec_components(&x, &y)?;
        // RFC 7638 thumbprint: a stable kid derived from the public key alone.
        let thumbprint_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = b64.encode(Sha256::digest(thumbprint_input.as_bytes()));
        Ok(DevKeys {
            encoding,
            decoding,
            kid,
            x,
            y,
        })
    }

    /// Signs `claims` with ES256.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as served at `/.well-known/jwks.json`.
    pub fn jwk(&self) -> PublicJwk {
        PublicJwk {
            kty: "EC",
            crv: "P-256",
            alg: "ES256",
            use_: "sig",
            kid: self.kid.clone(),
            x: self.x.clone(),
            y: self.y.clone(),
        }
    }
}

/// A 256-bit cursor key written as 64 hex digits.
pub fn cursor_key_from_hex(hex_key: &str) -> Option<entities::repo::CursorKey> {
    let bytes: [u8; 32] = hex::decode(hex_key).ok()?.try_into().ok()?;
    Some(entities::repo::CursorKey::from_bytes(&bytes))
}

/// The key pagination cursors are sealed with: `configured` (`IZGRAPH_CURSOR_KEY`), else
/// `data_dir/cursor-key`, created (mode 0600) with a random key on first use. Instances that
/// serve one registry need the same key, so that a cursor one issued pages on another.
pub fn cursor_key(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<entities::repo::CursorKey, KeyError> {
    if let Some(hex_key) = configured {
        return cursor_key_from_hex(hex_key)
            .ok_or_else(|| KeyError::Malformed(PathBuf::from("IZGRAPH_CURSOR_KEY")));
    }
    let path = data_dir.join("cursor-key");
    let io = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    if !path.exists() {
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        match write_private(&path, hex::encode(bytes).as_bytes()) {
            Ok(()) => {}
            // Another instance on this data directory wrote it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
    }
    let text = std::fs::read_to_string(&path).map_err(io)?;
    cursor_key_from_hex(text.trim()).ok_or(KeyError::Malformed(path))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
