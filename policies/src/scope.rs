//! OAuth2 scopes and the small bit set that holds a token's effective rights.

use std::fmt;
use std::str::FromStr;

/// One OAuth2 scope of the token contract (`shared/spec/cli-and-tokens.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Scope {
    PersonRead = 0,
    PersonWrite = 1,
    DoseWrite = 2,
    ConsentWrite = 3,
    RosterRead = 4,
    AuditRead = 5,
    Admin = 6,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::PersonRead,
        Scope::PersonWrite,
        Scope::DoseWrite,
        Scope::ConsentWrite,
        Scope::RosterRead,
        Scope::AuditRead,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PersonRead => "person:read",
            Scope::PersonWrite => "person:write",
            Scope::DoseWrite => "dose:write",
            Scope::ConsentWrite => "consent:write",
            Scope::RosterRead => "roster:read",
            Scope::AuditRead => "audit:read",
            Scope::Admin => "admin",
        }
    }
}

impl FromStr for Scope {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s).ok_or(())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes as a bit mask: intersecting role rights with token scopes happens on every
/// decision, so it must cost one AND.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub const fn empty() -> Self {
        ScopeSet(0)
    }

    pub fn all() -> Self {
        Self::of(&Scope::ALL)
    }

    pub fn of(scopes: &[Scope]) -> Self {
        ScopeSet(scopes.iter().fold(0, |acc, s| acc | (1 << *s as u8)))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & (1 << scope as u8) != 0
    }

    pub fn intersect(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Parses a space-separated `scope` claim; unknown scopes are ignored, as RFC 6749 lets an
    /// authorization server grant less than asked.
    pub fn parse_claim(claim: &str) -> ScopeSet {
        let scopes: Vec<Scope> = claim
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        Self::of(&scopes)
    }

    /// The space-separated claim form.
    pub fn to_claim(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_round_trips_and_ignores_unknown_scopes() {
        let set = ScopeSet::parse_claim("person:read bogus dose:write");
        assert!(set.contains(Scope::PersonRead));
        assert!(set.contains(Scope::DoseWrite));
        assert!(!set.contains(Scope::Admin));
        assert_eq!(set.to_claim(), "person:read dose:write");
    }

    #[test]
    fn intersection_keeps_only_common_scopes() {
        let a = ScopeSet::of(&[Scope::PersonRead, Scope::Admin]);
        let b = ScopeSet::of(&[Scope::PersonRead, Scope::AuditRead]);
        assert_eq!(a.intersect(b), ScopeSet::of(&[Scope::PersonRead]));
    }
}
