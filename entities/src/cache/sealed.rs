//! Values in Redis are sealed: encrypted and authenticated with the registry's cache key
//! (XChaCha20-Poly1305 from RustCrypto's `chacha20poly1305`), so Redis holds no personal data
//! in clear and a value anyone altered, moved to another key, or kept from an older version
//! fails to open and is a miss.
//!
//! The associated data is the value's full Redis key, which names the namespace, the person and
//! the record version: a value swapped between two persons, or replayed under a newer version,
//! is bound to a different key and does not open. Nonces are random (24 bytes: collisions are
//! not a concern at any volume), drawn from the thread's CSPRNG.
//!
//! Layout: `[format 1][key id 4][nonce 24][ciphertext and tag]`. The key id is the first four
//! bytes of the key's SHA-256, so rotation needs no numbering: values are sealed with the
//! current key and opened with whichever configured key (current or previous) has their id.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const FORMAT: u8 = 1;
const KEY_ID: usize = 4;
const NONCE: usize = 24;
const HEADER: usize = 1 + KEY_ID + NONCE;

/// A 256-bit cache key.
#[derive(Clone)]
pub struct CacheKey {
    id: [u8; KEY_ID],
    bytes: [u8; 32],
}

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself: only the id it is known by.
        write!(f, "CacheKey({})", hex::encode(self.id))
    }
}

/// A key that is not 32 bytes of base64 (or hex).
#[derive(Debug, thiserror::Error)]
#[error("a cache key is 32 random bytes, written in base64 (44 characters) or hex (64)")]
pub struct BadCacheKey;

impl CacheKey {
    pub fn from_bytes(bytes: [u8; 32]) -> CacheKey {
        let digest = Sha256::digest(bytes);
        let mut id = [0u8; KEY_ID];
        id.copy_from_slice(&digest[..KEY_ID]);
        CacheKey { id, bytes }
    }

    /// A new random key.
    pub fn generate() -> CacheKey {
        CacheKey::from_bytes(rand::random())
    }

    /// Parses a key written as base64 or hex (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<CacheKey, BadCacheKey> {
        use base64::Engine;
        let text = text.trim();
        let bytes = if text.len() == 64 {
            hex::decode(text).map_err(|_| BadCacheKey)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| BadCacheKey)?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| BadCacheKey)?;
        Ok(CacheKey::from_bytes(bytes))
    }

    /// The key in base64, for writing a generated key to a file.
    pub fn to_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.bytes)
    }

    /// The id values sealed with this key carry (hex), for logs and rotation checks.
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }
}

/// The current key and the previous ones still accepted for reading during a rotation.
#[derive(Clone, Debug)]
pub struct CacheKeys {
    pub current: CacheKey,
    pub previous: Vec<CacheKey>,
}

impl CacheKeys {
    pub fn new(current: CacheKey) -> CacheKeys {
        CacheKeys {
            current,
            previous: Vec::new(),
        }
    }
}

/// Why a value did not open (each is a miss; all but `UnknownKey` are tampering or corruption).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// Too short, or an unknown format byte.
    Malformed,
    /// Sealed with a key this instance does not have (rotated out, or another registry's).
    UnknownKey,
    /// The tag does not verify: altered, or bound to another key, person or version.
    Forged,
}

impl Rejection {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::UnknownKey => "unknown_key",
            Rejection::Forged => "forged",
        }
    }
}

/// Seals and opens values with [`CacheKeys`].
pub(crate) struct Sealer {
    current: ([u8; KEY_ID], XChaCha20Poly1305),
    all: Vec<([u8; KEY_ID], XChaCha20Poly1305)>,
}

impl Sealer {
    pub(crate) fn new(keys: &CacheKeys) -> Sealer {
        let cipher = |k: &CacheKey| (k.id, XChaCha20Poly1305::new((&k.bytes).into()));
        let mut all = vec![cipher(&keys.current)];
        all.extend(keys.previous.iter().map(cipher));
        Sealer {
            current: cipher(&keys.current),
            all,
        }
    }

    /// `plaintext` sealed under `key` (the Redis key it will be stored at).
    pub(crate) fn seal(&self, key: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE] = rand::random();
        let (id, cipher) = &self.current;
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: key.as_bytes(),
                },
            )
            // Encryption fails only for plaintexts beyond 256 GiB.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext of `value` read at `key`, if it was sealed there by a holder of a key.
    pub(crate) fn open(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, Rejection> {
        if value.len() < HEADER + 16 || value[0] != FORMAT {
            return Err(Rejection::Malformed);
        }
        let id = &value[1..1 + KEY_ID];
        let nonce: [u8; NONCE] = value[1 + KEY_ID..HEADER]
            .try_into()
            .map_err(|_| Rejection::Malformed)?;
        let (_, cipher) = self
            .all
            .iter()
            .find(|(k, _)| k == id)
            .ok_or(Rejection::UnknownKey)?;
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &value[HEADER..],
                    aad: key.as_bytes(),
                },
            )
            .map_err(|_| Rejection::Forged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(current: &CacheKey, previous: &[CacheKey]) -> Sealer {
        Sealer::new(&CacheKeys {
            current: current.clone(),
            previous: previous.to_vec(),
        })
    }

    #[test]
    fn a_value_opens_only_at_its_own_key_and_unaltered() {
        let k = CacheKey::generate();
        let s = sealer(&k, &[]);
        let v = s.seal("izg:ns:r:{a}:1", b"record");
        assert_eq!(s.open("izg:ns:r:{a}:1", &v).as_deref(), Ok(&b"record"[..]));
        assert_eq!(s.open("izg:ns:r:{b}:1", &v), Err(Rejection::Forged));
        assert_eq!(s.open("izg:ns:r:{a}:2", &v), Err(Rejection::Forged));
        for i in 0..v.len() {
            let mut bad = v.clone();
            bad[i] ^= 0x20;
            assert!(s.open("izg:ns:r:{a}:1", &bad).is_err(), "byte {i} altered");
        }
        assert_eq!(
            s.open("izg:ns:r:{a}:1", b"{\"json\":1}"),
            Err(Rejection::Malformed)
        );
    }

    #[test]
    fn rotation_reads_old_values_and_seals_with_the_new_key() {
        let (old, new) = (CacheKey::generate(), CacheKey::generate());
        let before = sealer(&old, &[]).seal("k", b"v");
        let during = sealer(&new, std::slice::from_ref(&old));
        assert_eq!(during.open("k", &before).as_deref(), Ok(&b"v"[..]));
        let after = sealer(&new, &[]);
        assert_eq!(after.open("k", &before), Err(Rejection::UnknownKey));
        assert_eq!(
            after.open("k", &during.seal("k", b"v")).as_deref(),
            Ok(&b"v"[..])
        );
    }

    #[test]
    fn keys_parse_from_base64_and_hex() {
        let k = CacheKey::generate();
        let back = CacheKey::parse(&k.to_base64()).expect("base64");
        assert_eq!(back.id(), k.id());
        assert_eq!(
            CacheKey::parse(&hex::encode(k.bytes)).expect("hex").id(),
            k.id()
        );
        assert!(CacheKey::parse("short").is_err());
        assert!(!format!("{k:?}").contains(&k.to_base64()));
    }
}
