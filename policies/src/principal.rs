//! The verified identity a request acts as.

use uuid::Uuid;

use crate::{Purpose, Role, Scope, ScopeSet};

/// Why a set of token claims does not make a principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    #[error("unknown purpose of use `{0}`")]
    UnknownPurpose(String),
    #[error("role `{0}` requires an `org` claim")]
    MissingOrg(Role),
    #[error("role `{0}` requires a `person` claim")]
    MissingPerson(Role),
    #[error("the subject is blank")]
    BlankSubject,
    #[error("the subject is longer than {MAX_SUBJECT_CHARS} characters")]
    LongSubject,
    #[error("the subject contains a control character")]
    ControlInSubject,
}

/// The longest subject a principal may carry: OpenID Connect's limit for `sub`. The subject is
/// written into the access log and into every row the principal records (`recorded_by`,
/// `changed_by`), all sized for it, so a longer one is refused at the door instead of failing
/// a write after the work is done.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// A request's principal. Built only from verified token claims; the effective rights are
/// computed once here so no resolver can forget the intersection.
///
/// Non-exhaustive: no code outside this crate can write a `Principal` literal (or update one
/// with `..`), so every principal comes from [`Principal::from_claims`], which the workspace's
/// `clippy.toml` reserves for the gateway's verified-token path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    /// The organization acted for (providers, public health, schools, health plans).
    pub org: Option<Uuid>,
    /// The identity-verified person (guardians and individuals).
    pub person: Option<Uuid>,
    /// Role rights ∩ token scopes.
    pub scopes: ScopeSet,
    pub purpose: Purpose,
}

impl Principal {
    /// Builds a principal from claims. `token_scopes: None` means the token named no scope and
    /// gets every right of its role.
    ///
    /// Only for claims of a verified token (`gateway::auth`): `clippy.toml` disallows calling
    /// it anywhere else; tests and benchmarks opt out explicitly.
    pub fn from_claims(
        subject: &str,
        role: Role,
        org: Option<Uuid>,
        person: Option<Uuid>,
        token_scopes: Option<ScopeSet>,
        purpose: Option<Purpose>,
    ) -> Result<Self, PrincipalError> {
        if subject.trim().is_empty() {
            return Err(PrincipalError::BlankSubject);
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(PrincipalError::LongSubject);
        }
        // NUL cannot be stored in PostgreSQL text; other controls would forge log lines.
        if subject.chars().any(char::is_control) {
            return Err(PrincipalError::ControlInSubject);
        }
        if role.needs_org() && org.is_none() {
            return Err(PrincipalError::MissingOrg(role));
        }
        if role.needs_person() && person.is_none() {
            return Err(PrincipalError::MissingPerson(role));
        }
        let rights = role.rights();
        Ok(Principal {
            subject: subject.to_owned(),
            role,
            org: if role.needs_org() { org } else { None },
            person: if role.needs_person() { person } else { None },
            scopes: token_scopes.map_or(rights, |s| s.intersect(rights)),
            purpose: purpose.unwrap_or(Purpose::default_for(role)),
        })
    }

    /// Whether the effective rights include `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_scopes_cannot_widen_role_rights() {
        let p = Principal::from_claims(
            "s",
            Role::School,
            Some(Uuid::nil()),
            None,
            Some(ScopeSet::all()),
            None,
        )
        .expect("valid claims");
        assert!(p.has(Scope::PersonRead));
        assert!(!p.has(Scope::DoseWrite));
        assert!(!p.has(Scope::Admin));
    }

    #[test]
    fn subject_that_cannot_be_logged_is_refused() {
        let claims = |s: &str| Principal::from_claims(s, Role::Auditor, None, None, None, None);
        let longest = "é".repeat(MAX_SUBJECT_CHARS);
        assert!(
            claims(&longest).is_ok(),
            "the limit counts characters, not bytes"
        );
        assert_eq!(
            claims(&format!("{longest}x")),
            Err(PrincipalError::LongSubject)
        );
        assert_eq!(claims("a\0b"), Err(PrincipalError::ControlInSubject));
        assert_eq!(claims("a\nb"), Err(PrincipalError::ControlInSubject));
    }

    #[test]
    fn provider_without_org_is_refused() {
        let err = Principal::from_claims("s", Role::Provider, None, None, None, None);
        assert_eq!(err, Err(PrincipalError::MissingOrg(Role::Provider)));
    }
}
