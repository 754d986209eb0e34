//! The labelled pair files of `shared/matching/` (beside the repository: `../shared/matching`
//! from its root), read as `izgraph match-check` reads them.

#![allow(dead_code)]

use identity::pairs::{parse_pairs, LabelledPair};
use identity::SsnKey;
use std::path::PathBuf;

/// The development files, in a fixed order.
pub const FILES: [&str; 4] = [
    "Dev-Test-2015-01-01.txt",
    "MIIS-B.txt",
    "MIIS-C.txt",
    "MIIS-D.txt",
];

/// The directory of the pair files.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/matching")
}

/// The key SSNs are hashed under in the tests (the numbers are synthetic).
pub fn ssn_key() -> SsnKey {
    SsnKey::new(b"match-check".to_vec())
}

/// One file's pairs.
pub fn load(name: &str) -> Vec<LabelledPair> {
    let path = dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_pairs(&bytes, &ssn_key()).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

use identity::calibrate::choose_thresholds;
use identity::{compare, estimate, Comparison, Decision, Model, PreparedRecord, Thresholds};
use std::collections::HashMap;

/// Pairs of several files with their comparisons.
pub struct Loaded {
    /// The file each pair came from.
    pub files: Vec<&'static str>,
    pub pairs: Vec<LabelledPair>,
    pub prepared: Vec<(PreparedRecord, PreparedRecord)>,
    pub comparisons: Vec<Comparison>,
}

/// Loads and compares the pairs of the named files.
pub fn load_all(names: &[&'static str]) -> Loaded {
    let mut files = Vec::new();
    let mut pairs: Vec<LabelledPair> = Vec::new();
    for name in names {
        let more = load(name);
        files.extend(std::iter::repeat_n(*name, more.len()));
        pairs.extend(more);
    }
    let prepared: Vec<_> = pairs
        .iter()
        .map(|p| (PreparedRecord::new(&p.a), PreparedRecord::new(&p.b)))
        .collect();
    let comparisons = prepared.iter().map(|(a, b)| compare(a, b)).collect();
    Loaded {
        files,
        pairs,
        prepared,
        comparisons,
    }
}

/// Iteration bound of the estimation (it converges in about 30).
pub const EM_ITERATIONS: usize = 500;
/// False merges allowed when choosing thresholds, as a share of `Not a Match` pairs: the floor.
pub const FALSE_MERGE_BUDGET: f64 = 0.001;

/// The identity of a pair's records, to find the same pair in several files.
fn pair_key(p: &LabelledPair) -> String {
    format!("{:?}|{:?}", p.a, p.b)
}

/// Pairs whose identical records one file labels `Match` and another `Not a Match`: the
/// reviewers disagree, so for calibration they are what the tool calls a possible match (a
/// person decides) and they are not counted as false merges of the engine.
pub fn disputed(pairs: &[LabelledPair]) -> Vec<bool> {
    let mut labels: HashMap<String, (bool, bool)> = HashMap::new();
    for p in pairs {
        let entry = labels.entry(pair_key(p)).or_default();
        entry.0 |= p.expected == Some(Decision::Match);
        entry.1 |= p.expected == Some(Decision::NoMatch);
    }
    pairs
        .iter()
        .map(|p| labels.get(&pair_key(p)).is_some_and(|(m, n)| *m && *n))
        .collect()
}

/// EM over the pairs' comparisons (labels unused), then thresholds for the most agreement
/// within the false-merge budget, disputed pairs counted as possible matches.
pub fn calibrate(loaded: &Loaded) -> (Model, Thresholds) {
    let model = estimate(&loaded.comparisons, &Model::starting_point(), EM_ITERATIONS)
        .expect("estimation runs")
        .model;
    let disputed = disputed(&loaded.pairs);
    let scored: Vec<(f64, Decision)> = loaded
        .pairs
        .iter()
        .zip(&loaded.comparisons)
        .zip(&disputed)
        .filter_map(|((p, c), d)| {
            p.expected
                .map(|e| (model.score(c), if *d { Decision::Possible } else { e }))
        })
        .collect();
    let thresholds = choose_thresholds(&scored, FALSE_MERGE_BUDGET).expect("pairs to calibrate on");
    (model, thresholds)
}
