//! Purpose of use, recorded with every access-log entry.

use std::fmt;
use std::str::FromStr;

/// Why the principal is asking; carried in the token's `purpose` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Treatment,
    PublicHealth,
    SchoolCompliance,
    Payment,
    Audit,
    SelfAccess,
    Operations,
}

impl Purpose {
    pub const ALL: [Purpose; 7] = [
        Purpose::Treatment,
        Purpose::PublicHealth,
        Purpose::SchoolCompliance,
        Purpose::Payment,
        Purpose::Audit,
        Purpose::SelfAccess,
        Purpose::Operations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Treatment => "TREATMENT",
            Purpose::PublicHealth => "PUBLIC_HEALTH",
            Purpose::SchoolCompliance => "SCHOOL_COMPLIANCE",
            Purpose::Payment => "PAYMENT",
            Purpose::Audit => "AUDIT",
            Purpose::SelfAccess => "SELF",
            Purpose::Operations => "OPERATIONS",
        }
    }

    /// The purpose a role acts under when its token names none.
    pub fn default_for(role: crate::Role) -> Purpose {
        use crate::Role::*;
        match role {
            Provider => Purpose::Treatment,
            PublicHealth => Purpose::PublicHealth,
            School => Purpose::SchoolCompliance,
            HealthPlan => Purpose::Payment,
            Guardian | Individual => Purpose::SelfAccess,
            Auditor => Purpose::Audit,
            RegistryAdmin => Purpose::Operations,
        }
    }
}

impl FromStr for Purpose {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or(())
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
