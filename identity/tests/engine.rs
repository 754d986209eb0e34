//! The engine's rules, one by one, on hand-made records.

mod support;

use chrono::NaiveDate;
use identity::blocking::share_key;
use identity::{
    blocking_keys, Address, Decision, Gender, Guard, Identifier, IdentifierKind, IdentityError,
    MatchConfig, Matcher, PersonName, PersonRecord, SsnKey, Thresholds, UniqueAuthority,
};

fn name(given: &str, middle: &str, family: &str) -> PersonName {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    PersonName {
        given: some(given),
        middle: some(middle),
        family: some(family),
        suffix: None,
    }
}

/// A well-documented child: every field a registry compares.
fn child() -> PersonRecord {
    PersonRecord {
        name: name("Katherine", "Anne", "Otterstrom-Washington"),
        birth_date: NaiveDate::from_ymd_opt(2011, 6, 4),
        gender: Gender::Female,
        mother_maiden_name: Some("Lindqvist".into()),
        guardians: vec![name("Maria", "", "Washington")],
        addresses: vec![Address {
            street: Some("12 North Main Street".into()),
            city: Some("Lansing".into()),
            state: Some("MI".into()),
            zip: Some("48901".into()),
            ..Address::default()
        }],
        phones: vec!["(517) 555-0142".into()],
        identifiers: vec![Identifier {
            kind: IdentifierKind::Mrn,
            authority: "Clinic 7".into(),
            value: "A-100".into(),
        }],
        ..PersonRecord::default()
    }
}

fn matcher() -> Matcher {
    Matcher::new(MatchConfig::default()).expect("shipped configuration")
}

#[test]
fn the_same_child_submitted_twice_is_a_match() {
    let outcome = matcher().decide(&child(), &child());
    assert_eq!(outcome.decision, Decision::Match, "{outcome:?}");
}

#[test]
fn case_accents_punctuation_nicknames_and_abbreviations_do_not_matter() {
    let mut other = child();
    other.name = name("KATE", "anne", "otterstrom washington");
    other.mother_maiden_name = Some("Lindqvíst".into());
    other.addresses[0].street = Some("12 N. Main St".into());
    other.phones = vec!["517.555.0142".into()];
    let outcome = matcher().decide(&child(), &other);
    assert_eq!(outcome.decision, Decision::Match, "{outcome:?}");
}

#[test]
fn half_of_a_hyphenated_family_name_still_agrees() {
    let mut other = child();
    other.name.family = Some("Washington".into());
    let outcome = matcher().decide(&child(), &other);
    assert_eq!(
        outcome.comparison.level(identity::Field::FamilyName),
        Some(1)
    );
    assert_eq!(outcome.decision, Decision::Match, "{outcome:?}");
}

#[test]
fn a_first_name_entered_as_the_middle_one_is_a_swap_not_a_difference() {
    let mut other = child();
    other.name.given = Some("Anne".into());
    other.name.middle = Some("Katherine".into());
    let outcome = matcher().decide(&child(), &other);
    assert_eq!(
        outcome.comparison.level(identity::Field::GivenName),
        Some(1)
    );
    assert_ne!(outcome.decision, Decision::NoMatch);
}

#[test]
fn twins_with_different_birth_orders_are_never_merged() {
    let mut first = child();
    first.multiple_birth.count = Some(2);
    first.multiple_birth.order = Some(1);
    let mut second = first.clone();
    second.multiple_birth.order = Some(2);
    let outcome = matcher().decide(&first, &second);
    assert_eq!(outcome.decision, Decision::NoMatch);
    assert_eq!(outcome.guard, Some(Guard::BirthOrderDiffers));
}

#[test]
fn multiples_with_different_first_names_are_never_merged() {
    let mut first = child();
    first.multiple_birth.multiple = Some(true);
    let mut second = first.clone();
    second.name.given = Some("Beatrix".into());
    second.name.middle = None;
    let outcome = matcher().decide(&first, &second);
    assert_eq!(outcome.decision, Decision::NoMatch);
    assert_eq!(outcome.guard, Some(Guard::MultipleBirthGivenNameDiffers));
}

#[test]
fn a_different_first_name_is_never_linked_automatically() {
    let mut other = child();
    other.name.given = Some("Beatrix".into());
    let outcome = matcher().decide(&child(), &other);
    assert_ne!(outcome.decision, Decision::Match, "{outcome:?}");
}

