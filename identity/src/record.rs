//! The typed record the engine matches: what a submission (HL7 PID, a birth file line, a
//! `createPerson` input) says about a person. Every field is optional except that a record is
//! a record: matching weighs what both sides state and ignores what either leaves out, so an
//! absent field is never a disagreement.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A person's name as submitted; parts kept apart because registries compare them apart (a first
/// name entered as the middle one, a hyphenated family name shortened to one half).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub given: Option<String>,
    pub middle: Option<String>,
    pub family: Option<String>,
    pub suffix: Option<String>,
}

/// Administrative gender as registries exchange it (HL7 table 0001).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gender {
    Female,
    Male,
    Other,
    #[default]
    Unknown,
}

impl Gender {
    /// HL7 code (`F`, `M`, `O`/`X`, anything else unknown).
    pub fn from_code(code: &str) -> Self {
        match code.trim().to_ascii_uppercase().as_str() {
            "F" => Gender::Female,
            "M" => Gender::Male,
            "O" | "X" => Gender::Other,
            _ => Gender::Unknown,
        }
    }
}

/// Multiple-birth facts: twins and triplets share a birth date, a family name, a mother and an
/// address, which is exactly what a probabilistic score rewards; these facts are what keeps
/// them apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipleBirth {
    /// Whether the person was born in a multiple birth (PID-24), when stated.
    pub multiple: Option<bool>,
    /// How many children the birth produced (1 single, 2 twins, …), when stated.
    pub count: Option<u8>,
    /// The person's order in that birth (PID-25), when stated.
    pub order: Option<u8>,
}

impl MultipleBirth {
    /// Whether anything says this person is one of several born together.
    pub fn is_multiple(&self) -> bool {
        self.multiple == Some(true)
            || self.count.is_some_and(|c| c > 1)
            || self.order.is_some_and(|o| o > 1)
    }
}

/// A postal address; only what matching compares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
}

/// What kind of identifier a value is; kinds are compared only with their own kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IdentifierKind {
    /// A medical record number; its assigning authority is the organization that issued it.
    Mrn,
    /// A Medicaid member id; its assigning authority is the state program.
    Medicaid,
    /// A keyed hash of a Social Security number (see [`crate::SsnKey`]): the number itself is
    /// never held, logged or indexed.
    SsnHash,
    /// Any other identifier (a vital-records certificate number, a plan member id).
    Other,
}

/// An identifier from another system, with the authority that assigned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub kind: IdentifierKind,
    /// Who assigned the value (an organization id, a state code); identifiers from different
    /// authorities are never compared.
    pub authority: String,
    pub value: String,
}

/// One person as a submission describes them: the unit the engine normalizes, blocks and scores.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub name: PersonName,
    /// Other names the person has been known by (previous family names, the other half of a
    /// compound name, an alias).
    pub aliases: Vec<PersonName>,
    pub birth_date: Option<NaiveDate>,
    pub gender: Gender,
    pub multiple_birth: MultipleBirth,
    pub mother_maiden_name: Option<String>,
    /// Parents or guardians named on the record.
    pub guardians: Vec<PersonName>,
    pub addresses: Vec<Address>,
    /// Telephone numbers as submitted; only digits are compared.
    pub phones: Vec<String>,
    pub identifiers: Vec<Identifier>,
}
