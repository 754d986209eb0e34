//! Verifying a SMART Health Card: a `.smart-health-card` file, a FHIR `Parameters` resource
//! of `$health-cards-issue`, a compact JWS, or `shc:/` numeric text. Each refusal names its
//! reason ([`CardError`]), in the order a reader meets them: the text (byte-order mark,
//! trailing characters), the numeric encoding, the JWS header, the compression, the
//! signature against the issuer's published key, then the payload (validity times,
//! credential types, a minimized FHIR bundle).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

use super::{thumbprint_of, MAX_SINGLE_QR_JWS};

/// Why a card is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the text starts with a UTF-8 byte-order mark")]
    Utf8Bom,
    #[error("characters (whitespace included) follow or precede the card")]
    TrailingCharacters,
    #[error("not a card: {0}")]
    Malformed(String),
    #[error("the file holds no verifiable credential")]
    NoCredential,
    #[error("the numeric QR text does not start with `shc:/`")]
    WrongQrHeader,
    #[error("the numeric QR text has an odd number of digits")]
    OddDigitCount,
    #[error("a digit pair of the numeric QR text is above 77")]
    NumberTooBig,
    #[error("the QR chunk index is out of range (chunk {0} of {1})")]
    ChunkIndexOutOfRange(u32, u32),
    #[error("a single QR code carries a chunk prefix (`1/1/`)")]
    WrongMultiChunk,
    #[error("the QR chunk is smaller than a balanced split needs (more chunks than needed)")]
    QrChunkTooSmall,
    #[error("the QR chunk holds more than one QR code can ({0} characters)")]
    QrChunkTooBig(usize),
    #[error("the card is split into {0} QR chunks and only some are given")]
    MissingChunks(u32),
    #[error("the JWS is {0} characters, more than one QR code holds ({MAX_SINGLE_QR_JWS})")]
    JwsTooLong(usize),
    #[error("the JWS header has no `alg`")]
    NoAlg,
    #[error("the JWS header's `alg` is `{0}`, not ES256")]
    WrongAlg(String),
    #[error("the JWS header has no `kid`")]
    NoKid,
    #[error("the JWS header has no `zip: DEF`: the payload must be compressed")]
    NoZip,
    #[error("the payload is not raw DEFLATE")]
    InvalidDeflate,
    #[error("the payload starts with a UTF-8 byte-order mark")]
    PayloadBom,
    #[error("the payload is not a card payload: {0}")]
    BadPayload(String),
    #[error("the issuer URL `{0}` is not https, or ends with a slash")]
    BadIssuerUrl(String),
    #[error("the issuer `{0}` publishes no key set this verifier can read")]
    UnknownIssuer(String),
    #[error("the issuer's key set has no key `{0}`")]
    UnknownKid(String),
    #[error("the issuer's key `{0}` is not an ES256 signing key on P-256, or its kid is not its thumbprint")]
    BadKey(String),
    #[error("the signature is DER-encoded ({0} bytes), not JOSE's 64-byte r‖s")]
    DerSignature(usize),
    #[error("the signature does not verify with the issuer's key")]
    InvalidSignature,
    #[error("`{0}` is in milliseconds, not seconds")]
    Milliseconds(&'static str),
    #[error("the card is not valid yet (nbf in the future)")]
    NotYetValid,
    #[error("the card has expired")]
    Expired,
    #[error("the credential's types lack `{0}`")]
    MissingType(&'static str),
    #[error("the FHIR bundle is not minimized: {0}")]
    BadFhir(String),
}

/// A verified card.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCard {
    pub iss: String,
    pub kid: String,
    pub nbf: f64,
    pub types: Vec<String>,
    pub bundle: Value,
}

