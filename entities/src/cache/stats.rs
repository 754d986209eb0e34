//! Counters the gateway exports as metrics and in `/readyz`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters of cache outcomes.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) memory_hits: AtomicU64,
    pub(crate) redis_hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) invalidations: AtomicU64,
    pub(crate) rejected: AtomicU64,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A snapshot of the cache's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStatus {
    /// `none`, `memory` or `redis`.
    pub backend: &'static str,
    /// False while Redis is unreachable and reads are served from the database.
    pub healthy: bool,
    /// Outages seen since start.
    pub outages: u64,
    /// While unhealthy: why Redis was last found unusable (unreachable, a refused password,
    /// a certificate not trusted...), for `/readyz`. Never holds credentials.
    pub error: Option<String>,
    pub memory_hits: u64,
    pub redis_hits: u64,
    pub misses: u64,
    pub errors: u64,
    pub invalidations: u64,
    /// Values read from Redis that failed authentication (altered, swapped between keys,
    /// replayed under another version, or not sealed at all): each was a miss, and is logged
    /// as a security event.
    pub rejected: u64,
}

impl CacheStatus {
    /// Hits over lookups since start (0 when nothing was looked up).
    pub fn hit_ratio(&self) -> f64 {
        let hits = self.memory_hits + self.redis_hits;
        let total = hits + self.misses;
        if total == 0 {
            0.0
        } else {
            hits as f64 / total as f64
        }
    }
}
