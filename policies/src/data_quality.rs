//! Who reads an HL7 sender's data-quality report (issue 16): the report counts a sender's
//! messages and the problems found in them — no person data, but a sender's quality is its own
//! business and the registry's.
//!
//! - `data_quality_registry`: registry staff (`admin`) and auditors (role `auditor` with
//!   `audit:read`) read every sender's report. `audit:read` alone is not enough: a guardian or
//!   individual holds it to read the log entries about their own record.
//! - `data_quality_own_sender`: an organization's submitting staff (`dose:write`) read their
//!   own organization's report.
//! - anyone else: refused.

use uuid::Uuid;

use crate::{Principal, Role, Scope};

/// A refused report and the rule that refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataQualityDenial {
    pub rule: &'static str,
}

/// Whether `principal` may read the data-quality report of organization `org`.
pub fn authorize_data_quality(
    principal: &Principal,
    org: Uuid,
) -> Result<&'static str, DataQualityDenial> {
    let auditor = principal.role == Role::Auditor && principal.has(Scope::AuditRead);
    if principal.has(Scope::Admin) || auditor {
        return Ok("data_quality_registry");
    }
    if principal.has(Scope::DoseWrite) && principal.org == Some(org) {
        return Ok("data_quality_own_sender");
    }
    Err(DataQualityDenial {
        rule: "data_quality_not_own_sender",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn principal(role: Role, org: Uuid) -> Principal {
        Principal::from_claims("t", role, Some(org), Some(Uuid::nil()), None, None).expect("claims")
    }

    #[test]
    fn a_sender_reads_its_own_report_and_registry_staff_every_report() {
        let (own, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(authorize_data_quality(&principal(Role::Provider, own), own).is_ok());
        assert!(authorize_data_quality(&principal(Role::Provider, own), other).is_err());
        assert!(authorize_data_quality(&principal(Role::RegistryAdmin, own), other).is_ok());
        assert!(authorize_data_quality(&principal(Role::Auditor, own), other).is_ok());
        for role in [
            Role::School,
            Role::HealthPlan,
            Role::Guardian,
            Role::Individual,
        ] {
            assert!(
                authorize_data_quality(&principal(role, own), own).is_err(),
                "{role}"
            );
        }
    }
}
