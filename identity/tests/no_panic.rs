//! Any input gets a decision: random records (arbitrary Unicode, empty and absurd values,
//! impossible dates avoided only because `NaiveDate` cannot hold them) never make the engine,
//! the blocking keys or the pair-file parser panic.

use chrono::NaiveDate;
use identity::pairs::parse_pairs;
use identity::{
    blocking_keys, Address, Gender, Identifier, IdentifierKind, MatchConfig, Matcher,
    MultipleBirth, PersonName, PersonRecord, SsnKey,
};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        "[a-zA-Z' -]{0,12}".prop_map(Some),
        any::<String>().prop_map(Some),
        "[ÀÉÎÕÜßØçñ·;\\\\-]{1,6}".prop_map(Some),
    ]
}

fn name() -> impl Strategy<Value = PersonName> {
    (text(), text(), text(), text()).prop_map(|(given, middle, family, suffix)| PersonName {
        given,
        middle,
        family,
        suffix,
    })
}

fn record() -> impl Strategy<Value = PersonRecord> {
    (
        name(),
        prop::collection::vec(name(), 0..3),
        prop::option::of((1i32..=9999, 1u32..=12, 1u32..=31)),
        prop_oneof![
            Just(Gender::Female),
            Just(Gender::Male),
            Just(Gender::Other),
            Just(Gender::Unknown)
        ],
        (
            prop::option::of(any::<bool>()),
            prop::option::of(any::<u8>()),
            prop::option::of(any::<u8>()),
        ),
        text(),
        prop::collection::vec(name(), 0..3),
        prop::collection::vec((text(), text(), text(), text(), text()), 0..3),
        prop::collection::vec(any::<String>(), 0..3),
        prop::collection::vec((0u8..4, any::<String>(), any::<String>()), 0..4),
    )
        .prop_map(
            |(
                name,
                aliases,
                date,
                gender,
                (multiple, count, order),
                mother,
                guardians,
                addresses,
                phones,
                ids,
            )| {
                PersonRecord {
                    name,
                    aliases,
                    birth_date: date.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
                    gender,
                    multiple_birth: MultipleBirth {
                        multiple,
                        count,
                        order,
                    },
                    mother_maiden_name: mother,
                    guardians,
                    addresses: addresses
                        .into_iter()
                        .map(|(street, street2, city, state, zip)| Address {
                            street,
                            street2,
                            city,
                            state,
                            zip,
                        })
                        .collect(),
                    phones,
                    identifiers: ids
                        .into_iter()
                        .map(|(k, authority, value)| Identifier {
                            kind: [
                                IdentifierKind::Mrn,
                                IdentifierKind::Medicaid,
                                IdentifierKind::SsnHash,
                                IdentifierKind::Other,
                            ][k as usize],
                            authority,
                            value,
                        })
                        .collect(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_records_get_a_decision_and_keys(a in record(), b in record()) {
        let matcher = Matcher::new(MatchConfig::default()).expect("shipped configuration");
        let outcome = matcher.decide(&a, &b);
        prop_assert!(outcome.score.is_finite());
        // A record compared with itself is never a disagreement on any field.
        let same = matcher.decide(&a, &a);
        prop_assert!(same.score.is_finite());
        let _ = blocking_keys(&a);
        let _ = blocking_keys(&b);
    }

    #[test]
    fn random_pair_files_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_pairs(&bytes, &SsnKey::new(b"k".to_vec()));
    }

    #[test]
    fn random_field_lines_parse(line in "[^\\r\\n]*") {
        let text = format!("TEST: x:y:z\nEXPECT: Match\nPATIENT A: {line}\nPATIENT B: {line}\n");
        let pairs = parse_pairs(text.as_bytes(), &SsnKey::new(b"k".to_vec()));
        prop_assert!(pairs.is_ok());
    }
}