#[test]
fn conflicting_identifiers_from_a_unique_authority_block_a_match() {
    let mut other = child();
    other.identifiers[0].value = "A-200".into();
    // By default an MRN conflict is weighed, not trusted: clinics issue second MRNs.
    assert_eq!(matcher().decide(&child(), &other).decision, Decision::Match);
    let strict = Matcher::new(MatchConfig {
        unique_authorities: vec![UniqueAuthority {
            kind: IdentifierKind::Mrn,
            authority: "CLINIC-7".into(),
        }],
        ..MatchConfig::default()
    })
    .expect("valid configuration");
    let outcome = strict.decide(&child(), &other);
    assert_eq!(outcome.decision, Decision::Possible);
    assert_eq!(outcome.guard, Some(Guard::IdentifierConflict));
    // The same identifier again, or one from another authority, is no conflict.
    assert_eq!(strict.decide(&child(), &child()).decision, Decision::Match);
    other.identifiers[0].authority = "Clinic 8".into();
    assert_eq!(strict.decide(&child(), &other).decision, Decision::Match);
}

#[test]
fn a_child_with_nothing_in_common_is_no_match() {
    let other = PersonRecord {
        name: name("Jamal", "", "Okafor"),
        birth_date: NaiveDate::from_ymd_opt(2011, 6, 4),
        gender: Gender::Male,
        ..PersonRecord::default()
    };
    assert_eq!(
        matcher().decide(&child(), &other).decision,
        Decision::NoMatch
    );
}

#[test]
fn blocking_keys_survive_a_swapped_day_and_month_a_misspelt_name_and_a_new_family_name() {
    let base = child();
    let mut swapped = child();
    swapped.birth_date = NaiveDate::from_ymd_opt(2011, 4, 6);
    assert!(share_key(&base, &swapped));
    let mut misspelt = child();
    misspelt.name.given = Some("Catherine".into());
    misspelt.name.family = Some("Otterstrom-Washingten".into());
    assert!(share_key(&base, &misspelt));
    let mut typo_date = child();
    typo_date.birth_date = NaiveDate::from_ymd_opt(2011, 6, 5);
    assert!(share_key(&base, &typo_date));
    let mut renamed = child();
    renamed.name.family = Some("Nguyen".into());
    assert!(share_key(&base, &renamed));
    let stranger = PersonRecord {
        name: name("Jamal", "", "Okafor"),
        birth_date: NaiveDate::from_ymd_opt(2009, 1, 30),
        ..PersonRecord::default()
    };
    assert!(!share_key(&base, &stranger));
}

#[test]
fn blocking_keys_hold_no_social_security_number() {
    let mut record = child();
    record
        .identifiers
        .extend(SsnKey::new(b"secret".to_vec()).identifier("123-45-6789"));
    let keys = blocking_keys(&record);
    assert!(keys.iter().any(|k| k.0.starts_with("i:ssn:")));
    assert!(keys
        .iter()
        .all(|k| !k.0.contains("123456789") && !k.0.contains("6789")));
}

#[test]
fn matched_pairs_of_the_development_files_share_a_blocking_key() {
    let loaded = support::load_all(&support::FILES);
    let matches: Vec<_> = loaded
        .pairs
        .iter()
        .filter(|p| p.expected == Some(Decision::Match))
        .collect();
    let found = matches.iter().filter(|p| share_key(&p.a, &p.b)).count();
    let recall = found as f64 / matches.len() as f64;
    println!(
        "blocking recall of Match pairs: {found}/{} ({:.2}%)",
        matches.len(),
        recall * 100.0
    );
    assert!(recall >= 0.995, "blocking recall {:.2}%", recall * 100.0);
}

#[test]
fn malformed_configurations_are_refused() {
    let config = MatchConfig {
        thresholds: Thresholds {
            match_at: 1.0,
            possible_at: 2.0,
        },
        ..MatchConfig::default()
    };
    assert!(matches!(
        Matcher::new(config),
        Err(IdentityError::InvalidThresholds(_))
    ));
    let mut config = MatchConfig::default();
    config.model.fields[0].m = vec![0.5, 0.5];
    assert!(matches!(
        Matcher::new(config),
        Err(IdentityError::InvalidModel(_))
    ));
    let mut config = MatchConfig::default();
    config.thresholds.match_at = f64::NAN;
    assert!(Matcher::new(config).is_err());
}
