//! Field visibility: the "reads" matrix of the access policy, for records the role may read
//! at all (the row scope decides that).

use crate::{Principal, Role};

/// A group of fields that the matrix grants or refuses together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Person id, name, date of birth.
    PersonIdentity,
    PersonGender,
    /// Address, phone, e-mail.
    PersonContact,
    /// Guardians' names and contact.
    PersonGuardians,
    /// Dose vaccine (CVX, vaccine group) and date given.
    DoseVaccine,
    /// Manufacturer, lot, site, route, administering and reporting organization.
    DoseDetails,
    /// Whether a dose counts.
    DoseEvaluation,
    Recommendations,
    Contraindications,
    SchoolCompliance,
    /// Participation, lock, reminders and history.
    Consent,
    /// Enrollments and memberships: what the row scope itself is computed from.
    Affiliations,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::PersonIdentity,
        Field::PersonGender,
        Field::PersonContact,
        Field::PersonGuardians,
        Field::DoseVaccine,
        Field::DoseDetails,
        Field::DoseEvaluation,
        Field::Recommendations,
        Field::Contraindications,
        Field::SchoolCompliance,
        Field::Consent,
        Field::Affiliations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::PersonIdentity => "identity",
            Field::PersonGender => "gender",
            Field::PersonContact => "contact",
            Field::PersonGuardians => "guardians",
            Field::DoseVaccine => "doses",
            Field::DoseDetails => "doseDetails",
            Field::DoseEvaluation => "doseEvaluation",
            Field::Recommendations => "recommendations",
            Field::Contraindications => "contraindications",
            Field::SchoolCompliance => "schoolCompliance",
            Field::Consent => "consent",
            Field::Affiliations => "affiliations",
        }
    }
}

/// Why a field was refused: the named rule of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDenial {
    pub rule: &'static str,
}

/// Decides one cell of the field matrix. Each arm is a rule of `access-policy.md`.
pub fn read_field(principal: &Principal, field: Field) -> Result<(), FieldDenial> {
    use Field::*;
    use Role::*;
    let allowed = match (principal.role, field) {
        // Rule `admin_reads_all`.
        (RegistryAdmin, _) => true,
        // Rule `auditor_no_clinical`: auditors read the access log only.
        (Auditor, _) => false,
        // Rule `clinical_full_record` (providers, public health) and `own_full_record`
        // (guardians, individuals): every person field.
        (Provider | PublicHealth | Guardian | Individual, _) => true,
        // Rule `school_view`: identity, gender, dose vaccine/date, validity, compliance.
        (
            School,
            PersonIdentity | PersonGender | DoseVaccine | DoseEvaluation | SchoolCompliance,
        ) => true,
        (School, _) => false,
        // Rule `plan_view`: identity, gender, doses (no details), validity, forecast.
        (
            HealthPlan,
            PersonIdentity | PersonGender | DoseVaccine | DoseEvaluation | Recommendations,
        ) => true,
        (HealthPlan, _) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(FieldDenial {
            rule: match principal.role {
                Auditor => "auditor_no_clinical",
                School => "school_view",
                HealthPlan => "plan_view",
                _ => "deny_by_default",
            },
        })
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
    fn school_sees_doses_but_not_their_details_or_contact() {
        assert!(read_field(&p(Role::School), Field::DoseVaccine).is_ok());
        assert!(read_field(&p(Role::School), Field::DoseDetails).is_err());
        assert!(read_field(&p(Role::School), Field::PersonContact).is_err());
        assert!(read_field(&p(Role::School), Field::Recommendations).is_err());
    }

    #[test]
    fn health_plan_sees_recommendations_but_not_compliance() {
        assert!(read_field(&p(Role::HealthPlan), Field::Recommendations).is_ok());
        assert!(read_field(&p(Role::HealthPlan), Field::SchoolCompliance).is_err());
    }

    #[test]
    fn auditor_sees_no_person_field() {
        for f in Field::ALL {
            assert!(read_field(&p(Role::Auditor), f).is_err());
        }
    }
}
