//! Who may download the official immunization record (issue 18): the person themself (an
//! adult, `individual`), their guardian while they are a minor (`guardian`; the row scope
//! admits only verified guardians of minors), and registry staff. Others read the record
//! through the field matrix but are not handed the registry's certified copy. Guardians and
//! individuals must also be identity-proofed (the token's `acr`, checked by the gateway).

use crate::{FieldDenial, Principal, Role, Scope};

/// Whether an identity-proofing level must be shown for the download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proofing {
    /// Guardians and individuals: the token must carry an accepted `acr`.
    Required,
    /// Registry staff act under the registry's own controls.
    NotRequired,
}

/// Rule `official_record_family_and_staff`: decides whether `principal` may obtain the
/// official record of a person its row scope admits.
pub fn authorize_official_record(principal: &Principal) -> Result<Proofing, FieldDenial> {
    if !principal.has(Scope::PersonRead) {
        return Err(FieldDenial {
            rule: "deny_by_default",
        });
    }
    match principal.role {
        Role::Guardian | Role::Individual => Ok(Proofing::Required),
        Role::RegistryAdmin => Ok(Proofing::NotRequired),
        Role::Provider | Role::PublicHealth | Role::School | Role::HealthPlan | Role::Auditor => {
            Err(FieldDenial {
                rule: "official_record_family_and_staff",
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn only_family_and_registry_staff_get_the_official_record() {
        let p = |role: Role| {
            Principal::from_claims("t", role, Some(Uuid::nil()), Some(Uuid::nil()), None, None)
                .expect("claims")
        };
        assert_eq!(
            authorize_official_record(&p(Role::Guardian)),
            Ok(Proofing::Required)
        );
        assert_eq!(
            authorize_official_record(&p(Role::Individual)),
            Ok(Proofing::Required)
        );
        assert_eq!(
            authorize_official_record(&p(Role::RegistryAdmin)),
            Ok(Proofing::NotRequired)
        );
        for role in [
            Role::Provider,
            Role::PublicHealth,
            Role::School,
            Role::HealthPlan,
            Role::Auditor,
        ] {
            assert!(authorize_official_record(&p(role)).is_err(), "{role}");
        }
    }
}