/// Verifies every card in `input` (a file may hold several); `keys` gives an issuer's JWKS
/// (`None`: unknown or unreachable); `now` in seconds since the epoch.
pub fn verify(
    input: &[u8],
    keys: &dyn Fn(&str) -> Option<Value>,
    now: i64,
) -> Result<Vec<VerifiedCard>, CardError> {
    if input.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(CardError::Utf8Bom);
    }
    let text = std::str::from_utf8(input).map_err(|_| CardError::Malformed("not UTF-8".into()))?;
    if text.trim() != text {
        return Err(CardError::TrailingCharacters);
    }
    let jwss = if text.starts_with('{') {
        credentials(text)?
    } else if text.starts_with("shc:") || text.bytes().all(|b| b.is_ascii_digit() || b == b'/') {
        vec![from_numeric(text)?]
    } else {
        vec![text.to_owned()]
    };
    jwss.iter().map(|jws| verify_jws(jws, keys, now)).collect()
}

/// The JWSs of a `.smart-health-card` file or a FHIR `Parameters` resource.
fn credentials(text: &str) -> Result<Vec<String>, CardError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v: Value = serde::Deserialize::deserialize(&mut de)
        .map_err(|e| CardError::Malformed(e.to_string()))?;
    de.end().map_err(|_| CardError::TrailingCharacters)?;
    let list: Vec<String> = if let Some(vcs) = v.get("verifiableCredential") {
        vcs.as_array()
            .ok_or_else(|| CardError::Malformed("`verifiableCredential` is not a list".into()))?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| CardError::Malformed("a credential is not a string".into()))
            })
            .collect::<Result<_, _>>()?
    } else if v.get("resourceType").and_then(Value::as_str) == Some("Parameters") {
        v.get("parameter")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| p.get("name").and_then(Value::as_str) == Some("verifiableCredential"))
            .filter_map(|p| p.get("valueString").and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    } else {
        return Err(CardError::Malformed(
            "neither a `.smart-health-card` file nor a FHIR Parameters resource".into(),
        ));
    };
    if list.is_empty() {
        return Err(CardError::NoCredential);
    }
    Ok(list)
}

/// Decodes one or more `shc:/` lines (chunks `shc:/i/n/…` in any order) to the JWS.
fn from_numeric(text: &str) -> Result<String, CardError> {
    let mut chunks: Vec<(u32, u32, &str)> = Vec::new();
    for line in text.lines() {
        let body = line.strip_prefix("shc:/").ok_or(CardError::WrongQrHeader)?;
        let parts: Vec<&str> = body.split('/').collect();
        let chunk = match parts.as_slice() {
            [digits] => (1, 1, *digits),
            [i, n, digits] => {
                let (i, n): (u32, u32) = match (i.parse(), n.parse()) {
                    (Ok(i), Ok(n)) => (i, n),
                    _ => return Err(CardError::Malformed("bad QR chunk prefix".into())),
                };
                if n == 1 {
                    return Err(CardError::WrongMultiChunk);
                }
                if i == 0 || i > n {
                    return Err(CardError::ChunkIndexOutOfRange(i, n));
                }
                (i, n, *digits)
            }
            _ => return Err(CardError::Malformed("bad QR chunk prefix".into())),
        };
        chunks.push(chunk);
    }
    let n = chunks.first().map_or(1, |c| c.1);
    let mut jws = String::new();
    chunks.sort_by_key(|c| c.0);
    for (_, _, digits) in &chunks {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::Malformed("the QR text is not all digits".into()));
        }
        if digits.len() % 2 == 1 {
            return Err(CardError::OddDigitCount);
        }
        let chars = digits.len() / 2;
        if n > 1 && chars > MAX_SINGLE_QR_JWS - 4 {
            return Err(CardError::QrChunkTooBig(chars));
        }
        // A balanced split into the fewest chunks gives each more than half a code's
        // capacity: a smaller chunk means the card was split further than needed.
        if n > 1 && chars < (MAX_SINGLE_QR_JWS - 4) / 2 {
            return Err(CardError::QrChunkTooSmall);
        }
        for pair in digits.as_bytes().chunks(2) {
            let v = (pair[0] - b'0') * 10 + (pair[1] - b'0');
            if v > 77 {
                return Err(CardError::NumberTooBig);
            }
            jws.push(char::from(v + 45));
        }
    }
    if chunks.len() as u32 != n {
        return Err(CardError::MissingChunks(n));
    }
    Ok(jws)
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, CardError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| CardError::Malformed(format!("the JWS {what} is not base64url")))
}

