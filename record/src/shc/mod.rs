//! SMART Health Cards (the framework at <https://spec.smarthealth.cards/> and its Vaccination
//! & Testing implementation guide): issuing and verifying.
//!
//! A card is a compact JWS: header `{"zip":"DEF","alg":"ES256","kid":…}`, payload the raw
//! DEFLATE of `{"iss","nbf","vc":{"type":[…],"credentialSubject":{"fhirVersion","fhirBundle"}}}`
//! as minified JSON, signature ES256 (`r‖s`, 64 bytes). `kid` is the RFC 7638 thumbprint of
//! the issuer's public key, published at `<iss>/.well-known/jwks.json`. In a QR code the JWS
//! travels as `shc:/` followed by two digits per character (its code minus 45).

mod bundle;
mod verify;

pub use bundle::{bundle, Detail, IMMUNIZATION_TYPES};
pub use verify::{verify, CardError, VerifiedCard};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The longest JWS that fits one QR code (version 22, error correction L) in numeric mode.
pub const MAX_SINGLE_QR_JWS: usize = 1195;

/// A registry's card-signing identity.
#[derive(Clone)]
pub struct Issuer {
    /// The issuer URL: `https://`, no trailing slash; its JWKS is at
    /// `<iss>/.well-known/jwks.json`.
    pub iss: String,
    pub key: SigningKey,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("iss", &self.iss)
            .field("kid", &self.kid())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the card's JWS is {0} characters, more than one QR code holds ({MAX_SINGLE_QR_JWS})")]
    TooLong(usize),
    #[error("the payload could not be compressed: {0}")]
    Deflate(String),
}

impl Issuer {
    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> String {
        thumbprint(self.key.verifying_key())
    }

    /// The public JWK, as the JWKS publishes it.
    pub fn public_jwk(&self) -> Value {
        public_jwk(self.key.verifying_key())
    }

    /// Signs `fhir_bundle` as a card not valid before `nbf` (seconds since the epoch).
    pub fn issue(&self, fhir_bundle: &Value, nbf: i64) -> Result<String, IssueError> {
        let payload = json!({
            "iss": self.iss,
            "nbf": nbf,
            "vc": {
                "type": IMMUNIZATION_TYPES,
                "credentialSubject": { "fhirVersion": "4.0.1", "fhirBundle": fhir_bundle },
            },
        });
        let header = json!({ "zip": "DEF", "alg": "ES256", "kid": self.kid() });
        let compressed = deflate(payload.to_string().as_bytes())?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(compressed)
        );
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        let jws = format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        );
        if jws.len() > MAX_SINGLE_QR_JWS {
            return Err(IssueError::TooLong(jws.len()));
        }
        Ok(jws)
    }
}

fn deflate(bytes: &[u8]) -> Result<Vec<u8>, IssueError> {
    use std::io::Write as _;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)
        .map_err(|e| IssueError::Deflate(e.to_string()))?;
    enc.finish().map_err(|e| IssueError::Deflate(e.to_string()))
}

/// `{"kty":"EC","crv":"P-256","x","y","kid","use":"sig","alg":"ES256"}`.
pub fn public_jwk(key: &VerifyingKey) -> Value {
    let (x, y) = coordinates(key);
    json!({
        "kty": "EC",
        "kid": thumbprint(key),
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": x,
        "y": y,
    })
}

fn coordinates(key: &VerifyingKey) -> (String, String) {
    let point = key.to_encoded_point(false);
    let x = point
        .x()
        .map(|x| URL_SAFE_NO_PAD.encode(x))
        .unwrap_or_default();
    let y = point
        .y()
        .map(|y| URL_SAFE_NO_PAD.encode(y))
        .unwrap_or_default();
    (x, y)
}

/// Issues the card of `record`: the most detailed bundle that fits one QR code.
pub fn issue_record(
    issuer: &Issuer,
    record: &crate::OfficialRecord,
    nbf: i64,
) -> Result<String, IssueError> {
    let mut last = IssueError::TooLong(0);
    for detail in [Detail::Full, Detail::WithoutLots, Detail::Minimal] {
        match issuer.issue(&bundle(record, detail), nbf) {
            Ok(jws) => return Ok(jws),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// RFC 7638: SHA-256 over `{"crv","kty","x","y"}` in that order, no spaces; base64url.
pub fn thumbprint(key: &VerifyingKey) -> String {
    let (x, y) = coordinates(key);
    thumbprint_of(&x, &y)
}

fn thumbprint_of(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The `shc:/` numeric text of a JWS (one chunk).
pub fn numeric(jws: &str) -> String {
    let mut out = String::with_capacity(5 + jws.len() * 2);
    out.push_str("shc:/");
    for b in jws.bytes() {
        let v = b.saturating_sub(45);
        out.push(char::from(b'0' + v / 10));
        out.push(char::from(b'0' + v % 10));
    }
    out
}

/// The `.smart-health-card` file holding `jws` (media type `application/smart-health-card`).
pub fn file(jws: &str) -> String {
    json!({ "verifiableCredential": [jws] }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_encoding_is_two_digits_per_character() {
        // '-' is 45 → 00, 'e' is 101 → 56, 'y' is 121 → 76.
        assert_eq!(numeric("-ey"), "shc:/005676");
    }

    #[test]
    fn the_example_issuers_kid_is_its_thumbprint() {
        assert_eq!(
            thumbprint_of(
                "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw",
                "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8"
            ),
            "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
        );
    }
}
