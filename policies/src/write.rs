//! Which principals may perform which writes (the "writes" column of the role table).
//!
//! Role rights are already folded into the principal's scopes, so each write needs exactly one
//! scope; the row scope then decides *which* records it may touch.

use crate::{Principal, Scope};

/// Every write the API offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteAction {
    CreateOrganization,
    CreatePerson,
    UpdatePerson,
    AddGuardian,
    /// Turning a reported guardian link into a verified one, which grants access.
    VerifyGuardian,
    /// Merging two persons, undoing a merge, settling a review item (issue 15).
    MergePersons,
    /// Asking which persons a submission may be (`matchPersons`, issue 15): a submitter's
    /// question, so it needs the right to submit persons.
    MatchPersons,
    RecordDose,
    RecordContraindication,
    SetConsent,
    Enroll,
    AddMembership,
}

/// A refused action and the named rule that refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    pub rule: &'static str,
    pub required: Scope,
}

impl WriteAction {
    /// The scope an action needs.
    ///
    /// - `registry_reference_data`: organizations, enrollments and memberships are registry
    ///   reference data; schools and plans "write nothing", so only `admin` maintains them.
    /// - `clinical_write`: doses and contraindications (clinical observations) need `dose:write`.
    /// - `demographic_write`: persons and guardian links need `person:write`.
    /// - `consent_write`: consent changes need `consent:write` (providers on the person's
    ///   request, guardians, individuals).
    /// - `registry_verifies_guardians`: only registry staff verify a guardian relationship
    ///   (a verified link grants a guardian access; a provider's link is only reported).
    pub fn required_scope(self) -> (Scope, &'static str) {
        match self {
            WriteAction::CreateOrganization | WriteAction::Enroll | WriteAction::AddMembership => {
                (Scope::Admin, "registry_reference_data")
            }
            WriteAction::RecordDose | WriteAction::RecordContraindication => {
                (Scope::DoseWrite, "clinical_write")
            }
            WriteAction::CreatePerson | WriteAction::UpdatePerson | WriteAction::AddGuardian => {
                (Scope::PersonWrite, "demographic_write")
            }
            WriteAction::SetConsent => (Scope::ConsentWrite, "consent_write"),
            WriteAction::VerifyGuardian => (Scope::Admin, "registry_verifies_guardians"),
            WriteAction::MergePersons => (Scope::Admin, "registry_merges_persons"),
            WriteAction::MatchPersons => (Scope::PersonWrite, "submitters_match_persons"),
        }
    }
}

/// Decides whether `principal` may attempt `action` at all.
pub fn authorize_write(principal: &Principal, action: WriteAction) -> Result<(), Denial> {
    let (required, rule) = action.required_scope();
    if principal.has(required) {
        Ok(())
    } else {
        Err(Denial { rule, required })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use uuid::Uuid;

    fn principal(role: Role) -> Principal {
        Principal::from_claims("t", role, Some(Uuid::nil()), Some(Uuid::nil()), None, None)
            .expect("claims")
    }

    #[test]
    fn schools_health_plans_and_auditors_write_nothing() {
        for role in [Role::School, Role::HealthPlan, Role::Auditor] {
            for action in [
                WriteAction::CreatePerson,
                WriteAction::RecordDose,
                WriteAction::SetConsent,
                WriteAction::Enroll,
            ] {
                assert!(
                    authorize_write(&principal(role), action).is_err(),
                    "{role} {action:?}"
                );
            }
        }
    }

    #[test]
    fn guardians_may_change_consent_but_not_record_doses() {
        let g = principal(Role::Guardian);
        assert!(authorize_write(&g, WriteAction::SetConsent).is_ok());
        assert!(authorize_write(&g, WriteAction::RecordDose).is_err());
    }

    #[test]
    fn only_registry_staff_verify_guardians() {
        for role in [
            Role::Provider,
            Role::PublicHealth,
            Role::School,
            Role::Guardian,
        ] {
            assert!(authorize_write(&principal(role), WriteAction::VerifyGuardian).is_err());
        }
        let admin = principal(Role::RegistryAdmin);
        assert!(authorize_write(&admin, WriteAction::VerifyGuardian).is_ok());
    }

    #[test]
    fn only_registry_staff_merge_and_only_submitters_match() {
        for role in [
            Role::Provider,
            Role::PublicHealth,
            Role::School,
            Role::HealthPlan,
            Role::Guardian,
            Role::Individual,
            Role::Auditor,
        ] {
            assert!(authorize_write(&principal(role), WriteAction::MergePersons).is_err());
        }
        assert!(
            authorize_write(&principal(Role::RegistryAdmin), WriteAction::MergePersons).is_ok()
        );
        assert!(authorize_write(&principal(Role::Provider), WriteAction::MatchPersons).is_ok());
        for role in [
            Role::School,
            Role::HealthPlan,
            Role::Guardian,
            Role::Auditor,
        ] {
            assert!(authorize_write(&principal(role), WriteAction::MatchPersons).is_err());
        }
    }

    #[test]
    fn providers_record_doses_but_do_not_enroll() {
        let p = principal(Role::Provider);
        assert!(authorize_write(&p, WriteAction::RecordDose).is_ok());
        assert!(authorize_write(&p, WriteAction::Enroll).is_err());
    }
}
