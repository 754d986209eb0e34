//! Typed views of the composite datatypes the CDC guide uses in the segments a registry reads.
//! Values are decoded; an absent component is an empty string.

use crate::er7::Repetition;

/// CE / CWE: a coded value (the triplet, plus the alternate triplet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coded {
    pub code: String,
    pub text: String,
    pub system: String,
    pub alt_code: String,
    pub alt_text: String,
    pub alt_system: String,
}

/// CX: an identifier with its assigning authority and type (PID-3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identifier {
    pub id: String,
    /// CX.4.1, namespace id of the assigning authority.
    pub authority: String,
    /// CX.5 (MR, SR, PI, MA…).
    pub type_code: String,
}

/// XPN: a person name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    pub family: String,
    pub given: String,
    pub middle: String,
    pub suffix: String,
    /// XPN.7 (L legal, A alias, M maiden…).
    pub type_code: String,
}

/// XAD: an address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub street: String,
    pub other: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    /// XAD.7 (L legal, M mailing, H home…).
    pub type_code: String,
}

/// XTN: a telephone number as the guide sends it (area code and local number in 6 and 7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Phone {
    pub use_code: String,
    pub equipment: String,
    pub email: String,
    pub area_code: String,
    pub number: String,
}

/// HD: a hierarchic designator (application or facility).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hd {
    pub namespace: String,
    pub universal_id: String,
    pub universal_id_type: String,
}

fn s(r: &Repetition, n: usize) -> String {
    r.get(n).to_owned()
}

impl From<&Repetition> for Coded {
    fn from(r: &Repetition) -> Self {
        Coded {
            code: s(r, 1),
            text: s(r, 2),
            system: s(r, 3),
            alt_code: s(r, 4),
            alt_text: s(r, 5),
            alt_system: s(r, 6),
        }
    }
}

impl From<&Repetition> for Identifier {
    fn from(r: &Repetition) -> Self {
        Identifier {
            id: s(r, 1),
            authority: s(r, 4),
            type_code: s(r, 5),
        }
    }
}

impl From<&Repetition> for Name {
    fn from(r: &Repetition) -> Self {
        Name {
            family: s(r, 1),
            given: s(r, 2),
            middle: s(r, 3),
            suffix: s(r, 4),
            type_code: s(r, 7),
        }
    }
}

impl From<&Repetition> for Address {
    fn from(r: &Repetition) -> Self {
        Address {
            street: s(r, 1),
            other: s(r, 2),
            city: s(r, 3),
            state: s(r, 4),
            zip: s(r, 5),
            country: s(r, 6),
            type_code: s(r, 7),
        }
    }
}

impl From<&Repetition> for Phone {
    fn from(r: &Repetition) -> Self {
        Phone {
            use_code: s(r, 2),
            equipment: s(r, 3),
            email: s(r, 4),
            area_code: s(r, 6),
            number: s(r, 7),
        }
    }
}

impl From<&Repetition> for Hd {
    fn from(r: &Repetition) -> Self {
        Hd {
            namespace: s(r, 1),
            universal_id: s(r, 2),
            universal_id_type: s(r, 3),
        }
    }
}

impl Coded {
    /// Written back as a repetition (CE order of components).
    pub fn to_repetition(&self) -> Repetition {
        Repetition::from_values(&[
            &self.code,
            &self.text,
            &self.system,
            &self.alt_code,
            &self.alt_text,
            &self.alt_system,
        ])
    }
    pub fn new(code: &str, text: &str, system: &str) -> Self {
        Coded {
            code: code.into(),
            text: text.into(),
            system: system.into(),
            ..Coded::default()
        }
    }
}
