//! Prometheus metrics, served at `/metrics`: requests and their latency by operation and
//! outcome, policy denials, cache hits and misses, and the database pool.
//!
//! Operation names come from clients (`query Smith_John_DOB_2015_03_21` would otherwise become
//! a label anyone can read), so only known operations get their own series: the operations of
//! the trusted documents, and those listed in `IZGRAPH_METRICS_OPERATIONS` (at most
//! [`MAX_OPERATIONS`]). Every other name is counted as `other`, an unnamed one as `anonymous`.

use std::collections::HashSet;
use std::time::Duration;

use entities::Store;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Known operation names labelled on their own at most; the rest are counted as `other`.
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
    forecasts: Family<RecordLabels, Gauge>,
    /// The operation names labelled on their own.
    operations: HashSet<String>,
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
    /// Metrics labelling no operation by name (all are `other` or `anonymous`).
    pub fn new() -> Metrics {
        Metrics::with_operations(std::iter::empty::<String>())
    }

    /// Metrics labelling the operations named `known` (at most [`MAX_OPERATIONS`] of them).
    pub fn with_operations(known: impl IntoIterator<Item = impl Into<String>>) -> Metrics {
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
        let forecasts = Family::<RecordLabels, Gauge>::default();
        registry.register(
            "record_cache_events",
            "Person-record cache since start: memory_hit, redis_hit, miss, error, invalidation, rejected (a Redis value that failed authentication: a security event)",
            records.clone(),
        );
        registry.register(
            "forecast_cache",
            "Kept forecasts: entries, bytes (estimated) and max_bytes now; hit, miss and eviction since start",
            forecasts.clone(),
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
            forecasts,
            operations: known
                .into_iter()
                .map(Into::into)
                .filter(|n: &String| is_label(n))
                .take(MAX_OPERATIONS)
                .collect(),
        }
    }

    /// The series name for `operation`: `anonymous`, the name itself when known, or `other`.
    fn operation_label(&self, operation: Option<&str>) -> String {
        match operation.filter(|n| !n.is_empty()) {
            None => "anonymous".into(),
            Some(name) if self.operations.contains(name) => name.to_owned(),
            Some(_) => "other".into(),
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

    /// The text exposition, with the pool, statement and cache gauges read now.
    pub fn render(
        &self,
        store: &Store,
        forecasts: &schema::ForecastCacheStatus,
    ) -> Result<String, std::fmt::Error> {
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
            ("rejected", cache.rejected),
        ] {
            self.records
                .get_or_create(&RecordLabels { event })
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        for (event, v) in [
            ("entries", forecasts.entries),
            ("bytes", forecasts.bytes),
            ("max_bytes", forecasts.max_bytes),
            ("hit", forecasts.hits),
            ("miss", forecasts.misses),
            ("eviction", forecasts.evictions),
        ] {
            self.forecasts
                .get_or_create(&RecordLabels { event })
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        self.record_cache_up.set(i64::from(cache.healthy));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Whether `name` is a GraphQL name (and so a safe label value).
fn is_label(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names a client chooses never become labels: only known operations do.
    #[test]
    fn only_known_operations_are_labelled() {
        let m = Metrics::with_operations(["Me", "RosterPage", "bad-name"]);
        assert_eq!(m.operation_label(Some("Me")), "Me");
        assert_eq!(m.operation_label(Some("RosterPage")), "RosterPage");
        assert_eq!(
            m.operation_label(Some("Smith_John_DOB_2015_03_21")),
            "other"
        );
        assert_eq!(m.operation_label(Some("bad-name")), "other");
        for i in 0..1000 {
            assert_eq!(m.operation_label(Some(&format!("Op{i}"))), "other");
        }
        assert_eq!(m.operation_label(None), "anonymous");
        assert_eq!(m.operation_label(Some("")), "anonymous");
        let many = Metrics::with_operations((0..500).map(|i| format!("Op{i}")));
        assert_eq!(many.operations.len(), MAX_OPERATIONS);
    }
}
