//! Keyset pagination. Paging never uses OFFSET, so a page costs the same at row ten and at
//! row ten million.
//!
//! A cursor holds the key of the last row it saw (for a person search, the person's name and
//! id), so it is sealed before it leaves the server: XChaCha20-Poly1305 under the server's
//! cursor key ([`CursorKey`]), with the principal it was issued to and the list it belongs to
//! as associated data. A client sees random bytes; a cursor altered, forged, made by another
//! server key, or presented by another principal does not open and is refused as malformed
//! (`BAD_USER_INPUT`).

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;

use crate::Access;

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(Cursor, T)>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    pub fn end_cursor(&self) -> Option<&Cursor> {
        self.items.last().map(|(c, _)| c)
    }
}

/// An opaque position in a result list, as a client holds it (sealed; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

/// The lists cursors are issued for: a cursor of one list does not open as another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CursorKind {
    Persons,
    Roster,
    AccessLog,
    PopulationResults,
}

impl CursorKind {
    fn label(self) -> &'static str {
        match self {
            CursorKind::Persons => "persons",
            CursorKind::Roster => "roster",
            CursorKind::AccessLog => "accessLog",
            CursorKind::PopulationResults => "populationResults",
        }
    }
}

/// The server's 256-bit cursor key. Every instance serving one registry must hold the same
/// key (`IZGRAPH_CURSOR_KEY`, or the `cursor-key` file of a shared data directory), or a
/// cursor issued by one is refused by another.
#[derive(Clone)]
pub struct CursorKey(XChaCha20Poly1305);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

/// Nonce length of XChaCha20-Poly1305: long enough to be drawn at random for every cursor.
const NONCE: usize = 24;

impl CursorKey {
    /// The key `bytes` hold.
    pub fn from_bytes(bytes: &[u8; 32]) -> CursorKey {
        CursorKey(XChaCha20Poly1305::new(bytes.into()))
    }

    /// A fresh random key (a store no configuration gave one: its cursors live as long as the
    /// process).
    pub fn random() -> CursorKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        CursorKey::from_bytes(&bytes)
    }

    /// Who a cursor is bound to and which list it pages, as associated data.
    fn binding(access: &Access, kind: CursorKind) -> Vec<u8> {
        let p = &access.principal;
        let mut aad = Vec::with_capacity(128);
        for part in [
            "izgraph-cursor-v1",
            kind.label(),
            p.role.as_str(),
            &p.subject,
            &p.org.map(|o| o.to_string()).unwrap_or_default(),
            &p.person.map(|o| o.to_string()).unwrap_or_default(),
        ] {
            aad.extend((part.len() as u64).to_be_bytes());
            aad.extend(part.as_bytes());
        }
        aad
    }

    /// Seals the key `parts` of a row into a cursor for `access`'s principal.
    pub(crate) fn seal(&self, access: &Access, kind: CursorKind, parts: &[&str]) -> Cursor {
        let plain = parts.join("\u{1f}");
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = Self::binding(access, kind);
        // Encryption with a valid key and nonce length cannot fail; an empty cursor would be
        // refused when presented, never mistaken for a position.
        let sealed = self
            .0
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The key parts of `cursor`, or `None` for a cursor this key did not seal for this
    /// principal and list.
    pub(crate) fn open(
        &self,
        access: &Access,
        kind: CursorKind,
        cursor: &Cursor,
        parts: usize,
    ) -> Option<Vec<String>> {
        // A sealed key is a few dozen bytes; anything much longer is not one of ours.
        if cursor.0.len() > 1024 {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&cursor.0)
            .ok()?;
        if bytes.len() < NONCE {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().ok()?;
        let aad = Self::binding(access, kind);
        let plain = self
            .0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .ok()?;
        let text = String::from_utf8(plain).ok()?;
        let fields: Vec<String> = text.split('\u{1f}').map(str::to_owned).collect();
        (fields.len() == parts).then_some(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policies::{Principal, Role};

    fn access(subject: &str, org: uuid::Uuid) -> Access {
        let p = Principal::from_claims(subject, Role::Provider, Some(org), None, None, None)
            .expect("claims");
        Access::new(p, chrono::NaiveDate::MIN, "r".into())
    }

    #[test]
    fn a_cursor_opens_only_for_its_principal_list_and_key() {
        let key = CursorKey::random();
        let org = uuid::Uuid::now_v7();
        let me = access("a", org);
        let c = key.seal(&me, CursorKind::Persons, &["QUARANTINE", "ZELDA", "id"]);
        assert!(!c.0.to_uppercase().contains("QUARANTINE"));
        assert_eq!(
            key.open(&me, CursorKind::Persons, &c, 3),
            Some(vec!["QUARANTINE".into(), "ZELDA".into(), "id".into()])
        );
        assert_eq!(
            key.open(&access("b", org), CursorKind::Persons, &c, 3),
            None
        );
        let other_org = access("a", uuid::Uuid::now_v7());
        assert_eq!(key.open(&other_org, CursorKind::Persons, &c, 3), None);
        assert_eq!(key.open(&me, CursorKind::Roster, &c, 3), None);
        assert_eq!(
            CursorKey::random().open(&me, CursorKind::Persons, &c, 3),
            None
        );
        let mut tampered = c.0.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = Cursor(String::from_utf8(tampered).expect("ascii"));
        assert_eq!(key.open(&me, CursorKind::Persons, &tampered, 3), None);
    }
}
