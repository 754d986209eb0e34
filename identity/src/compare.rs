//! Field comparators: each turns a pair of normalized fields into an agreement level, the
//! categories whose m- and u-probabilities the Fellegi–Sunter model weighs. Levels grade the
//! kinds of disagreement registries see between two records of one child (a typo, a nickname,
//! a first name entered as the middle one, a day and month swapped) so that each can carry its
//! own weight instead of counting as a plain disagreement.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use strsim::{jaro_winkler, osa_distance};

use crate::prepared::{NameForms, PreparedRecord};
use crate::record::IdentifierKind;

/// Jaro–Winkler similarity from which two names count as one name mistyped. Chosen on the
/// development files: typo pairs score 0.90–0.98, different names with the same first letter
/// mostly under 0.85.
pub const NAME_SIMILARITY: f64 = 0.9;

/// A compared field. Each has ordered agreement levels, 0 the strongest agreement and the
/// last a plain disagreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Field {
    GivenName,
    MiddleName,
    FamilyName,
    BirthDate,
    Gender,
    MotherMaidenName,
    GuardianGivenName,
    GuardianFamilyName,
    Address,
    Phone,
    SsnHash,
    Medicaid,
    Mrn,
}

impl Field {
    /// Every field, in comparison-vector order.
    pub const ALL: [Field; 13] = [
        Field::GivenName,
        Field::MiddleName,
        Field::FamilyName,
        Field::BirthDate,
        Field::Gender,
        Field::MotherMaidenName,
        Field::GuardianGivenName,
        Field::GuardianFamilyName,
        Field::Address,
        Field::Phone,
        Field::SsnHash,
        Field::Medicaid,
        Field::Mrn,
    ];

    /// Position in a [`Comparison`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The field's levels, strongest agreement first.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::GivenName => &[
                "exact or nickname",
                "swapped with middle",
                "similar",
                "initial",
                "different",
            ],
            Field::MiddleName => &["exact", "initial", "similar", "different"],
            Field::FamilyName => &["exact", "part or alias", "similar", "different"],
            Field::BirthDate => &["exact", "transposed", "one off", "different"],
            Field::Gender => &["same", "different"],
            Field::MotherMaidenName | Field::GuardianGivenName | Field::GuardianFamilyName => {
                &["exact", "similar", "different"]
            }
            Field::Address => &[
                "street and place",
                "street misspelt, same place",
                "street, other place",
                "place only",
                "different",
            ],
            Field::Phone => &["exact", "same local number", "different"],
            Field::SsnHash | Field::Mrn => &["same", "different"],
            Field::Medicaid => &["same", "one typo", "different"],
        }
    }

    /// A short name for tables and configuration.
    pub fn name(self) -> &'static str {
        match self {
            Field::GivenName => "given",
            Field::MiddleName => "middle",
            Field::FamilyName => "family",
            Field::BirthDate => "birth_date",
            Field::Gender => "gender",
            Field::MotherMaidenName => "mother_maiden",
            Field::GuardianGivenName => "guardian_given",
            Field::GuardianFamilyName => "guardian_family",
            Field::Address => "address",
            Field::Phone => "phone",
            Field::SsnHash => "ssn_hash",
            Field::Medicaid => "medicaid",
            Field::Mrn => "mrn",
        }
    }
}

/// Agreement levels of one pair, `None` where either side is silent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Comparison(pub [Option<u8>; Field::ALL.len()]);

impl Comparison {
    /// The level of one field.
    pub fn level(&self, field: Field) -> Option<u8> {
        self.0[field.index()]
    }
}

