//! What a run measured, per operation, and the machine it ran on.
//!
//! Every latency is kept (a 30 s run at a few thousand requests per second is well under a
//! million samples), so p99.9 is the nearest-rank percentile of the real samples, computed by
//! the same helper as the other benchmarks rather than a histogram's bucket bound.

use std::time::Duration;

use crate::mix::Op;
use crate::stats::{ms, percentile};

/// Error messages kept per operation: enough to see the cause, not a flood.
const MESSAGES_KEPT: usize = 5;

/// Outcomes of one operation.
#[derive(Debug, Default, Clone)]
pub struct OpStats {
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub messages: Vec<String>,
}

impl OpStats {
    fn merge(&mut self, other: OpStats) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        for m in other.messages {
            if self.messages.len() < MESSAGES_KEPT && !self.messages.contains(&m) {
                self.messages.push(m);
            }
        }
    }
}

/// Outcomes of every operation, kept by one worker and merged at the end.
#[derive(Debug, Clone)]
pub struct Recorder {
    ops: Vec<OpStats>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            ops: vec![OpStats::default(); Op::ALL.len()],
        }
    }
}

impl Recorder {
    /// Records one response; a failed request's latency counts too, since a caller waited it.
    pub fn record(&mut self, op: Op, took: Duration, error: Option<String>) {
        let s = &mut self.ops[op.index()];
        s.latencies.push(took);
        if let Some(message) = error {
            s.errors += 1;
            if s.messages.len() < MESSAGES_KEPT && !s.messages.contains(&message) {
                s.messages.push(message);
            }
        }
    }

    pub fn merge(&mut self, other: Recorder) {
        for (mine, theirs) in self.ops.iter_mut().zip(other.ops) {
            mine.merge(theirs);
        }
    }

    pub fn requests(&self) -> usize {
        self.ops.iter().map(|s| s.latencies.len()).sum()
    }

    pub fn errors(&self) -> u64 {
        self.ops.iter().map(|s| s.errors).sum()
    }

    /// The table: one line per operation that ran, then the total.
    pub fn print(&self, seconds: f64) {
        println!(
            "{:<11} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>6}",
            "operation", "requests", "req/s", "p50 ms", "p99 ms", "p999 ms", "max ms", "errors"
        );
        let mut all = Vec::with_capacity(self.requests());
        for op in Op::ALL {
            let s = &self.ops[op.index()];
            if s.latencies.is_empty() {
                continue;
            }
            line(op.key(), &s.latencies, s.errors, seconds);
            all.extend_from_slice(&s.latencies);
        }
        line("total", &all, self.errors(), seconds);
        for op in Op::ALL {
            for m in &self.ops[op.index()].messages {
                println!("  {} error: {m}", op.key());
            }
        }
    }
}

fn line(name: &str, latencies: &[Duration], errors: u64, seconds: f64) {
    println!(
        "{:<11} | {:>8} | {:>8.1} | {:>8.1} | {:>8.1} | {:>8.1} | {:>8.1} | {:>6}",
        name,
        latencies.len(),
        latencies.len() as f64 / seconds,
        ms(percentile(latencies, 50.0)),
        ms(percentile(latencies, 99.0)),
        ms(percentile(latencies, 99.9)),
        ms(latencies.iter().max().copied().unwrap_or_default()),
        errors
    );
}

/// The machine, as `/proc` tells it (Linux); unknown elsewhere.
#[derive(Debug)]
pub struct Machine {
    pub cpus: usize,
    pub model: String,
    pub memory_gib: f64,
}

impl Machine {
    pub fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown CPU".to_owned(), |(_, m)| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            model,
            memory_gib: memory_kib / (1024.0 * 1024.0),
        }
    }
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` has them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_recorders_keep_every_sample_and_a_few_distinct_messages() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 0..10 {
            a.record(
                Op::Read,
                Duration::from_millis(i),
                Some(format!("e{}", i % 7)),
            );
            b.record(Op::Write, Duration::from_millis(i), None);
        }
        a.merge(b);
        assert_eq!(a.requests(), 20);
        assert_eq!(a.errors(), 10);
        assert_eq!(a.ops[Op::Read.index()].messages.len(), MESSAGES_KEPT);
    }
}
