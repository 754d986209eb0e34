//! Who may read the access log, and how much of it: the matrix's "Access log entries" row.

use crate::{FieldDenial, Principal, Role, Scope};

/// The part of the access log a principal reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogView {
    /// Rule `auditor_reads_log` (auditors, registry staff): every entry as written.
    Everything,
    /// Rule `own_record_log` (guardians, individuals): only entries whose subject is a record
    /// the principal answers for (their own, or a ward's in their row scope), with every
    /// other person of the entry removed; an entry that names them only as a co-subject of
    /// someone else's record (the guardian of an `addGuardian`) is not theirs.
    OwnRecords,
}

/// Decides whether `principal` reads the access log at all, and which view.
pub fn access_log_view(principal: &Principal) -> Result<LogView, FieldDenial> {
    if !principal.has(Scope::AuditRead) {
        return Err(FieldDenial {
            rule: "deny_by_default",
        });
    }
    match principal.role {
        Role::Auditor | Role::RegistryAdmin => Ok(LogView::Everything),
        Role::Guardian | Role::Individual => Ok(LogView::OwnRecords),
        Role::Provider | Role::PublicHealth | Role::School | Role::HealthPlan => Err(FieldDenial {
            rule: "deny_by_default",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn p(role: Role) -> Principal {
        Principal::from_claims("t", role, Some(Uuid::nil()), Some(Uuid::nil()), None, None)
            .expect("claims")
    }

    #[test]
    fn the_log_is_the_auditors_and_family_sees_its_own_part() {
        assert_eq!(access_log_view(&p(Role::Auditor)), Ok(LogView::Everything));
        assert_eq!(
            access_log_view(&p(Role::RegistryAdmin)),
            Ok(LogView::Everything)
        );
        assert_eq!(access_log_view(&p(Role::Guardian)), Ok(LogView::OwnRecords));
        assert_eq!(
            access_log_view(&p(Role::Individual)),
            Ok(LogView::OwnRecords)
        );
        for role in [
            Role::Provider,
            Role::PublicHealth,
            Role::School,
            Role::HealthPlan,
        ] {
            assert!(access_log_view(&p(role)).is_err(), "{role}");
        }
    }
}
