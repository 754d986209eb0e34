//! `izgraph match-check`: runs the labelled pairs of the registry community's patient-matching
//! test tool (`shared/matching/*.txt`) through the matching engine with its shipped
//! configuration and prints how its decisions agree with the labels. It measures; the floors are
//! enforced by `identity/tests/matching_floors.rs`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use identity::pairs::parse_pairs;
use identity::tally::Tally;
use identity::{MatchConfig, Matcher, SsnKey};

/// Runs the files; with `decisions`, first one line per pair (TEST text, a tab, the decision).
pub fn run(files: &[PathBuf], decisions: bool) -> anyhow::Result<()> {
    let matcher = Matcher::new(MatchConfig::default())
        .map_err(|e| anyhow::anyhow!("the shipped matching configuration is invalid: {e}"))?;
    // The files' SSNs are synthetic; they are hashed as a store would hash real ones.
    let ssn_key = SsnKey::new(b"izgraph match-check".to_vec());
    // Written through one buffered handle: a closed pipe (`| head`) ends the command with an
    // error instead of a panic in `println!`.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut overall = Tally::default();
    let mut per_file = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let pairs = parse_pairs(&bytes, &ssn_key)
            .with_context(|| format!("{} is not a file of labelled pairs", file.display()))?;
        let mut tally = Tally::default();
        for pair in &pairs {
            let decision = matcher.decide(&pair.a, &pair.b).decision;
            if decisions {
                writeln!(out, "{}\t{}", pair.test, decision.label())?;
            }
            tally.add(&pair.scenario, pair.expected, decision);
            overall.add(&pair.scenario, pair.expected, decision);
        }
        per_file.push((file, tally));
    }
    if per_file.len() > 1 {
        for (file, tally) in &per_file {
            let c = &tally.overall;
            writeln!(
                out,
                "{}: agreement {:.2}% ({}/{}), false merges {} ({:.2}%), Match recall {:.2}%",
                file.display(),
                c.agreement() * 100.0,
                c.agreed(),
                c.total(),
                c.false_merges(),
                c.false_merge_rate() * 100.0,
                c.match_recall() * 100.0
            )?;
        }
    }
    writeln!(out, "{overall}")?;
    let (passed, failed) = overall.passed_failed();
    writeln!(out, "{passed} passed, {failed} failed")?;
    out.flush()?;
    Ok(())
}
