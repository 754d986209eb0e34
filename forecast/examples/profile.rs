//! Profiling and regression aid for the engine's speed work:
//! `cargo run -p forecast --release --example profile -- [N] [--digest] [CASE_FILE...]`
//! forecasts the first N persons (default: all 100,000) of the benchmark's population and
//! prints the time taken. With `--digest` it also prints one hash of every output
//! (population, then the patients of the given CDSi case files), so an optimization
//! can be checked to change no result at all. Run it under
//! `valgrind --tool=callgrind --toggle-collect='forecast::engine::forecast*'` for
//! repeatable instruction counts of the forecasts alone (N = 2,000 is enough).

#[path = "../benches/support/cpu_time.rs"]
mod cpu_time;
#[path = "../benches/support/population.rs"]
mod population;

use chrono::NaiveDate;
use cpu_time::cpu_seconds;
use forecast::cases::Case;
use forecast::{forecast, Patient, Schedule};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let mut count = population::POPULATION;
    let mut digest = false;
    let mut case_files = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "--digest" {
            digest = true;
        } else if let Ok(n) = arg.parse() {
            count = n;
        } else {
            case_files.push(arg);
        }
    }
    let schedule = Schedule::embedded().expect("embedded schedule");
    let assessment = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    let people = population::population(assessment, count);

    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    for p in &people {
        black_box(forecast(schedule, black_box(p), assessment));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{count} persons: {:.0} forecasts/s ({:.2} us/forecast)",
        count as f64 / secs,
        secs * 1e6 / count as f64
    );
    // In clock ticks: run enough persons.
    if let (Some(a), Some(b)) = (cpu_start, cpu_seconds()) {
        println!(
            "  on CPU: {:.0} forecasts/s ({:.2} s of CPU time)",
            count as f64 / (b - a),
            b - a
        );
    }

    if digest {
        let mut runs: Vec<(Patient, NaiveDate)> =
            people.into_iter().map(|p| (p, assessment)).collect();
        for file in &case_files {
            let text = std::fs::read_to_string(file).expect("read case file");
            let cases: Vec<Case> = serde_json::from_str(&text).expect("parse case file");
            runs.extend(cases.iter().map(|c| (c.patient(), c.assessment_date)));
        }
        let mut hasher = DefaultHasher::new();
        for (p, on) in &runs {
            format!("{:?}", forecast(schedule, p, *on)).hash(&mut hasher);
        }
        println!(
            "digest of {} forecasts: {:016x}",
            runs.len(),
            hasher.finish()
        );
    }
}
