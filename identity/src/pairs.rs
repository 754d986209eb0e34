//! The labelled pair files of the registry community's patient-matching test tool
//! (`immregistries/patient-matching`; `shared/matching/README.md`): `TEST:` / `EXPECT:` /
//! `PATIENT A:` / `PATIENT B:` lines, `key=value` fields, Latin-1. Parsing is pure (bytes in,
//! pairs out) so that the floors test and `izgraph match-check` read the files the same way.

use chrono::NaiveDate;

use crate::error::IdentityError;
use crate::matcher::Decision;
use crate::record::{Address, Gender, Identifier, IdentifierKind, PersonName, PersonRecord};
use crate::ssn::SsnKey;

/// One labelled pair.
#[derive(Clone, Debug)]
pub struct LabelledPair {
    /// The TEST line's text after `TEST: ` (e.g. `S-1275:SSN_SHARED:IDEAL-IDEAL`).
    pub test: String,
    /// The scenario: the TEST text's second `:`-separated part (`SSN_SHARED`). For reporting
    /// only; the engine never sees it.
    pub scenario: String,
    /// The expected decision; `None` for the tool's `Not Sure`, which is not scored.
    pub expected: Option<Decision>,
    pub a: PersonRecord,
    pub b: PersonRecord,
    /// Line of the TEST line, 1-based.
    pub line: usize,
}

/// A pair being read.
struct Open {
    line: usize,
    test: String,
    /// `Some` once EXPECT is read (`Some(None)` for `Not Sure`).
    expected: Option<Option<Decision>>,
    a: Option<PersonRecord>,
}

impl Open {
    fn new(line: usize, test: &str) -> Self {
        Self {
            line,
            test: test.to_owned(),
            expected: None,
            a: None,
        }
    }
}

/// Parses a file of labelled pairs. SSNs are turned into keyed hashes with `ssn_key` on the
/// way in, as a store would.
pub fn parse_pairs(bytes: &[u8], ssn_key: &SsnKey) -> Result<Vec<LabelledPair>, IdentityError> {
    // Latin-1: every byte is the code point of the same value.
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut pairs = Vec::new();
    let mut current: Option<Open> = None;
    let err = |line: usize, problem: &str| IdentityError::PairFile {
        line,
        problem: problem.to_owned(),
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        if let Some(test) = raw.strip_prefix("TEST: ") {
            if current.is_some() {
                return Err(err(line, "TEST before the previous pair's PATIENT B"));
            }
            current = Some(Open::new(line, test.trim()));
        } else if let Some(expect) = raw.strip_prefix("EXPECT: ") {
            // The tool's files hold a pair whose TEST line is blank: its EXPECT opens it.
            if current.is_none() {
                current = Some(Open::new(line, ""));
            }
            let Some(pair) = current.as_mut().filter(|c| c.expected.is_none()) else {
                return Err(err(line, "a second EXPECT in one pair"));
            };
            pair.expected = Some(match expect.trim() {
                "Match" => Some(Decision::Match),
                "Possible Match" => Some(Decision::Possible),
                "Not a Match" => Some(Decision::NoMatch),
                "Not Sure" => None,
                other => return Err(err(line, &format!("unknown EXPECT `{other}`"))),
            });
        } else if let Some(fields) = raw.strip_prefix("PATIENT A: ") {
            let Some(pair) = current
                .as_mut()
                .filter(|c| c.expected.is_some() && c.a.is_none())
            else {
                return Err(err(line, "PATIENT A outside a pair or before EXPECT"));
            };
            pair.a = Some(record_from_fields(fields, ssn_key));
        } else if let Some(fields) = raw.strip_prefix("PATIENT B: ") {
            let Some(Open {
                line: start,
                test,
                expected: Some(expected),
                a: Some(a),
            }) = current.take()
            else {
                return Err(err(line, "PATIENT B before PATIENT A"));
            };
            let scenario = match test.split(':').nth(1) {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => "(no scenario)".to_owned(),
            };
            pairs.push(LabelledPair {
                test,
                scenario,
                expected,
                a,
                b: record_from_fields(fields, ssn_key),
                line: start,
            });
        } else {
            return Err(err(line, "not a TEST, EXPECT or PATIENT line"));
        }
    }
    if let Some(Open { line, .. }) = current {
        return Err(err(line, "pair without PATIENT B"));
    }
    Ok(pairs)
}

/// A record from the tool's `key=value,` fields (keys in the file's README; unknown keys and
/// empty values ignored, an unreadable birth date treated as absent: the tool's poor-quality
/// records contain such data on purpose).
pub fn record_from_fields(fields: &str, ssn_key: &SsnKey) -> PersonRecord {
    let mut r = PersonRecord::default();
    let mut alias = PersonName::default();
    let mut guardian = PersonName::default();
    let mut address = Address::default();
    let owned = |v: &str| Some(v.to_owned());
    for field in fields.split(',') {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "nameFirst" => r.name.given = owned(value),
            "nameMiddle" => r.name.middle = owned(value),
            "nameLast" => r.name.family = owned(value),
            "nameSuffix" => r.name.suffix = owned(value),
            // The tool's second family name (the other half of a hyphenated one).
            "nameLastHyph" => alias.family = owned(value),
            "nameAlias" => alias.given = owned(value),
            "birthDate" => r.birth_date = NaiveDate::parse_from_str(value, "%Y%m%d").ok(),
            "gender" => r.gender = Gender::from_code(value),
            "birthType" => r.multiple_birth.count = value.parse().ok(),
            "birthOrder" => r.multiple_birth.order = value.parse().ok(),
            "birthStatus" => {
                r.multiple_birth.multiple = match value {
                    "Y" => Some(true),
                    "N" => Some(false),
                    _ => None,
                }
            }
            "motherMaidenName" => r.mother_maiden_name = owned(value),
            "guardianNameFirst" => guardian.given = owned(value),
            "guardianNameLast" => guardian.family = owned(value),
            "addressStreet1" => address.street = owned(value),
            "addressStreet2" => address.street2 = owned(value),
            "addressCity" => address.city = owned(value),
            "addressState" => address.state = owned(value),
            "addressZip" => address.zip = owned(value),
            "phone" => r.phones.push(value.to_owned()),
            "ssn" => r.identifiers.extend(ssn_key.identifier(value)),
            "medicaid" => r.identifiers.push(Identifier {
                kind: IdentifierKind::Medicaid,
                authority: "medicaid".into(),
                value: value.to_owned(),
            }),
            "mrns" => {
                for mrn in value.split([' ', ';', '~']).filter(|m| !m.is_empty()) {
                    let (authority, id) = mrn.split_once('-').unwrap_or(("", mrn));
                    r.identifiers.push(Identifier {
                        kind: IdentifierKind::Mrn,
                        authority: authority.to_owned(),
                        value: id.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    if alias != PersonName::default() {
        r.aliases.push(alias);
    }
    if guardian != PersonName::default() {
        r.guardians.push(guardian);
    }
    if address != Address::default() {
        r.addresses.push(address);
    }
    r
}
