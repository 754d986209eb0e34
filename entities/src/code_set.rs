//! The CVX vaccine code set, shipped as `data/cvx-codes.csv`.
//!
//! It is read-only reference data used on every dose write (validation, duplicate detection),
//! so it is held in memory once rather than queried.

use std::collections::HashMap;

const EMBEDDED: &str = include_str!("../data/cvx-codes.csv");

/// One CVX code and the vaccine groups it counts toward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vaccine {
    pub cvx: String,
    pub name: String,
    pub vaccine_groups: Vec<String>,
    /// An "unspecified formulation" code: what a report says when it does not know which
    /// product of its group was given.
    pub unspecified: bool,
}

/// How a dose submitted for a date relates to one already recorded on that date
/// (`shared/spec/access-policy.md`, Writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameDay {
    /// The same vaccine: the same CVX, or an unspecified code of a group against a specific
    /// code covering that group. `keep_new`: the new code is the specific one and replaces
    /// the recorded one.
    Duplicate {
        keep_new: bool,
    },
    /// Some antigens shared, not all: both doses are kept and flagged for data quality.
    SharesAntigens,
    Unrelated,
}

#[derive(Debug, thiserror::Error)]
pub enum CodeSetError {
    #[error("cvx-codes.csv line {line}: {message}")]
    Malformed { line: usize, message: String },
    #[error("cvx-codes.csv: {0}")]
    Csv(#[from] csv::Error),
}

/// The code set, in file order, indexed by CVX.
#[derive(Debug, Clone)]
pub struct CodeSet {
    vaccines: Vec<Vaccine>,
    by_cvx: HashMap<String, usize>,
}

impl CodeSet {
    /// The code set shipped with this build.
    pub fn embedded() -> Result<CodeSet, CodeSetError> {
        Self::parse(EMBEDDED)
    }

    /// Parses `cvx,name,vaccine_groups` rows (groups separated by `;`).
    pub fn parse(text: &str) -> Result<CodeSet, CodeSetError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut vaccines = Vec::new();
        let mut by_cvx = HashMap::new();
        for (i, row) in reader.records().enumerate() {
            let row = row?;
            let line = i + 2;
            let malformed = |message: &str| CodeSetError::Malformed {
                line,
                message: message.to_owned(),
            };
            let cvx = row.get(0).map(str::trim).unwrap_or_default();
            let name = row.get(1).map(str::trim).unwrap_or_default();
            let groups: Vec<String> = row
                .get(2)
                .unwrap_or_default()
                .split(';')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect();
            if cvx.is_empty() || !cvx.chars().all(|c| c.is_ascii_digit()) {
                return Err(malformed("CVX must be digits"));
            }
            if name.is_empty() {
                return Err(malformed("name is blank"));
            }
            if groups.is_empty() {
                return Err(malformed("no vaccine group"));
            }
            if by_cvx.insert(cvx.to_owned(), vaccines.len()).is_some() {
                return Err(malformed("duplicate CVX"));
            }
            // CDC names these "…, unspecified formulation" (or "…, unspecified"); "Lf
            // unspecified" is a specific Td product whose flocculation units are not stated.
            let lower = name.to_lowercase();
            let unspecified = lower.contains("unspecified") && !lower.contains("lf unspecified");
            vaccines.push(Vaccine {
                cvx: cvx.to_owned(),
                name: name.to_owned(),
                vaccine_groups: groups,
                unspecified,
            });
        }
        Ok(CodeSet { vaccines, by_cvx })
    }

