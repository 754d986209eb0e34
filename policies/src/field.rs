//! Field visibility: the "reads" matrix of the access policy, for records the role may read
//! at all (the row scope decides that).

use uuid::Uuid;

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
    /// School and child-care enrollments (school, grade, year).
    Enrollments,
    /// Health-plan memberships.
    Memberships,
}

impl Field {
    pub const ALL: [Field; 13] = [
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
        Field::Enrollments,
        Field::Memberships,
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
            Field::Enrollments => "enrollments",
            Field::Memberships => "memberships",
        }
    }
}

/// Why a field was refused: the named rule of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDenial {
    pub rule: &'static str,
}

/// Which rows of a readable field the principal sees: the matrix's "own organization's only"
/// cells (a school's enrollments, a health plan's memberships).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsOf {
    All,
    /// Only rows naming this organization.
    Organization(Uuid),
}

/// Decides one cell of the field matrix. Each arm is a rule of `access-policy.md`; there is
/// no catch-all grant: a field (or role) not listed here is refused (rule `deny_by_default`),
/// and [`Field::ALL`] is walked by a test against the table, so a new field is refused until
/// a row is written for it.
pub fn read_field(principal: &Principal, field: Field) -> Result<(), FieldDenial> {
    read_rows(principal, field).map(|_| ())
}

/// [`read_field`], and which of the field's rows are readable.
pub fn read_rows(principal: &Principal, field: Field) -> Result<RowsOf, FieldDenial> {
    use Field::*;
    use Role::*;
    let own_org = || principal.org.map(RowsOf::Organization);
    let allowed = match (principal.role, field) {
        // Rule `admin_reads_all`.
        (RegistryAdmin, _) => Some(RowsOf::All),
        // Rule `auditor_no_clinical`: auditors read the access log only.
        (Auditor, _) => None,
        // Rule `clinical_full_record` (providers, public health): every row of the table but
        // memberships (a health plan's business).
        (
            Provider | PublicHealth,
            PersonIdentity | PersonGender | PersonContact | PersonGuardians | DoseVaccine
            | DoseDetails | DoseEvaluation | Recommendations | Contraindications | SchoolCompliance
            | Consent | Enrollments,
        ) => Some(RowsOf::All),
        (Provider | PublicHealth, Memberships) => None,
        // Rule `own_full_record` (guardians, individuals): every person field of the table.
        (
            Guardian | Individual,
            PersonIdentity | PersonGender | PersonContact | PersonGuardians | DoseVaccine
            | DoseDetails | DoseEvaluation | Recommendations | Contraindications | SchoolCompliance
            | Consent | Enrollments | Memberships,
        ) => Some(RowsOf::All),
        // Rule `school_view`: identity, gender, dose vaccine/date, validity, compliance, and
        // its own organization's enrollments.
        (
            School,
            PersonIdentity | PersonGender | DoseVaccine | DoseEvaluation | SchoolCompliance,
        ) => Some(RowsOf::All),
        (School, Enrollments) => own_org(),
        (School, _) => None,
        // Rule `plan_view`: identity, gender, doses (no details), validity, forecast, and its
        // own organization's memberships.
        (
            HealthPlan,
            PersonIdentity | PersonGender | DoseVaccine | DoseEvaluation | Recommendations,
        ) => Some(RowsOf::All),
        (HealthPlan, Memberships) => own_org(),
        (HealthPlan, _) => None,
    };
    allowed.ok_or(FieldDenial {
        rule: match principal.role {
            Auditor => "auditor_no_clinical",
            School => "school_view",
            HealthPlan => "plan_view",
            _ => "deny_by_default",
        },
    })
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
    fn memberships_and_enrollments_follow_their_rows_of_the_matrix() {
        let org = Uuid::nil();
        assert!(read_field(&p(Role::Provider), Field::Memberships).is_err());
        assert!(read_field(&p(Role::PublicHealth), Field::Memberships).is_err());
        assert_eq!(
            read_rows(&p(Role::Provider), Field::Enrollments),
            Ok(RowsOf::All)
        );
        assert_eq!(
            read_rows(&p(Role::School), Field::Enrollments),
            Ok(RowsOf::Organization(org))
        );
        assert!(read_field(&p(Role::School), Field::Memberships).is_err());
        assert!(read_field(&p(Role::HealthPlan), Field::Enrollments).is_err());
        assert_eq!(
            read_rows(&p(Role::HealthPlan), Field::Memberships),
            Ok(RowsOf::Organization(org))
        );
        assert_eq!(
            read_rows(&p(Role::Guardian), Field::Memberships),
            Ok(RowsOf::All)
        );
    }

    #[test]
    fn auditor_sees_no_person_field() {
        for f in Field::ALL {
            assert!(read_field(&p(Role::Auditor), f).is_err());
        }
    }
}
