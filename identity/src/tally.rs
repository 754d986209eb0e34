//! Scoring of decisions against labels, as the test tool's README defines it: exact agreement
//! with the expected decision, false merges (`Match` decided on a `Not a Match` pair: the
//! costliest error, it shows one child's record to another family) and the recall of `Match`.

use std::collections::BTreeMap;
use std::fmt;

use crate::matcher::Decision;

const ORDER: [Decision; 3] = [Decision::Match, Decision::Possible, Decision::NoMatch];

fn slot(d: Decision) -> usize {
    match d {
        Decision::Match => 0,
        Decision::Possible => 1,
        Decision::NoMatch => 2,
    }
}

/// Confusion matrix of expected (rows) against decided (columns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confusion(pub [[u64; 3]; 3]);

impl Confusion {
    /// Counts one scored pair.
    pub fn add(&mut self, expected: Decision, decided: Decision) {
        self.0[slot(expected)][slot(decided)] += 1;
    }

    /// Adds another matrix.
    pub fn merge(&mut self, other: &Confusion) {
        for (row, other_row) in self.0.iter_mut().zip(other.0) {
            for (cell, o) in row.iter_mut().zip(other_row) {
                *cell += o;
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.0.iter().flatten().sum()
    }

    /// Pairs decided as expected.
    pub fn agreed(&self) -> u64 {
        (0..3).map(|i| self.0[i][i]).sum()
    }

    /// `Match` decided on `Not a Match` pairs.
    pub fn false_merges(&self) -> u64 {
        self.0[2][0]
    }

    /// `Not a Match` pairs.
    pub fn non_matches(&self) -> u64 {
        self.0[2].iter().sum()
    }

    /// `Match` pairs.
    pub fn matches(&self) -> u64 {
        self.0[0].iter().sum()
    }

    /// Share of pairs decided as expected (1 when there are none).
    pub fn agreement(&self) -> f64 {
        ratio(self.agreed(), self.total())
    }

    /// False merges as a share of `Not a Match` pairs (0 when there are none).
    pub fn false_merge_rate(&self) -> f64 {
        if self.non_matches() == 0 {
            0.0
        } else {
            ratio(self.false_merges(), self.non_matches())
        }
    }

    /// Share of `Match` pairs decided `Match` (1 when there are none).
    pub fn match_recall(&self) -> f64 {
        ratio(self.0[0][0], self.matches())
    }
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        1.0
    } else {
        n as f64 / d as f64
    }
}

impl fmt::Display for Confusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  expected \\ decided  {:>7} {:>15} {:>12}",
            "Match", "Possible Match", "Not a Match"
        )?;
        for e in ORDER {
            let row = self.0[slot(e)];
            writeln!(
                f,
                "  {:<19} {:>7} {:>15} {:>12}",
                e.label(),
                row[0],
                row[1],
                row[2]
            )?;
        }
        write!(
            f,
            "  agreement {:.2}% ({}/{}), false merges {} ({:.2}% of {} Not a Match), Match recall {:.2}%",
            self.agreement() * 100.0,
            self.agreed(),
            self.total(),
            self.false_merges(),
            self.false_merge_rate() * 100.0,
            self.non_matches(),
            self.match_recall() * 100.0
        )
    }
}

/// Confusion matrices per scenario and overall.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub overall: Confusion,
    pub by_scenario: BTreeMap<String, Confusion>,
    /// Pairs without a usable label (`Not Sure`), not scored.
    pub unscored: u64,
}

impl Tally {
    /// Counts one pair; `expected` `None` is counted as unscored.
    pub fn add(&mut self, scenario: &str, expected: Option<Decision>, decided: Decision) {
        let Some(expected) = expected else {
            self.unscored += 1;
            return;
        };
        self.overall.add(expected, decided);
        self.by_scenario
            .entry(scenario.to_owned())
            .or_default()
            .add(expected, decided);
    }

    /// Pairs decided as expected, and the others.
    pub fn passed_failed(&self) -> (u64, u64) {
        (
            self.overall.agreed(),
            self.overall.total() - self.overall.agreed(),
        )
    }
}

impl fmt::Display for Tally {
    /// One line per scenario (its confusion matrix as expected→decided counts, `M`/`P`/`N` for
    /// `Match`/`Possible Match`/`Not a Match`), then the overall matrix and figures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<32} {:>5} {:>9} {:>6} {:>8}  confusion (expected→decided M/P/N)",
            "scenario", "pairs", "agreement", "merges", "recall"
        )?;
        for (scenario, c) in &self.by_scenario {
            let row = |r: [u64; 3]| format!("{}/{}/{}", r[0], r[1], r[2]);
            writeln!(
                f,
                "{:<32} {:>5} {:>8.2}% {:>6} {:>7.2}%  M→{} P→{} N→{}",
                scenario,
                c.total(),
                c.agreement() * 100.0,
                c.false_merges(),
                c.match_recall() * 100.0,
                row(c.0[0]),
                row(c.0[1]),
                row(c.0[2])
            )?;
        }
        writeln!(
            f,
            "overall ({} pairs, {} not scored):",
            self.overall.total(),
            self.unscored
        )?;
        write!(f, "{}", self.overall)
    }
}
