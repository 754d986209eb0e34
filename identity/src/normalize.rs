//! Normalization: the forms fields are compared and indexed in. Submitters differ in case,
//! accents (`José`/`Jose`), punctuation (`O'Brien`, a stray `;` typed for `l`), spacing and
//! compound family names (`Otterstrom-Washington`, `Del Norte`); all of that is noise to a
//! comparison, so every comparator and every blocking key starts from these forms.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Transliterates to ASCII (`deunicode`: `José` → `Jose`, `Øberg` → `Oberg`, `ß` → `ss`), lower
/// case, every run of characters other than letters and digits turned into one space.
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut out = String::with_capacity(ascii.len());
    let mut space = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c.to_ascii_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// A name's letters only, folded: `O'Brien` → `obrien`, `Zoi;a` → `zoia`, `Del Norte` →
/// `delnorte`. `None` when nothing is left.
pub fn name_key(text: &str) -> Option<String> {
    let key: String = fold(text)
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    (!key.is_empty()).then_some(key)
}

/// The parts of a family name: `Otterstrom-Washington` → `[otterstrom, washington]`,
/// `Saint Joseph` → `[saint, joseph]`. One-letter fragments (typing noise) are dropped.
pub fn name_parts(text: &str) -> Vec<String> {
    fold(text)
        .split(' ')
        .map(|p| {
            p.chars()
                .filter(|c| c.is_ascii_alphabetic())
                .collect::<String>()
        })
        .filter(|p| p.len() > 1)
        .collect()
}

/// Only the digits of a value (phones, identifiers): `(231) 512-9048` → `2315129048`.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// An identifier value as compared: letters and digits, upper case.
pub fn identifier_value(text: &str) -> Option<String> {
    let v: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!v.is_empty()).then_some(v)
}

/// A street line in one spelling: folded, common USPS suffix and direction abbreviations
/// expanded to their abbreviation (`Street` → `st`, `North` → `n`).
pub fn street(text: &str) -> Option<String> {
    let folded = fold(text);
    let words: Vec<&str> = folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "street" => "st",
            "avenue" => "ave",
            "av" => "ave",
            "road" => "rd",
            "drive" => "dr",
            "lane" => "ln",
            "court" => "ct",
            "circle" => "cir",
            "boulevard" => "blvd",
            "place" => "pl",
            "terrace" => "ter",
            "highway" => "hwy",
            "parkway" => "pkwy",
            "north" => "n",
            "south" => "s",
            "east" => "e",
            "west" => "w",
            "apartment" | "apt" | "unit" | "suite" | "ste" => "#",
            w => w,
        })
        .collect();
    let joined = words.join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// The nickname table (`data/nicknames.txt`): each name to the formal names of its groups.
fn nickname_groups() -> &'static HashMap<String, Vec<String>> {
    static TABLE: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: HashMap<String, Vec<String>> = HashMap::new();
        for line in include_str!("../data/nicknames.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut names = line.split_whitespace();
            let Some(formal) = names.next() else { continue };
            for name in std::iter::once(formal).chain(names) {
                let groups = table.entry(name.to_owned()).or_default();
                if !groups.iter().any(|g| g == formal) {
                    groups.push(formal.to_owned());
                }
            }
        }
        table
    })
}

/// Whether two given-name keys (see [`name_key`]) name the same person by the nickname table:
/// `bill` and `william`, `liz` and `beth` (both `elizabeth`).
pub fn nickname_equivalent(a: &str, b: &str) -> bool {
    let table = nickname_groups();
    match (table.get(a), table.get(b)) {
        (Some(ga), Some(gb)) => ga.iter().any(|g| gb.contains(g)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_accents_and_punctuation() {
        assert_eq!(fold("  José  O'Brien-Núñez "), "jose o brien nunez");
        assert_eq!(name_key("O'Brien"), Some("obrien".into()));
        assert_eq!(name_key("Zoi;a"), Some("zoia".into()));
        assert_eq!(name_key(" ;- "), None);
        assert_eq!(name_key("Øberg"), Some("oberg".into()));
    }

    #[test]
    fn compound_family_names_split_into_parts() {
        assert_eq!(
            name_parts("Otterstrom-Washington"),
            vec!["otterstrom", "washington"]
        );
        assert_eq!(name_parts("Del Norte"), vec!["del", "norte"]);
    }

    #[test]
    fn streets_are_spelled_one_way() {
        assert_eq!(street("12 North Main Street"), Some("12 n main st".into()));
        assert_eq!(street("12 N. Main St"), Some("12 n main st".into()));
    }

    #[test]
    fn nicknames_join_through_their_formal_name() {
        assert!(nickname_equivalent("bill", "william"));
        assert!(nickname_equivalent("liz", "beth"));
        assert!(!nickname_equivalent("bill", "robert"));
        assert!(!nickname_equivalent("unknownname", "william"));
    }
}
