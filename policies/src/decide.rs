//! The single decision function: may this principal read this field of this record today?
//!
//! It composes the two halves the gateway enforces separately — the row scope (evaluated in
//! SQL by the entity layer) and the field matrix (asked by every guarded resolver) — so that
//! tests and benchmarks can check one function against the policy page, and so that the Rust
//! evaluation of a row scope ([`RowScope::admits`]) documents exactly what the SQL must do.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{read_field, Field, Principal, RowScope};

/// What the policy needs to know about one person record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFacts {
    pub person: Uuid,
    pub date_of_birth: NaiveDate,
    pub opted_out: bool,
    pub locked_to: Option<Uuid>,
    /// `(organization, school year)` of each enrollment.
    pub enrollments: Vec<(Uuid, String)>,
    /// Health-plan organizations the person is a member of.
    pub memberships: Vec<Uuid>,
    /// Person ids of the person's *verified* guardians (a reported link grants nothing).
    pub guardians: Vec<Uuid>,
}

/// Whether a record is visible to a row scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Visible,
    /// Would be visible, but is locked to another provider: `RECORD_LOCKED` on a fetch by id,
    /// absent from lists.
    Locked,
    /// Behaves as if it did not exist.
    Hidden,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// The record is readable but this field is not (`FORBIDDEN` at the field).
    DenyField {
        rule: &'static str,
    },
    Locked,
    Hidden,
}

impl RowScope {
    /// Evaluates the scope on one record, exactly as the entity layer's SQL does.
    pub fn admits(&self, r: &RecordFacts) -> Visibility {
        let lock_check = |org: Uuid| match r.locked_to {
            Some(lock) if lock != org => Visibility::Locked,
            _ => Visibility::Visible,
        };
        match self {
            RowScope::All => Visibility::Visible,
            RowScope::Nothing => Visibility::Hidden,
            RowScope::Clinical { own_org } => {
                if r.opted_out {
                    Visibility::Hidden
                } else {
                    lock_check(*own_org)
                }
            }
            RowScope::EnrolledAt { org, school_year } => {
                let enrolled = r
                    .enrollments
                    .iter()
                    .any(|(o, y)| o == org && y == school_year);
                if r.opted_out || !enrolled {
                    Visibility::Hidden
                } else {
                    lock_check(*org)
                }
            }
            RowScope::MemberOf { org } => {
                if r.opted_out || !r.memberships.contains(org) {
                    Visibility::Hidden
                } else {
                    lock_check(*org)
                }
            }
            RowScope::WardsOf {
                guardian,
                born_after,
            } => {
                if r.guardians.contains(guardian) && r.date_of_birth > *born_after {
                    Visibility::Visible
                } else {
                    Visibility::Hidden
                }
            }
            RowScope::Own {
                person,
                born_on_or_before,
            } => {
                if r.person == *person && r.date_of_birth <= *born_on_or_before {
                    Visibility::Visible
                } else {
                    Visibility::Hidden
                }
            }
        }
    }
}

/// Decides one read: the record's visibility first, then the field matrix.
pub fn decide(
    principal: &Principal,
    record: &RecordFacts,
    today: NaiveDate,
    field: Field,
) -> Decision {
    match RowScope::for_principal(principal, today).admits(record) {
        Visibility::Hidden => Decision::Hidden,
        Visibility::Locked => Decision::Locked,
        Visibility::Visible => match read_field(principal, field) {
            Ok(()) => Decision::Allow,
            Err(d) => Decision::DenyField { rule: d.rule },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, ScopeSet};

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn record() -> RecordFacts {
        RecordFacts {
            person: Uuid::from_u128(1),
            date_of_birth: date("2015-05-05"),
            opted_out: false,
            locked_to: None,
            enrollments: vec![(Uuid::from_u128(10), "2026-2027".into())],
            memberships: vec![Uuid::from_u128(20)],
            guardians: vec![Uuid::from_u128(30)],
        }
    }

    fn principal(role: Role, org: u128, person: u128) -> Principal {
        Principal::from_claims(
            "t",
            role,
            Some(Uuid::from_u128(org)),
            Some(Uuid::from_u128(person)),
            None,
            None,
        )
        .expect("claims")
    }

    const TODAY: &str = "2026-11-25";

    #[test]
    fn a_lock_hides_the_record_from_other_providers_but_not_the_guardian() {
        let mut r = record();
        r.locked_to = Some(Uuid::from_u128(99));
        let today = date(TODAY);
        assert_eq!(
            decide(
                &principal(Role::Provider, 5, 0),
                &r,
                today,
                Field::PersonIdentity
            ),
            Decision::Locked
        );
        assert_eq!(
            decide(
                &principal(Role::Provider, 99, 0),
                &r,
                today,
                Field::PersonIdentity
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                &principal(Role::Guardian, 0, 30),
                &r,
                today,
                Field::PersonIdentity
            ),
            Decision::Allow
        );
    }

    #[test]
    fn an_opt_out_hides_the_record_from_everyone_but_admin_and_family() {
        let mut r = record();
        r.opted_out = true;
        let today = date(TODAY);
        for p in [
            principal(Role::Provider, 5, 0),
            principal(Role::School, 10, 0),
            principal(Role::HealthPlan, 20, 0),
        ] {
            assert_eq!(
                decide(&p, &r, today, Field::PersonIdentity),
                Decision::Hidden
            );
        }
        assert_eq!(
            decide(&principal(Role::Guardian, 0, 30), &r, today, Field::Consent),
            Decision::Allow
        );
        assert_eq!(
            decide(
                &principal(Role::RegistryAdmin, 0, 0),
                &r,
                today,
                Field::Consent
            ),
            Decision::Allow
        );
    }

    #[test]
    fn a_school_sees_only_current_enrollments_and_only_the_school_view() {
        let today = date(TODAY);
        let s = principal(Role::School, 10, 0);
        assert_eq!(
            decide(&s, &record(), today, Field::DoseVaccine),
            Decision::Allow
        );
        assert!(matches!(
            decide(&s, &record(), today, Field::PersonContact),
            Decision::DenyField { .. }
        ));
        let mut last_year = record();
        last_year.enrollments = vec![(Uuid::from_u128(10), "2025-2026".into())];
        assert_eq!(
            decide(&s, &last_year, today, Field::DoseVaccine),
            Decision::Hidden
        );
    }

    #[test]
    fn a_guardians_access_ends_on_the_18th_birthday() {
        let g = principal(Role::Guardian, 0, 30);
        let mut r = record();
        r.date_of_birth = date("2008-11-26");
        assert_eq!(
            decide(&g, &r, date(TODAY), Field::PersonIdentity),
            Decision::Allow
        );
        r.date_of_birth = date("2008-11-25");
        assert_eq!(
            decide(&g, &r, date(TODAY), Field::PersonIdentity),
            Decision::Hidden
        );
    }

    #[test]
    fn scopes_narrow_a_role() {
        let p = Principal::from_claims(
            "t",
            Role::Provider,
            Some(Uuid::from_u128(5)),
            None,
            Some(ScopeSet::parse_claim("dose:write")),
            None,
        )
        .expect("claims");
        assert_eq!(
            decide(&p, &record(), date(TODAY), Field::PersonIdentity),
            Decision::Hidden
        );
    }
}
