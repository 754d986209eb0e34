//! Population work (issue 17): who may run reminder/recall, outbreak at-risk, coverage and lot
//! recall jobs, over which persons, and who may read a job's output.
//!
//! A job runs long after the request that created it, on any instance, so the decision is
//! taken once, when the job is created, and stored with it as a [`PopulationGrant`]: the
//! worker applies the grant's rows in SQL and never re-derives a principal. Every list read
//! and every export of the output is logged by the caller as one entry naming the persons.

use uuid::Uuid;

use crate::{read_field, Field, Principal, Role, Scope};

/// The kinds of population job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PopulationKind {
    /// Persons due (reminder) or overdue (recall) for chosen vaccine groups.
    ReminderRecall,
    /// Persons without evidence of immunity in a place or contact list.
    OutbreakAtRisk,
    /// Share up to date in an age cohort, by geography or organization.
    Coverage,
    /// Persons given a lot (or a CVX/MVX) between two dates.
    LotRecall,
}

impl PopulationKind {
    pub const ALL: [PopulationKind; 4] = [
        PopulationKind::ReminderRecall,
        PopulationKind::OutbreakAtRisk,
        PopulationKind::Coverage,
        PopulationKind::LotRecall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PopulationKind::ReminderRecall => "REMINDER_RECALL",
            PopulationKind::OutbreakAtRisk => "OUTBREAK_AT_RISK",
            PopulationKind::Coverage => "COVERAGE",
            PopulationKind::LotRecall => "LOT_RECALL",
        }
    }

    pub fn parse(s: &str) -> Option<PopulationKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which persons a population job may list. Every variant leaves out opted-out persons and
/// persons locked to an organization other than the one named (a locked person appears only
/// in the lock holder's lists; registry-wide lists leave every locked person out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "rows", rename_all = "snake_case")]
pub enum PopulationRows {
    /// Rule `population_registry`: registry staff, the whole registry.
    Registry,
    /// Rule `population_jurisdiction`: public health, persons whose ZIP lies in one of its
    /// organization's counties.
    Jurisdiction { org: Uuid },
    /// Rule `population_own_patients`: a provider, persons its organization gave a dose to.
    Patients { org: Uuid },
    /// Rule `population_plan_members`: a health plan, its members.
    Members { org: Uuid },
}

impl PopulationRows {
    /// The organization a locked person must be locked to, to be listed.
    pub fn lock_holder(self) -> Option<Uuid> {
        match self {
            PopulationRows::Registry => None,
            PopulationRows::Jurisdiction { org }
            | PopulationRows::Patients { org }
            | PopulationRows::Members { org } => Some(org),
        }
    }

    pub fn rule(self) -> &'static str {
        match self {
            PopulationRows::Registry => "population_registry",
            PopulationRows::Jurisdiction { .. } => "population_jurisdiction",
            PopulationRows::Patients { .. } => "population_own_patients",
            PopulationRows::Members { .. } => "population_plan_members",
        }
    }
}

/// What the policy granted a job when it was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PopulationGrant {
    pub kind: PopulationKind,
    pub rows: PopulationRows,
    /// Whether the output carries contact (address, phone, e-mail, the guardian's name): the
    /// field matrix's `contact` answer for the creator's role.
    pub contact: bool,
}

/// Why a population job (or a read of one) was refused: the named rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopulationDenial {
    /// Rule `population_needs_person_read`.
    NoPersonRead,
    /// Rule `population_role`: this role runs no job of this kind.
    Role,
    /// Rule `population_job_owner`: a job's output is read by its creator's organization (or
    /// its creator, for a role acting for none) and registry staff only.
    NotOwner,
    /// Rule `population_geography_admin`: only registry staff set ZIP counties and
    /// jurisdictions.
    GeographyAdmin,
}

impl PopulationDenial {
    pub fn rule(self) -> &'static str {
        match self {
            PopulationDenial::NoPersonRead => "population_needs_person_read",
            PopulationDenial::Role => "population_role",
            PopulationDenial::NotOwner => "population_job_owner",
            PopulationDenial::GeographyAdmin => "population_geography_admin",
        }
    }
}

/// The scope a population job (start, follow, cancel, read its output) requires: its lists
/// are reads of persons. Declared on the GraphQL fields as `@requiresScopes`.
pub const POPULATION_SCOPE: Scope = Scope::PersonRead;

/// The scope setting the county tables requires, with the `registry_admin` role.
pub const GEOGRAPHY_SCOPE: Scope = Scope::PersonWrite;

/// Decides whether `principal` may create a job of `kind`, and over which persons.
///
/// | kind | registry_admin | public_health | provider | health_plan | others |
/// | --- | --- | --- | --- | --- | --- |
/// | reminder/recall, coverage | registry | jurisdiction | own patients | members | no |
/// | outbreak at-risk | registry | jurisdiction | no | no | no |
/// | lot recall | registry | jurisdiction | own patients | no | no |
pub fn authorize_population(
    principal: &Principal,
    kind: PopulationKind,
) -> Result<PopulationGrant, PopulationDenial> {
    use PopulationKind::*;
    if !principal.has(POPULATION_SCOPE) {
        return Err(PopulationDenial::NoPersonRead);
    }
    let rows = match (principal.role, principal.org) {
        (Role::RegistryAdmin, _) => PopulationRows::Registry,
        (Role::PublicHealth, Some(org)) => PopulationRows::Jurisdiction { org },
        (Role::Provider, Some(org)) if kind != OutbreakAtRisk => PopulationRows::Patients { org },
        (Role::HealthPlan, Some(org)) if matches!(kind, ReminderRecall | Coverage) => {
            PopulationRows::Members { org }
        }
        _ => return Err(PopulationDenial::Role),
    };
    Ok(PopulationGrant {
        kind,
        rows,
        contact: read_field(principal, Field::PersonContact).is_ok(),
    })
}