fn verify_jws(
    jws: &str,
    keys: &dyn Fn(&str) -> Option<Value>,
    now: i64,
) -> Result<VerifiedCard, CardError> {
    if jws.trim() != jws {
        return Err(CardError::TrailingCharacters);
    }
    let parts: Vec<&str> = jws.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(CardError::Malformed("a compact JWS has three parts".into()));
    };
    let header: Value = serde_json::from_slice(&b64(header_b64, "header")?)
        .map_err(|_| CardError::Malformed("the JWS header is not JSON".into()))?;
    match header.get("alg").and_then(Value::as_str) {
        None => return Err(CardError::NoAlg),
        Some("ES256") => {}
        Some(other) => return Err(CardError::WrongAlg(other.to_owned())),
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(CardError::NoKid)?
        .to_owned();
    let compressed = b64(payload_b64, "payload")?;
    let inflated = inflate(&compressed);
    if header.get("zip").and_then(Value::as_str) != Some("DEF") {
        return Err(CardError::NoZip);
    }
    let payload_bytes = inflated.ok_or(CardError::InvalidDeflate)?;
    if jws.len() > MAX_SINGLE_QR_JWS {
        return Err(CardError::JwsTooLong(jws.len()));
    }
    if payload_bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(CardError::PayloadBom);
    }
    let payload: Value =
        serde_json::from_slice(&payload_bytes).map_err(|e| CardError::BadPayload(e.to_string()))?;
    let iss = payload
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| CardError::BadPayload("no `iss`".into()))?
        .to_owned();
    if !iss.starts_with("https://") || iss.ends_with('/') {
        return Err(CardError::BadIssuerUrl(iss));
    }
    let signature = b64(signature_b64, "signature")?;
    if signature.len() != 64 {
        return Err(CardError::DerSignature(signature.len()));
    }
    let jwks = keys(&iss).ok_or_else(|| CardError::UnknownIssuer(iss.clone()))?;
    let jwk = jwks
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
        .ok_or_else(|| CardError::UnknownKid(kid.clone()))?;
    let key = verifying_key(jwk, &kid)?;
    let signature = Signature::from_slice(&signature).map_err(|_| CardError::InvalidSignature)?;
    key.verify(format!("{header_b64}.{payload_b64}").as_bytes(), &signature)
        .map_err(|_| CardError::InvalidSignature)?;
    check_payload(&payload, iss, kid, now)
}

fn inflate(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut out = Vec::new();
    // Bounded: a card is at most a few kilobytes, a compression bomb is not.
    flate2::read::DeflateDecoder::new(bytes)
        .take(1 << 20)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// An issuer's key: EC P-256, for signatures, ES256, and its kid its thumbprint.
fn verifying_key(jwk: &Value, kid: &str) -> Result<VerifyingKey, CardError> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    let bad = || CardError::BadKey(kid.to_owned());
    if s("kty") != Some("EC")
        || s("crv") != Some("P-256")
        || s("use").is_some_and(|u| u != "sig")
        || s("alg").is_some_and(|a| a != "ES256")
    {
        return Err(bad());
    }
    let (x, y) = (s("x").ok_or_else(bad)?, s("y").ok_or_else(bad)?);
    if thumbprint_of(x, y) != kid {
        return Err(bad());
    }
    let (xb, yb) = (
        URL_SAFE_NO_PAD.decode(x).map_err(|_| bad())?,
        URL_SAFE_NO_PAD.decode(y).map_err(|_| bad())?,
    );
    if xb.len() != 32 || yb.len() != 32 {
        return Err(bad());
    }
    let mut sec1 = vec![4u8];
    sec1.extend(xb);
    sec1.extend(yb);
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| bad())
}

