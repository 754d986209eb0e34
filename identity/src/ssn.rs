//! Social Security numbers, held only as a keyed hash. A registry has little reason to keep an
//! SSN (it is not needed to vaccinate or to report), and a plain hash of a nine-digit number is
//! reversed by enumerating the billion candidates; an HMAC under a key the registry keeps apart
//! from the database is not. Equal hashes still tell the matcher that two records carry the
//! same number.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::record::{Identifier, IdentifierKind};

/// The secret key of SSN hashes. Its `Debug` does not print it.
#[derive(Clone)]
pub struct SsnKey(Vec<u8>);

impl std::fmt::Debug for SsnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SsnKey(…)")
    }
}

impl SsnKey {
    /// A key from secret bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    /// The identifier to store for an SSN: `None` unless it has nine digits and is not one of
    /// the never-issued placeholders (area 000, 666 or 9xx, group 00, serial 0000).
    pub fn identifier(&self, ssn: &str) -> Option<Identifier> {
        let digits = crate::normalize::digits(ssn);
        if digits.len() != 9 || ssn.chars().filter(char::is_ascii_alphanumeric).count() != 9 {
            return None;
        }
        let (area, group, serial) = (&digits[..3], &digits[3..5], &digits[5..]);
        if area == "000"
            || area == "666"
            || area.starts_with('9')
            || group == "00"
            || serial == "0000"
        {
            return None;
        }
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(digits.as_bytes());
        let tag = mac.finalize().into_bytes();
        let value: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        Some(Identifier {
            kind: IdentifierKind::SsnHash,
            authority: "SSA".into(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_number_hashes_alike_and_the_number_is_not_kept() {
        let key = SsnKey::new(b"registry secret".to_vec());
        let a = key.identifier("123-45-6789");
        let b = key.identifier("123456789");
        assert_eq!(a, b);
        let a = a.expect("valid SSN");
        assert!(!a.value.contains("123456789"));
        assert_ne!(
            Some(a),
            SsnKey::new(b"other".to_vec()).identifier("123456789")
        );
        assert_eq!(key.identifier("000-12-3456"), None);
        assert_eq!(key.identifier("12345678"), None);
        assert!(!format!("{key:?}").contains("secret"));
    }
}
