//! A record in the normalized forms its comparators read, computed once per record rather than
//! once per pair (a candidate search scores one submission against many stored persons).

use chrono::{Datelike, NaiveDate};

use crate::normalize::{digits, fold, identifier_value, name_key, name_parts, street};
use crate::record::{Gender, IdentifierKind, MultipleBirth, PersonName, PersonRecord};

/// A name's comparable forms.
#[derive(Clone, Debug, Default)]
pub(crate) struct NameForms {
    pub given: Option<String>,
    pub middle: Option<String>,
    /// Family name, letters only (`delnorte`).
    pub family: Option<String>,
    /// Parts of the family name (`[del, norte]`).
    pub family_parts: Vec<String>,
}

impl NameForms {
    fn of(name: &PersonName) -> Self {
        let family = name.family.as_deref();
        Self {
            given: name.given.as_deref().and_then(name_key),
            middle: name.middle.as_deref().and_then(name_key),
            family: family.and_then(name_key),
            family_parts: family.map(name_parts).unwrap_or_default(),
        }
    }
}

/// An address's comparable forms.
#[derive(Clone, Debug, Default)]
pub(crate) struct AddressForms {
    pub street: Option<String>,
    pub city: Option<String>,
    /// First five digits of the ZIP code.
    pub zip: Option<String>,
}

/// An identifier's comparable form.
#[derive(Clone, Debug)]
pub(crate) struct IdentifierForm {
    pub kind: IdentifierKind,
    pub authority: String,
    pub value: String,
}

/// The normalized record.
#[derive(Clone, Debug, Default)]
pub struct PreparedRecord {
    pub(crate) name: NameForms,
    /// Family names the person has also been known by (aliases, previous names), letters only.
    pub(crate) other_families: Vec<String>,
    pub(crate) birth_date: Option<NaiveDate>,
    pub(crate) gender: Option<Gender>,
    pub(crate) multiple_birth: MultipleBirth,
    pub(crate) mother_maiden: Option<String>,
    pub(crate) guardian_given: Vec<String>,
    pub(crate) guardian_family: Vec<String>,
    pub(crate) addresses: Vec<AddressForms>,
    /// Ten-digit (or longer) phone numbers, digits only.
    pub(crate) phones: Vec<String>,
    pub(crate) identifiers: Vec<IdentifierForm>,
}

impl PreparedRecord {
    /// Normalizes every field of the record.
    pub fn new(record: &PersonRecord) -> Self {
        let name = NameForms::of(&record.name);
        let mut other_families: Vec<String> = Vec::new();
        for alias in &record.aliases {
            if let Some(f) = alias.family.as_deref().and_then(name_key) {
                if Some(&f) != name.family.as_ref() && !other_families.contains(&f) {
                    other_families.push(f);
                }
            }
        }
        let addresses = record
            .addresses
            .iter()
            .map(|a| AddressForms {
                street: a.street.as_deref().and_then(street),
                city: a.city.as_deref().map(fold).filter(|c| !c.is_empty()),
                zip: a
                    .zip
                    .as_deref()
                    .map(digits)
                    .filter(|z| z.len() >= 5)
                    .map(|z| z[..5].to_owned()),
            })
            .filter(|a| a.street.is_some() || a.city.is_some() || a.zip.is_some())
            .collect();
        let phones = record
            .phones
            .iter()
            .map(|p| digits(p))
            .map(|p| match p.strip_prefix('1') {
                Some(rest) if rest.len() == 10 => rest.to_owned(),
                _ => p,
            })
            .filter(|p| p.len() >= 7)
            .collect();
        let identifiers = record
            .identifiers
            .iter()
            .filter_map(|i| {
                Some(IdentifierForm {
                    kind: i.kind,
                    authority: fold(&i.authority),
                    value: identifier_value(&i.value)?,
                })
            })
            .collect();
        Self {
            name,
            other_families,
            birth_date: record.birth_date,
            gender: match record.gender {
                Gender::Unknown => None,
                g => Some(g),
            },
            multiple_birth: record.multiple_birth,
            mother_maiden: record.mother_maiden_name.as_deref().and_then(name_key),
            guardian_given: record
                .guardians
                .iter()
                .filter_map(|g| g.given.as_deref().and_then(name_key))
                .collect(),
            guardian_family: record
                .guardians
                .iter()
                .filter_map(|g| g.family.as_deref().and_then(name_key))
                .collect(),
            addresses,
            phones,
            identifiers,
        }
    }

    /// The birth date as `YYYYMMDD` digits, for digit-level comparisons.
    pub(crate) fn birth_digits(&self) -> Option<[u8; 8]> {
        let d = self.birth_date?;
        let text = format!("{:04}{:02}{:02}", d.year(), d.month(), d.day());
        let bytes = text.as_bytes();
        let mut out = [0u8; 8];
        if bytes.len() != 8 {
            return None;
        }
        out.copy_from_slice(bytes);
        Some(out)
    }
}
