//! Blocking keys: the short strings under which the store indexes each person, so that a
//! candidate search is one indexed lookup (`WHERE key IN (…)`) instead of a comparison with
//! every person. A pair is scored only if the two records share a key, so the keys are chosen
//! so that the errors the comparators forgive still leave one key in common: a misspelt name
//! keeps the birth date, a mistyped or transposed birth date keeps the phonetic name, a changed
//! name keeps the identifiers and the birth date.

use chrono::Datelike;
use rphonetic::{DoubleMetaphone, Encoder, Nysiis};
use serde::{Deserialize, Serialize};

use crate::normalize::name_key;
use crate::prepared::PreparedRecord;
use crate::record::{IdentifierKind, PersonRecord};

/// One index key. The text is opaque to the store; its prefix names the rule that made it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlockingKey(pub String);

/// The keys of a record, deduplicated and sorted. Store them for every person; look up a
/// submission's keys to find its candidates.
///
/// - `b:` birth date + first letter of the family name (`b:20110701:m`) and birth date + the
///   given name's Double Metaphone code, so a new family name still finds the child;
/// - `t:` birth year + the day and month in either order + family NYSIIS code, for day/month
///   swaps and one-digit date typos (which rarely touch the year);
/// - `n:` Double Metaphone of given and family names + birth year, for a date mistyped;
/// - `i:` each identifier (kind, authority, value) and each SSN hash.
pub fn blocking_keys(record: &PersonRecord) -> Vec<BlockingKey> {
    keys_of(&PreparedRecord::new(record), record)
}

fn keys_of(p: &PreparedRecord, record: &PersonRecord) -> Vec<BlockingKey> {
    let metaphone = DoubleMetaphone::default();
    let nysiis = Nysiis::default();
    let family_raw = record.name.family.as_deref().and_then(name_key);
    let given = p.name.given.as_deref();
    let dm = |s: &str| -> String {
        // Codes are of letters-only ASCII input: the encoders see nothing else.
        let code = metaphone.encode(s);
        if code.is_empty() {
            s.chars().take(4).collect()
        } else {
            code
        }
    };
    let mut keys: Vec<String> = Vec::new();
    let family_initial = family_raw.as_deref().and_then(|f| f.chars().next());
    if let Some(date) = p.birth_date {
        let ymd = format!("{:04}{:02}{:02}", date.year(), date.month(), date.day());
        if let Some(initial) = family_initial {
            keys.push(format!("b:{ymd}:{initial}"));
        }
        if let Some(g) = given {
            keys.push(format!("b:{ymd}:g:{}", dm(g)));
        }
        if let Some(f) = family_raw.as_deref() {
            let (lo, hi) = if date.month() <= date.day() {
                (date.month(), date.day())
            } else {
                (date.day(), date.month())
            };
            keys.push(format!(
                "t:{:04}:{lo:02}{hi:02}:{}",
                date.year(),
                nysiis.encode(f)
            ));
        }
    }
    if let (Some(g), Some(f)) = (given, family_raw.as_deref()) {
        let year = p
            .birth_date
            .map(|d| d.year().to_string())
            .unwrap_or_default();
        keys.push(format!("n:{}:{}:{year}", dm(g), dm(f)));
    }
    for id in &p.identifiers {
        let kind = match id.kind {
            IdentifierKind::Mrn => "mrn",
            IdentifierKind::Medicaid => "mcd",
            IdentifierKind::SsnHash => "ssn",
            IdentifierKind::Other => "oth",
        };
        keys.push(format!("i:{kind}:{}:{}", id.authority, id.value));
    }
    keys.sort();
    keys.dedup();
    keys.into_iter().map(BlockingKey).collect()
}

/// Whether two records share a blocking key (would meet in a candidate search).
pub fn share_key(a: &PersonRecord, b: &PersonRecord) -> bool {
    let ka = blocking_keys(a);
    blocking_keys(b).iter().any(|k| ka.binary_search(k).is_ok())
}
