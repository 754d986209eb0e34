//! Who may read a school's roster, and whose school compliance.
//!
//! The row scope already limits a school to current enrollments at its own organization;
//! these rules refuse the request itself when it names another organization or another
//! school year, so a school asking for someone else's roster is told no rather than shown an
//! empty list that reads like a school without students.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{school_year_of, Principal, Role, Scope};

/// Why a roster (or a compliance check) was refused: the named rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterDenial {
    /// Rule `roster_needs_scope`: only schools (and registry staff) hold `roster:read`.
    NoRosterScope,
    /// Rule `roster_own_org`: a school reads only its own organization's roster.
    OtherOrganization,
    /// Rule `roster_current_year`: a school sees only current enrollments.
    OtherSchoolYear,
}

impl RosterDenial {
    /// The rule's name, as recorded in the access log.
    pub fn rule(self) -> &'static str {
        match self {
            RosterDenial::NoRosterScope => "roster_needs_scope",
            RosterDenial::OtherOrganization => "roster_own_org",
            RosterDenial::OtherSchoolYear => "roster_current_year",
        }
    }
}

/// Decides a roster read of `org` for `school_year` on `today`.
pub fn authorize_roster(
    principal: &Principal,
    org: Uuid,
    school_year: &str,
    today: NaiveDate,
) -> Result<(), RosterDenial> {
    if !principal.has(Scope::RosterRead) {
        return Err(RosterDenial::NoRosterScope);
    }
    match principal.role {
        Role::RegistryAdmin => Ok(()),
        _ if principal.org != Some(org) => Err(RosterDenial::OtherOrganization),
        _ if school_year != school_year_of(today) => Err(RosterDenial::OtherSchoolYear),
        _ => Ok(()),
    }
}

/// Decides whether `principal` may ask for a person's compliance with the requirements of
/// `org` (the field matrix decides whether it may see compliance at all): a school only for
/// its own organization, since another school's enrollment is not part of the school view.
pub fn authorize_compliance_at(principal: &Principal, org: Uuid) -> Result<(), RosterDenial> {
    match principal.role {
        Role::School if principal.org != Some(org) => Err(RosterDenial::OtherOrganization),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScopeSet;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn principal(role: Role, org: u128) -> Principal {
        Principal::from_claims(
            "t",
            role,
            Some(Uuid::from_u128(org)),
            Some(Uuid::from_u128(1)),
            None,
            None,
        )
        .expect("claims")
    }

    const TODAY: &str = "2026-11-25";

    #[test]
    fn a_school_reads_its_own_current_roster_only() {
        let s = principal(Role::School, 10);
        let today = date(TODAY);
        let own = Uuid::from_u128(10);
        assert_eq!(authorize_roster(&s, own, "2026-2027", today), Ok(()));
        assert_eq!(
            authorize_roster(&s, Uuid::from_u128(11), "2026-2027", today),
            Err(RosterDenial::OtherOrganization)
        );
        assert_eq!(
            authorize_roster(&s, own, "2025-2026", today),
            Err(RosterDenial::OtherSchoolYear)
        );
    }

    #[test]
    fn roles_without_roster_read_are_refused_even_for_their_own_org() {
        let today = date(TODAY);
        for role in [
            Role::Provider,
            Role::PublicHealth,
            Role::HealthPlan,
            Role::Guardian,
            Role::Individual,
            Role::Auditor,
        ] {
            let p = principal(role, 10);
            assert_eq!(
                authorize_roster(&p, Uuid::from_u128(10), "2026-2027", today),
                Err(RosterDenial::NoRosterScope),
                "{role}"
            );
        }
    }

    #[test]
    fn a_school_token_without_the_roster_scope_is_refused() {
        let s = Principal::from_claims(
            "t",
            Role::School,
            Some(Uuid::from_u128(10)),
            None,
            Some(ScopeSet::parse_claim("person:read")),
            None,
        )
        .expect("claims");
        assert_eq!(
            authorize_roster(&s, Uuid::from_u128(10), "2026-2027", date(TODAY)),
            Err(RosterDenial::NoRosterScope)
        );
    }

    #[test]
    fn registry_staff_read_any_roster_of_any_year() {
        let a = principal(Role::RegistryAdmin, 0);
        assert_eq!(
            authorize_roster(&a, Uuid::from_u128(10), "2019-2020", date(TODAY)),
            Ok(())
        );
    }

    #[test]
    fn a_school_asks_for_compliance_only_at_its_own_organization() {
        let s = principal(Role::School, 10);
        assert!(authorize_compliance_at(&s, Uuid::from_u128(10)).is_ok());
        assert_eq!(
            authorize_compliance_at(&s, Uuid::from_u128(11)),
            Err(RosterDenial::OtherOrganization)
        );
        let p = principal(Role::Provider, 5);
        assert!(authorize_compliance_at(&p, Uuid::from_u128(10)).is_ok());
    }
}