/// Decides whether `principal` may set the ZIP → county table or an organization's counties.
pub fn authorize_geography_write(principal: &Principal) -> Result<(), PopulationDenial> {
    if principal.role == Role::RegistryAdmin && principal.has(GEOGRAPHY_SCOPE) {
        Ok(())
    } else {
        Err(PopulationDenial::GeographyAdmin)
    }
}

/// Who created a job, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOwner {
    pub subject: String,
    pub role: Role,
    pub org: Option<Uuid>,
}

/// Decides whether `principal` may read (status, output, exports) or cancel a job.
pub fn authorize_job_read(principal: &Principal, owner: &JobOwner) -> Result<(), PopulationDenial> {
    if !principal.has(POPULATION_SCOPE) {
        return Err(PopulationDenial::NoPersonRead);
    }
    let same_owner = match owner.org {
        Some(org) => principal.org == Some(org) && principal.role == owner.role,
        None => principal.subject == owner.subject && principal.role == owner.role,
    };
    if principal.role == Role::RegistryAdmin || same_owner {
        Ok(())
    } else {
        Err(PopulationDenial::NotOwner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, org: Option<u128>) -> Principal {
        Principal::from_claims(
            "t",
            role,
            org.map(Uuid::from_u128),
            role.needs_person().then(|| Uuid::from_u128(1)),
            None,
            None,
        )
        .expect("claims")
    }

    #[test]
    fn each_role_gets_its_own_rows_or_nothing() {
        let org = Uuid::from_u128(7);
        let cases = [
            (
                Role::RegistryAdmin,
                None,
                PopulationKind::OutbreakAtRisk,
                Ok(PopulationRows::Registry),
            ),
            (
                Role::PublicHealth,
                Some(7),
                PopulationKind::OutbreakAtRisk,
                Ok(PopulationRows::Jurisdiction { org }),
            ),
            (
                Role::Provider,
                Some(7),
                PopulationKind::ReminderRecall,
                Ok(PopulationRows::Patients { org }),
            ),
            (
                Role::Provider,
                Some(7),
                PopulationKind::LotRecall,
                Ok(PopulationRows::Patients { org }),
            ),
            (
                Role::Provider,
                Some(7),
                PopulationKind::OutbreakAtRisk,
                Err(PopulationDenial::Role),
            ),
            (
                Role::HealthPlan,
                Some(7),
                PopulationKind::Coverage,
                Ok(PopulationRows::Members { org }),
            ),
            (
                Role::HealthPlan,
                Some(7),
                PopulationKind::LotRecall,
                Err(PopulationDenial::Role),
            ),
            (
                Role::School,
                Some(7),
                PopulationKind::Coverage,
                Err(PopulationDenial::Role),
            ),
            (
                Role::Guardian,
                None,
                PopulationKind::ReminderRecall,
                Err(PopulationDenial::Role),
            ),
            (
                Role::Auditor,
                None,
                PopulationKind::ReminderRecall,
                Err(PopulationDenial::NoPersonRead),
            ),
        ];
        for (role, o, kind, want) in cases {
            let got = authorize_population(&principal(role, o), kind).map(|g| g.rows);
            assert_eq!(got, want, "{role} {kind:?}");
        }
    }

    #[test]
    fn contact_follows_the_field_matrix() {
        let plan = authorize_population(
            &principal(Role::HealthPlan, Some(3)),
            PopulationKind::ReminderRecall,
        )
        .expect("plan");
        assert_eq!(
            plan.contact,
            read_field(&principal(Role::HealthPlan, Some(3)), Field::PersonContact).is_ok()
        );
        let ph = authorize_population(
            &principal(Role::PublicHealth, Some(3)),
            PopulationKind::OutbreakAtRisk,
        )
        .expect("public health");
        assert!(ph.contact);
    }

    #[test]
    fn a_job_is_read_by_its_organization_and_registry_staff_only() {
        let owner = JobOwner {
            subject: "a".into(),
            role: Role::Provider,
            org: Some(Uuid::from_u128(7)),
        };
        assert!(authorize_job_read(&principal(Role::Provider, Some(7)), &owner).is_ok());
        assert!(authorize_job_read(&principal(Role::RegistryAdmin, None), &owner).is_ok());
        assert_eq!(
            authorize_job_read(&principal(Role::Provider, Some(8)), &owner),
            Err(PopulationDenial::NotOwner)
        );
        assert_eq!(
            authorize_job_read(&principal(Role::PublicHealth, Some(7)), &owner),
            Err(PopulationDenial::NotOwner)
        );
    }
}
