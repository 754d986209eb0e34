//! Throughput of whole-patient forecasts (all vaccine groups) over a deterministic
//! synthetic population of 100,000 persons aged 0-18 with realistic childhood
//! histories: doses roughly on schedule, with late, missing and too-early doses.
//!
//! `cargo bench -p forecast --bench forecast` (prints forecasts per second).

#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/population.rs"]
mod population;

use chrono::NaiveDate;
use cpu_time::cpu_seconds;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use forecast::{forecast, Schedule};
use population::{population, POPULATION};
use std::hint::black_box;
use std::time::Instant;

fn bench(c: &mut Criterion) {
    let schedule = Schedule::embedded().expect("embedded schedule");
    let assessment = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    let people = population(assessment, POPULATION);
    let doses: usize = people.iter().map(|p| p.doses.len()).sum();

    // One plain timed pass, printed so the figure is visible without criterion's report.
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    for p in &people {
        black_box(forecast(schedule, black_box(p), assessment));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "forecast: {} persons ({:.1} doses avg): {:.0} forecasts/s on one core ({:.2} us/forecast)",
        people.len(),
        doses as f64 / people.len() as f64,
        people.len() as f64 / secs,
        secs * 1e6 / people.len() as f64
    );
    // The same pass per second of CPU time: on a busy machine the wall-clock figure
    // also counts the time spent waiting for the core.
    if let (Some(a), Some(b)) = (cpu_start, cpu_seconds()) {
        println!(
            "forecast: {:.0} forecasts per CPU second ({:.2} s of CPU time)",
            people.len() as f64 / (b - a),
            b - a
        );
    }

    let mut group = c.benchmark_group("forecast");
    group.throughput(Throughput::Elements(people.len() as u64));
    group.sample_size(10);
    group.bench_function("population_100k", |b| {
        b.iter(|| {
            for p in &people {
                black_box(forecast(schedule, black_box(p), assessment));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