/// Compares two prepared records field by field.
pub fn compare(a: &PreparedRecord, b: &PreparedRecord) -> Comparison {
    let mut c = [None; Field::ALL.len()];
    c[Field::GivenName.index()] = given(&a.name, &b.name);
    c[Field::MiddleName.index()] = middle(&a.name, &b.name);
    c[Field::FamilyName.index()] = family(a, b);
    c[Field::BirthDate.index()] = birth_date(a, b);
    c[Field::Gender.index()] = match (a.gender, b.gender) {
        (Some(x), Some(y)) => Some(u8::from(x != y)),
        _ => None,
    };
    c[Field::MotherMaidenName.index()] =
        best_name(a.mother_maiden.as_slice(), b.mother_maiden.as_slice());
    c[Field::GuardianGivenName.index()] = best_name(&a.guardian_given, &b.guardian_given);
    c[Field::GuardianFamilyName.index()] = best_name(&a.guardian_family, &b.guardian_family);
    c[Field::Address.index()] = address(a, b);
    c[Field::Phone.index()] = phone(a, b);
    c[Field::SsnHash.index()] = identifier(a, b, IdentifierKind::SsnHash, false);
    c[Field::Medicaid.index()] = identifier(a, b, IdentifierKind::Medicaid, true);
    c[Field::Mrn.index()] = identifier(a, b, IdentifierKind::Mrn, false);
    Comparison(c)
}

/// Whether two name keys are one name mistyped or spelled another way.
pub(crate) fn similar(a: &str, b: &str) -> bool {
    if a.len() < 2 || b.len() < 2 {
        return false;
    }
    jaro_winkler(a, b) >= NAME_SIMILARITY
        || (a.len() >= 4 && b.len() >= 4 && osa_distance(a, b) <= 1)
}

fn given(a: &NameForms, b: &NameForms) -> Option<u8> {
    let (x, y) = (a.given.as_deref(), b.given.as_deref());
    // A first name entered as the middle one (or the reverse) is the swap level, and it is
    // checked even when one side has no first name at all.
    let swapped = |first: Option<&str>, middle: Option<&str>| match (first, middle) {
        (Some(f), Some(m)) => f.len() > 1 && m.len() > 1 && (f == m || similar(f, m)),
        _ => false,
    };
    match (x, y) {
        (Some(x), Some(y)) => Some(if x == y || crate::normalize::nickname_equivalent(x, y) {
            0
        } else if swapped(Some(x), b.middle.as_deref()) || swapped(Some(y), a.middle.as_deref()) {
            1
        } else if similar(x, y) {
            2
        } else if (x.len() == 1 || y.len() == 1) && x.as_bytes().first() == y.as_bytes().first() {
            3
        } else {
            4
        }),
        (Some(x), None) if swapped(Some(x), b.middle.as_deref()) => Some(1),
        (None, Some(y)) if swapped(Some(y), a.middle.as_deref()) => Some(1),
        _ => None,
    }
}

fn middle(a: &NameForms, b: &NameForms) -> Option<u8> {
    let (x, y) = (a.middle.as_deref()?, b.middle.as_deref()?);
    // A middle name that is the other record's first name is the given-name swap, weighed there.
    if a.given.as_deref() == Some(y) || b.given.as_deref() == Some(x) {
        return None;
    }
    Some(if x == y {
        0
    } else if (x.len() == 1 || y.len() == 1) && x.as_bytes().first() == y.as_bytes().first() {
        1
    } else if similar(x, y) {
        2
    } else {
        3
    })
}

fn family(a: &PreparedRecord, b: &PreparedRecord) -> Option<u8> {
    let (x, y) = (a.name.family.as_deref()?, b.name.family.as_deref()?);
    if x == y {
        return Some(0);
    }
    // One half of a compound name, or a name the other record lists as an alias.
    let shares_part = a.name.family_parts.len() + b.name.family_parts.len() > 2
        && a.name
            .family_parts
            .iter()
            .any(|p| p.len() > 2 && b.name.family_parts.contains(p));
    let alias = a.other_families.iter().any(|f| f == y) || b.other_families.iter().any(|f| f == x);
    Some(if shares_part || alias {
        1
    } else if similar(x, y) {
        2
    } else {
        3
    })
}

