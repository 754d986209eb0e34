//! Which person records a principal may see at all, as data the entity layer turns into SQL.
//!
//! Deciding this here, rather than filtering after a fetch, is what keeps searches, rosters
//! and pagination honest: a hidden record is never read, so it can never be counted or leaked.

use chrono::{Datelike, Months, NaiveDate};
use uuid::Uuid;

use crate::{Principal, Role, Scope};

/// The age of majority: a guardian's access ends on the person's 18th birthday.
pub const ADULT_AGE: u32 = 18;

/// The set of person records a principal may read, before any field rule applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    /// Rule `admin_sees_everything`: registry staff see opted-out and locked records too.
    All,
    /// Rule `clinical_reads`: participating records that are unlocked or locked to `own_org`.
    Clinical { own_org: Uuid },
    /// Rule `school_enrollment`: participating, unlocked (or locked to `org`) records with an
    /// enrollment at `org` for `school_year`.
    EnrolledAt { org: Uuid, school_year: String },
    /// Rule `plan_membership`: participating, unlocked (or locked to `org`) plan members.
    MemberOf { org: Uuid },
    /// Rule `guardian_of_minor`: the guardian's wards born after `born_after` (under 18 today),
    /// whatever their consent state.
    WardsOf {
        guardian: Uuid,
        born_after: NaiveDate,
    },
    /// Rule `individual_self`: the adult's own record (born on or before `born_on_or_before`).
    Own {
        person: Uuid,
        born_on_or_before: NaiveDate,
    },
    /// Rule `deny_by_default`: no person records (auditors, or a token without `person:read`).
    Nothing,
}

impl RowScope {
    /// The row scope of `principal` on `today` (the registry's calendar date).
    pub fn for_principal(principal: &Principal, today: NaiveDate) -> RowScope {
        if !principal.has(Scope::PersonRead) {
            return RowScope::Nothing;
        }
        let adult_cutoff = years_before(today, ADULT_AGE);
        match (principal.role, principal.org, principal.person) {
            (Role::RegistryAdmin, _, _) => RowScope::All,
            (Role::Provider | Role::PublicHealth, Some(org), _) => {
                RowScope::Clinical { own_org: org }
            }
            (Role::School, Some(org), _) => RowScope::EnrolledAt {
                org,
                school_year: school_year_of(today),
            },
            (Role::HealthPlan, Some(org), _) => RowScope::MemberOf { org },
            (Role::Guardian, _, Some(guardian)) => RowScope::WardsOf {
                guardian,
                born_after: adult_cutoff,
            },
            (Role::Individual, _, Some(person)) => RowScope::Own {
                person,
                born_on_or_before: adult_cutoff,
            },
            _ => RowScope::Nothing,
        }
    }
}

/// The date `years` years before `date`; 29 February maps to 28 February, so a person born on
/// a leap day comes of age on 1 March in common years.
fn years_before(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(years * 12))
        .unwrap_or(NaiveDate::MIN)
}

/// Completed years of age on `on`.
pub fn age_in_years(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// The school year a date falls in ("2026-2027" from 1 July 2026 to 30 June 2027), the form
/// enrollments are recorded in.
pub fn school_year_of(date: NaiveDate) -> String {
    let start = if date.month() >= 7 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{start}-{}", start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScopeSet;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    #[test]
    fn guardian_sees_a_17_year_old_but_not_an_18_year_old() {
        let g = Principal::from_claims("g", Role::Guardian, None, Some(Uuid::nil()), None, None)
            .expect("claims");
        let today = date("2026-11-25");
        let RowScope::WardsOf { born_after, .. } = RowScope::for_principal(&g, today) else {
            panic!("guardian scope");
        };
        // Born 2008-11-26: 17 today. Born 2008-11-25: 18 today.
        assert!(date("2008-11-26") > born_after);
        assert!(date("2008-11-25") <= born_after);
    }

    #[test]
    fn leap_day_birthday_comes_of_age_on_first_of_march() {
        let cutoff = years_before(date("2026-02-28"), 18);
        assert!(date("2008-02-29") > cutoff, "still 17 on 28 February");
        let cutoff = years_before(date("2026-03-01"), 18);
        assert!(date("2008-02-29") <= cutoff, "18 on 1 March");
    }

    #[test]
    fn school_year_turns_over_on_the_first_of_july() {
        assert_eq!(school_year_of(date("2026-06-30")), "2025-2026");
        assert_eq!(school_year_of(date("2026-07-01")), "2026-2027");
    }

    #[test]
    fn a_token_without_person_read_sees_nothing() {
        let p = Principal::from_claims(
            "p",
            Role::Provider,
            Some(Uuid::nil()),
            None,
            Some(ScopeSet::parse_claim("dose:write")),
            None,
        )
        .expect("claims");
        assert_eq!(
            RowScope::for_principal(&p, date("2026-01-01")),
            RowScope::Nothing
        );
    }

    #[test]
    fn age_counts_completed_years() {
        assert_eq!(age_in_years(date("2010-05-10"), date("2026-05-09")), 15);
        assert_eq!(age_in_years(date("2010-05-10"), date("2026-05-10")), 16);
    }
}
