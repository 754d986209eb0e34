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
            vaccines.push(Vaccine {
                cvx: cvx.to_owned(),
                name: name.to_owned(),
                vaccine_groups: groups,
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

    /// Whether two CVX codes share a vaccine group: doses of both on one day are duplicates.
    pub fn share_a_group(&self, a: &str, b: &str) -> bool {
        match (self.get(a), self.get(b)) {
            (Some(a), Some(b)) => a
                .vaccine_groups
                .iter()
                .any(|g| b.vaccine_groups.contains(g)),
            _ => a == b,
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

    #[test]
    fn malformed_rows_are_rejected_with_their_line() {
        let err = CodeSet::parse("cvx,name,vaccine_groups\n20,DTaP,\n").expect_err("no group");
        assert!(err.to_string().contains("line 2"));
    }
}
