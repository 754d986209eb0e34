//! Prometheus metrics, served at `/metrics`: requests and their latency by operation and
//! outcome, policy denials, cache hits and misses, and the database pool.
//!
//! Operation names come from clients, so at most [`MAX_OPERATIONS`] distinct names get their
//! own series; later ones are counted as `other`, and the registry's memory stays bounded.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use entities::Store;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Distinct operation names tracked before the rest are counted as `other`.
pub const MAX_OPERATIONS: usize = 200;

/// How a GraphQL request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Data and no error.
    Ok,
    /// Executed, with errors at some paths (refused fields, records not found …).
    PartialErrors,
    /// Refused before execution: malformed, invalid, over a limit, not on the trusted list.
    Rejected,
    Unauthenticated,
    /// The database or the access log failed.
    Unavailable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::PartialErrors => "partial_errors",
            Outcome::Rejected => "rejected",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Unavailable => "unavailable",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// Whether a cache had the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheResult {
    Hit,
    Miss,
}

impl EncodeLabelValue for CacheResult {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        let s = match self {
            CacheResult::Hit => "hit",
            CacheResult::Miss => "miss",
        };
        EncodeLabelValue::encode(&s, encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DenialLabels {
    role: &'static str,
    rule: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    result: CacheResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The gateway's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    denials: Family<DenialLabels, Counter>,
    caches: Family<CacheLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
    statements: Gauge,
    records: Family<RecordLabels, Gauge>,
    record_cache_up: Gauge,
    operations: Mutex<HashSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RecordLabels {
    event: &'static str,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("izgraph");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let denials = Family::<DenialLabels, Counter>::default();
        let caches = Family::<CacheLabels, Counter>::default();
        let pool = Family::<PoolLabels, Gauge>::default();
        let statements = Gauge::default();
        let records = Family::<RecordLabels, Gauge>::default();
        let record_cache_up = Gauge::default();
        registry.register(
            "record_cache_events",
            "Person-record cache since start: memory_hit, redis_hit, miss, error, invalidation",
            records.clone(),
        );
        registry.register(
            "record_cache_up",
            "1 while the record cache answers, 0 during a Redis outage (reads go to the database)",
            record_cache_up.clone(),
        );
        registry.register(
            "graphql_requests",
            "GraphQL operations by operation name and outcome",
            requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "Time from receiving a GraphQL operation to its response, access log included",
            latency.clone(),
        );
        registry.register(
            "policy_denials",
            "Refused field reads, record reads and writes, by role and policy rule",
            denials.clone(),
        );
        registry.register(
            "cache_requests",
            "Cache look-ups by cache and result",
            caches.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections: idle, in_use, and the configured max",
            pool.clone(),
        );
        registry.register(
            "db_statements_executed",
            "Database statements executed since start",
            statements.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            denials,
            caches,
            pool,
            statements,
            records,
            record_cache_up,
            operations: Mutex::new(HashSet::new()),
        }
    }

    /// The series name for `operation`: `anonymous`, the name itself, or `other` once
    /// [`MAX_OPERATIONS`] names are tracked. Odd characters are replaced.
    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation.filter(|n| !n.is_empty()) else {
            return "anonymous".into();
        };
        let name: String = name
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut known = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        if known.contains(&name) {
            name
        } else if known.len() < MAX_OPERATIONS {
            known.insert(name.clone());
            name
        } else {
            "other".into()
        }
    }

    /// Counts one GraphQL operation.
    pub fn request(&self, operation: Option<&str>, outcome: Outcome, elapsed: Duration) {
        let labels = RequestLabels {
            operation: self.operation_label(operation),
            outcome,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one policy refusal.
    pub fn denial(&self, role: policies::Role, rule: &'static str) {
        self.denials
            .get_or_create(&DenialLabels {
                role: role.as_str(),
                rule,
            })
            .inc();
    }

    /// Counts one cache look-up. The hook for every cache the gateway consults: the APQ
    /// document store today, the shared data cache of `entities` when it lands.
    pub fn cache(&self, cache: &'static str, result: CacheResult) {
        self.caches
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    /// The text exposition, with the pool and statement gauges read now.
    pub fn render(&self, store: &Store) -> Result<String, std::fmt::Error> {
        let pool = store.pool_stats();
        let set = |state, v: u32| {
            self.pool
                .get_or_create(&PoolLabels { state })
                .set(i64::from(v));
        };
        set("idle", pool.idle);
        set("in_use", pool.open.saturating_sub(pool.idle));
        set("max", pool.max);
        self.statements
            .set(i64::try_from(store.statements_executed()).unwrap_or(i64::MAX));
        let cache = store.cache_status();
        for (event, v) in [
            ("memory_hit", cache.memory_hits),
            ("redis_hit", cache.redis_hits),
            ("miss", cache.misses),
            ("error", cache.errors),
            ("invalidation", cache.invalidations),
        ] {
            self.records
                .get_or_create(&RecordLabels { event })
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        self.record_cache_up.set(i64::from(cache.healthy));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_beyond_the_cap_are_counted_as_other() {
        let m = Metrics::new();
        assert_eq!(m.operation_label(Some("a-b{c}")), "a_b_c_");
        for i in 1..MAX_OPERATIONS {
            assert_eq!(m.operation_label(Some(&format!("Op{i}"))), format!("Op{i}"));
        }
        assert_eq!(m.operation_label(Some("OneTooMany")), "other");
        assert_eq!(m.operation_label(Some("Op3")), "Op3");
        assert_eq!(m.operation_label(None), "anonymous");
        assert_eq!(m.operation_label(Some("a-b{c}")), "a_b_c_");
    }
}