/// A time that is plainly milliseconds (after the year 5000 in seconds).
fn looks_like_millis(t: f64) -> bool {
    t > 95_617_584_000.0
}

fn check_payload(
    payload: &Value,
    iss: String,
    kid: String,
    now: i64,
) -> Result<VerifiedCard, CardError> {
    let nbf = payload
        .get("nbf")
        .and_then(Value::as_f64)
        .ok_or_else(|| CardError::BadPayload("no numeric `nbf`".into()))?;
    if looks_like_millis(nbf) {
        return Err(CardError::Milliseconds("nbf"));
    }
    if nbf > now as f64 + 300.0 {
        return Err(CardError::NotYetValid);
    }
    if let Some(exp) = payload.get("exp") {
        let exp = exp
            .as_f64()
            .ok_or_else(|| CardError::BadPayload("`exp` is not a number".into()))?;
        if looks_like_millis(exp) {
            return Err(CardError::Milliseconds("exp"));
        }
        if exp < now as f64 {
            return Err(CardError::Expired);
        }
    }
    let vc = payload
        .get("vc")
        .ok_or_else(|| CardError::BadPayload("no `vc`".into()))?;
    let types: Vec<String> = vc
        .get("type")
        .and_then(Value::as_array)
        .ok_or_else(|| CardError::BadPayload("no `vc.type`".into()))?
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    if !types
        .iter()
        .any(|t| t == "https://smarthealth.cards#health-card")
    {
        return Err(CardError::MissingType(
            "https://smarthealth.cards#health-card",
        ));
    }
    let bundle = vc
        .pointer("/credentialSubject/fhirBundle")
        .ok_or_else(|| CardError::BadPayload("no `vc.credentialSubject.fhirBundle`".into()))?;
    check_bundle(bundle)?;
    Ok(VerifiedCard {
        iss,
        kid,
        nbf,
        types,
        bundle: bundle.clone(),
    })
}

/// The minimization rules of the framework: a `collection` bundle whose entries are
/// `resource:N`, resources without `id` or `text`, `meta` holding `security` alone, codings
/// without `display`.
fn check_bundle(bundle: &Value) -> Result<(), CardError> {
    let bad = |s: String| Err(CardError::BadFhir(s));
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return bad("not a Bundle".into());
    }
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| CardError::BadFhir("no entries".into()))?;
    for (i, e) in entries.iter().enumerate() {
        if e.get("fullUrl").and_then(Value::as_str) != Some(format!("resource:{i}").as_str()) {
            return bad(format!("entry {i}'s fullUrl is not `resource:{i}`"));
        }
        let Some(r) = e.get("resource").and_then(Value::as_object) else {
            return bad(format!("entry {i} has no resource"));
        };
        for key in ["id", "text"] {
            if r.contains_key(key) {
                return bad(format!("entry {i} has `{key}`"));
            }
        }
        if let Some(meta) = r.get("meta") {
            let ok = meta
                .as_object()
                .is_some_and(|m| m.len() == 1 && m.contains_key("security"));
            if !ok {
                return bad(format!("entry {i}'s meta holds more than `security`"));
            }
        }
        if has_coding_display(&Value::Object(r.clone())) {
            return bad(format!("entry {i} has a coding with `display`"));
        }
    }
    Ok(())
}

fn has_coding_display(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            (k == "coding"
                && v.as_array()
                    .is_some_and(|c| c.iter().any(|c| c.get("display").is_some())))
                || has_coding_display(v)
        }),
        Value::Array(a) => a.iter().any(has_coding_display),
        _ => false,
    }
}