fn birth_date(a: &PreparedRecord, b: &PreparedRecord) -> Option<u8> {
    let (x, y) = (a.birth_date?, b.birth_date?);
    if x == y {
        return Some(0);
    }
    let swapped = x.year() == y.year() && x.month() == y.day() && x.day() == y.month();
    let (dx, dy) = (a.birth_digits()?, b.birth_digits()?);
    let differing: Vec<usize> = (0..8).filter(|&i| dx[i] != dy[i]).collect();
    let adjacent_transposition = differing.len() == 2
        && differing[1] == differing[0] + 1
        && dx[differing[0]] == dy[differing[1]]
        && dx[differing[1]] == dy[differing[0]];
    if swapped || adjacent_transposition {
        return Some(1);
    }
    let one_day = (x - y).num_days().abs() == 1;
    Some(if one_day || differing.len() == 1 {
        2
    } else {
        3
    })
}

/// The best level over every pairing of two name lists (exact, similar, different).
fn best_name(xs: &[String], ys: &[String]) -> Option<u8> {
    let mut best: Option<u8> = None;
    for x in xs {
        for y in ys {
            let level = if x == y {
                0
            } else if similar(x, y) {
                1
            } else {
                2
            };
            best = Some(best.map_or(level, |b| b.min(level)));
        }
    }
    best
}

fn address(a: &PreparedRecord, b: &PreparedRecord) -> Option<u8> {
    let mut best: Option<u8> = None;
    for x in &a.addresses {
        for y in &b.addresses {
            // Street: 0 the same, 1 one typo or close spelling apart, 2 different.
            let street = match (&x.street, &y.street) {
                (Some(s), Some(t)) if s == t => Some(0),
                (Some(s), Some(t)) if jaro_winkler(s, t) >= 0.92 || osa_distance(s, t) <= 1 => {
                    Some(1)
                }
                (Some(_), Some(_)) => Some(2),
                _ => None,
            };
            let same_place = match (&x.zip, &y.zip, &x.city, &y.city) {
                (Some(z), Some(w), _, _) if z == w => Some(true),
                (_, _, Some(c), Some(d)) => Some(c == d),
                (Some(_), Some(_), _, _) => Some(false),
                _ => None,
            };
            let level = match (street, same_place) {
                (Some(0), Some(true)) | (Some(0), None) => 0,
                (Some(1), Some(true)) | (Some(1), None) => 1,
                (Some(0 | 1), Some(false)) => 2,
                (_, Some(true)) => 3,
                (None, None) => continue,
                _ => 4,
            };
            best = Some(best.map_or(level, |b| b.min(level)));
        }
    }
    best
}

fn phone(a: &PreparedRecord, b: &PreparedRecord) -> Option<u8> {
    let mut best: Option<u8> = None;
    for x in &a.phones {
        for y in &b.phones {
            let local = |p: &str| p[p.len().saturating_sub(7)..].to_owned();
            let level = if x == y {
                0
            } else if local(x) == local(y) {
                1
            } else {
                2
            };
            best = Some(best.map_or(level, |b| b.min(level)));
        }
    }
    best
}

/// Identifiers of one kind from one authority: same, (optionally) one typo apart, different.
fn identifier(
    a: &PreparedRecord,
    b: &PreparedRecord,
    kind: IdentifierKind,
    typo_level: bool,
) -> Option<u8> {
    let mut best: Option<u8> = None;
    for x in a.identifiers.iter().filter(|i| i.kind == kind) {
        for y in b
            .identifiers
            .iter()
            .filter(|i| i.kind == kind && i.authority == x.authority)
        {
            let level = if x.value == y.value {
                0
            } else if typo_level && osa_distance(&x.value, &y.value) <= 1 {
                1
            } else if typo_level {
                2
            } else {
                1
            };
            best = Some(best.map_or(level, |b| b.min(level)));
        }
    }
    best
}