    pub fn get(&self, cvx: &str) -> Option<&Vaccine> {
        self.by_cvx.get(cvx).map(|&i| &self.vaccines[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Vaccine> {
        self.vaccines.iter()
    }

    pub fn len(&self) -> usize {
        self.vaccines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vaccines.is_empty()
    }

    /// Whether two CVX codes share a vaccine group.
    pub fn share_a_group(&self, a: &str, b: &str) -> bool {
        match (self.get(a), self.get(b)) {
            (Some(a), Some(b)) => a
                .vaccine_groups
                .iter()
                .any(|g| b.vaccine_groups.contains(g)),
            _ => a == b,
        }
    }

    /// How a dose of `new` relates to a dose of `existing` given on the same date. Sharing a
    /// group is not enough to be a duplicate: DTaP-HepB-IPV and HepB on one day are two doses,
    /// and merging them would lose the DTaP and polio antigens. An unspecified code is a
    /// duplicate of a specific one only when the specific one covers every group it names, so
    /// keeping the specific one loses nothing.
    pub fn same_day(&self, existing: &str, new: &str) -> SameDay {
        if existing == new {
            return SameDay::Duplicate { keep_new: false };
        }
        let (Some(e), Some(n)) = (self.get(existing), self.get(new)) else {
            return SameDay::Unrelated;
        };
        let covers = |a: &Vaccine, b: &Vaccine| {
            b.vaccine_groups
                .iter()
                .all(|g| a.vaccine_groups.contains(g))
        };
        if !self.share_a_group(existing, new) {
            SameDay::Unrelated
        } else if e.unspecified && !n.unspecified && covers(n, e) {
            SameDay::Duplicate { keep_new: true }
        } else if n.unspecified && covers(e, n) {
            SameDay::Duplicate { keep_new: false }
        } else {
            SameDay::SharesAntigens
        }
    }

    /// Whether `group` is the name of a vaccine group of the code set.
    pub fn has_group(&self, group: &str) -> bool {
        self.vaccines
            .iter()
            .any(|v| v.vaccine_groups.iter().any(|g| g == group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_code_set_covers_the_childhood_schedule() {
        let codes = CodeSet::embedded().expect("embedded code set parses");
        assert!(codes.len() >= 60);
        for (cvx, group) in [
            ("20", "DTaP/Tdap/Td"),
            ("10", "Polio"),
            ("03", "MMR"),
            ("21", "Varicella"),
            ("08", "HepB"),
            ("83", "HepA"),
            ("49", "Hib"),
            ("133", "Pneumococcal"),
            ("116", "Rotavirus"),
            ("115", "DTaP/Tdap/Td"),
            ("114", "Meningococcal"),
            ("165", "HPV"),
            ("187", "Zoster"),
        ] {
            let v = codes.get(cvx).expect(cvx);
            assert!(v.vaccine_groups.iter().any(|g| g == group), "{cvx}");
        }
        let mmrv = codes.get("94").expect("MMRV");
        assert_eq!(mmrv.vaccine_groups, ["MMR", "Varicella"]);
    }

    #[test]
    fn mmrv_and_varicella_share_a_group_but_mmr_and_dtap_do_not() {
        let codes = CodeSet::embedded().expect("code set");
        assert!(codes.share_a_group("94", "21"));
        assert!(!codes.share_a_group("03", "20"));
    }

    /// Hole 4 of issue 14: HepB then DTaP-HepB-IPV on one day lost DTaP and polio.
    #[test]
    fn a_combination_and_a_single_antigen_vaccine_are_two_doses() {
        let codes = CodeSet::embedded().expect("code set");
        assert_eq!(codes.same_day("08", "110"), SameDay::SharesAntigens);
        assert_eq!(codes.same_day("110", "08"), SameDay::SharesAntigens);
        assert_eq!(codes.same_day("03", "94"), SameDay::SharesAntigens);
        assert_eq!(codes.same_day("20", "106"), SameDay::SharesAntigens);
        assert_eq!(codes.same_day("20", "10"), SameDay::Unrelated);
    }

    #[test]
    fn the_same_vaccine_is_a_duplicate_and_the_specific_code_is_kept() {
        let codes = CodeSet::embedded().expect("code set");
        assert_eq!(
            codes.same_day("20", "20"),
            SameDay::Duplicate { keep_new: false }
        );
        // DTaP unspecified against DTaP, either way round: DTaP stays.
        assert_eq!(
            codes.same_day("107", "20"),
            SameDay::Duplicate { keep_new: true }
        );
        assert_eq!(
            codes.same_day("20", "107"),
            SameDay::Duplicate { keep_new: false }
        );
        // HepB unspecified against DTaP-HepB-IPV: the combination covers it.
        assert_eq!(
            codes.same_day("45", "110"),
            SameDay::Duplicate { keep_new: true }
        );
        // A combination is never reduced to an unspecified single antigen.
        assert_eq!(
            codes.same_day("110", "45"),
            SameDay::Duplicate { keep_new: false }
        );
        assert!(codes.get("107").is_some_and(|v| v.unspecified));
        assert!(codes.get("196").is_some_and(|v| !v.unspecified));
    }

    #[test]
    fn malformed_rows_are_rejected_with_their_line() {
        let err = CodeSet::parse("cvx,name,vaccine_groups\n20,DTaP,\n").expect_err("no group");
        assert!(err.to_string().contains("line 2"));
    }
}
