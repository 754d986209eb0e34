//! The eight roles of the access matrix.

use std::fmt;
use std::str::FromStr;

use crate::scope::{Scope, ScopeSet};
use crate::PrincipalError;

/// Who a principal is, as far as the access matrix is concerned. One role per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Provider,
    PublicHealth,
    School,
    HealthPlan,
    Guardian,
    Individual,
    Auditor,
    RegistryAdmin,
}

impl Role {
    /// Every role, in the matrix's column order; used by exhaustive tests.
    pub const ALL: [Role; 8] = [
        Role::Provider,
        Role::PublicHealth,
        Role::School,
        Role::HealthPlan,
        Role::Guardian,
        Role::Individual,
        Role::Auditor,
        Role::RegistryAdmin,
    ];

    /// The claim value (`role` in the token), lower snake case.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::PublicHealth => "public_health",
            Role::School => "school",
            Role::HealthPlan => "health_plan",
            Role::Guardian => "guardian",
            Role::Individual => "individual",
            Role::Auditor => "auditor",
            Role::RegistryAdmin => "registry_admin",
        }
    }

    /// The most a token of this role may ever be granted: the role's rights. A token's
    /// effective rights are these intersected with its `scope` claim.
    pub fn rights(self) -> ScopeSet {
        use Scope::*;
        match self {
            Role::Provider | Role::PublicHealth => {
                ScopeSet::of(&[PersonRead, PersonWrite, DoseWrite, ConsentWrite])
            }
            Role::School => ScopeSet::of(&[PersonRead, RosterRead]),
            Role::HealthPlan => ScopeSet::of(&[PersonRead]),
            // A guardian or individual may read the access-log entries about their own record.
            Role::Guardian | Role::Individual => {
                ScopeSet::of(&[PersonRead, ConsentWrite, AuditRead])
            }
            Role::Auditor => ScopeSet::of(&[AuditRead]),
            Role::RegistryAdmin => ScopeSet::all(),
        }
    }

    /// Whether the role acts for an organization (and so must carry an `org` claim).
    pub fn needs_org(self) -> bool {
        !matches!(
            self,
            Role::Guardian | Role::Individual | Role::Auditor | Role::RegistryAdmin
        )
    }

    /// Whether the role acts for a natural person (and so must carry a `person` claim).
    pub fn needs_person(self) -> bool {
        matches!(self, Role::Guardian | Role::Individual)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = PrincipalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| PrincipalError::UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_claim_value() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn auditor_rights_do_not_include_person_read() {
        assert!(!Role::Auditor.rights().contains(Scope::PersonRead));
        assert!(Role::Auditor.rights().contains(Scope::AuditRead));
    }
}
