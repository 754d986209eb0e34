//! The bridge between stored persons and the matching engine (`identity`): a stored person's
//! rows as the engine's [`identity::PersonRecord`], and the blocking keys stored for them.
//!
//! Pure: the repositories load the rows and write the keys (`repo::resolve`), the seed computes
//! the keys of the persons it generates with the same function, so every person in the
//! database can be found by a candidate search whichever path wrote them.

use identity::{Address, Identifier, MultipleBirth, PersonName, PersonRecord};
use sea_orm::sea_query::Condition;
use sea_orm::ColumnTrait;

use crate::codes::{Gender, IdentifierKind, PersonStatus};
use crate::model::{
    person, person_address, person_blocking_key, person_identifier, person_name, person_phone,
};

/// The longest blocking key the `person_blocking_keys` table holds; a longer one (an
/// identifier of absurd length) is not indexed.
pub(crate) const MAX_KEY_CHARS: usize = 255;

/// The persons population jobs (reminder/recall, coverage, rosters of who is due) consider:
/// `ACTIVE` status and not merged into another person. Inactive, moved and deceased persons
/// keep their records but are left out.
pub fn population_condition() -> Condition {
    Condition::all()
        .add(person::Column::Status.eq(PersonStatus::Active))
        .add(person::Column::MergedInto.is_null())
}

/// A stored person with the identity rows that matching reads.
#[derive(Debug, Clone, Default)]
pub struct StoredIdentity {
    pub identifiers: Vec<person_identifier::Model>,
    pub names: Vec<person_name::Model>,
    pub addresses: Vec<person_address::Model>,
    pub phones: Vec<person_phone::Model>,
    /// Names of the person's guardians (given, family), as recorded on their own records.
    pub guardians: Vec<(String, String)>,
}

pub(crate) fn engine_gender(g: Gender) -> identity::Gender {
    match g {
        Gender::Female => identity::Gender::Female,
        Gender::Male => identity::Gender::Male,
        Gender::Nonbinary => identity::Gender::Other,
        Gender::Unknown => identity::Gender::Unknown,
    }
}

pub(crate) fn engine_kind(k: IdentifierKind) -> identity::IdentifierKind {
    match k {
        IdentifierKind::Mrn => identity::IdentifierKind::Mrn,
        IdentifierKind::Medicaid => identity::IdentifierKind::Medicaid,
        IdentifierKind::SsnHash => identity::IdentifierKind::SsnHash,
        IdentifierKind::Other => identity::IdentifierKind::Other,
    }
}

fn address_of(
    line1: Option<&str>,
    line2: Option<&str>,
    city: Option<&str>,
    state: Option<&str>,
    zip: Option<&str>,
) -> Option<Address> {
    let a = Address {
        street: line1.map(str::to_owned),
        street2: line2.map(str::to_owned),
        city: city.map(str::to_owned),
        state: state.map(str::to_owned),
        zip: zip.map(str::to_owned),
    };
    (a.street.is_some() || a.city.is_some() || a.zip.is_some()).then_some(a)
}

/// The engine's view of a stored person: the current name and contact first, then every
/// alias, previous name, address and phone reported before.
pub fn record_of(p: &person::Model, extra: &StoredIdentity) -> PersonRecord {
    let mut addresses: Vec<Address> = address_of(
        p.address_line1.as_deref(),
        p.address_line2.as_deref(),
        p.city.as_deref(),
        p.state.as_deref(),
        p.postal_code.as_deref(),
    )
    .into_iter()
    .collect();
    for a in &extra.addresses {
        if let Some(a) = address_of(
            a.address_line1.as_deref(),
            a.address_line2.as_deref(),
            a.city.as_deref(),
            a.state.as_deref(),
            a.postal_code.as_deref(),
        ) {
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
    }
    let mut phones: Vec<String> = p.phone.iter().cloned().collect();
    for ph in &extra.phones {
        if !phones.contains(&ph.number) {
            phones.push(ph.number.clone());
        }
    }
    PersonRecord {
        name: PersonName {
            given: Some(p.first_name.clone()),
            middle: p.middle_name.clone(),
            family: Some(p.last_name.clone()),
            suffix: None,
        },
        aliases: extra
            .names
            .iter()
            .map(|n| PersonName {
                given: n.first_name.clone(),
                middle: n.middle_name.clone(),
                family: n.last_name.clone(),
                suffix: n.suffix.clone(),
            })
            .collect(),
        birth_date: Some(p.date_of_birth),
        gender: engine_gender(p.gender),
        multiple_birth: MultipleBirth {
            multiple: p.multiple_birth,
            count: None,
            order: p.birth_order.and_then(|o| u8::try_from(o).ok()),
        },
        mother_maiden_name: p.mother_maiden_name.clone(),
        guardians: extra
            .guardians
            .iter()
            .map(|(g, f)| PersonName {
                given: Some(g.clone()),
                family: Some(f.clone()),
                ..PersonName::default()
            })
            .collect(),
        addresses,
        phones,
        identifiers: extra
            .identifiers
            .iter()
            .map(|i| Identifier {
                kind: engine_kind(i.kind),
                authority: i.authority.clone(),
                value: i.value.clone(),
            })
            .collect(),
    }
}

/// The keys to store for a record: its own blocking keys, and those it would have under each
/// alias or previous name (a child submitted under a former family name is still found),
/// sorted and deduplicated.
pub fn stored_keys(record: &PersonRecord) -> Vec<String> {
    let mut keys: Vec<String> = identity::blocking_keys(record)
        .into_iter()
        .map(|k| k.0)
        .collect();
    for alias in &record.aliases {
        let mut variant = PersonRecord {
            name: alias.clone(),
            birth_date: record.birth_date,
            ..PersonRecord::default()
        };
        if variant.name.given.is_none() {
            variant.name.given = record.name.given.clone();
        }
        if variant.name.family.is_none() {
            variant.name.family = record.name.family.clone();
        }
        keys.extend(identity::blocking_keys(&variant).into_iter().map(|k| k.0));
    }
    keys.retain(|k| k.chars().count() <= MAX_KEY_CHARS);
    keys.sort();
    keys.dedup();
    keys
}

/// The key rows of a person whose identity is the `persons` row alone (a seeded person).
pub(crate) fn key_rows_of(p: &person::Model) -> Vec<person_blocking_key::Model> {
    stored_keys(&record_of(p, &StoredIdentity::default()))
        .into_iter()
        .map(|key| person_blocking_key::Model {
            key,
            person_id: p.id,
        })
        .collect()
}
