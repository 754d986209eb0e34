//! The record cache behind the person repositories.
//!
//! What it holds is data — [`PersonRecord`]s, the person with every relation a read fans out
//! to and the facts the row scope is decided on — never a decision: the repositories apply
//! the caller's row scope to a cached record exactly as to a fresh one, and the schema layer
//! logs the read either way.
//!
//! Freshness comes from version stamps (see `versions`): a write restamps the persons it
//! touched after committing and before acknowledging, and a record is served only under its
//! person's current stamp. With Redis the stamps live in Redis, so a write on one instance
//! retires the record on every instance, including their in-process layers, which validate
//! against the stamps on every read.

mod config;
mod pins;
mod record;
mod redis_tier;
mod stats;
mod versions;

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

pub use config::{CacheBackend, CacheConfig};
pub use record::{PersonRecord, SharedRecord};
pub use stats::CacheStatus;

pub(crate) use pins::PinLookup;

use redis_tier::RedisTier;
use stats::Stats;
use versions::MemoryVersions;

/// Bumped whenever [`PersonRecord`]'s shape changes: old bytes in Redis are then never read
/// (their keys differ), rather than misread.
const RECORD_FORMAT: &str = "rec1";

/// The stamp a record was (or will be) stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    epoch: u64,
    version: u64,
}

#[derive(Clone)]
struct Entry {
    stamp: Stamp,
    record: SharedRecord,
}

enum Tier {
    None,
    Memory(MemoryVersions),
    Redis(Arc<RedisTier>),
}

struct Inner {
    config: CacheConfig,
    tier: Tier,
    /// The in-process layer (absent with no cache, or with Redis and `near_cache` off).
    local: Option<moka::sync::Cache<Uuid, Entry>>,
    stats: Stats,
}

/// A handle to the cache; clones share it.
#[derive(Clone)]
pub struct RecordCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCache")
            .field("backend", &self.backend_name())
            .finish_non_exhaustive()
    }
}

/// What a lookup found, and the stamps under which the missing records may be stored.
pub(crate) struct Lookup {
    pub(crate) found: HashMap<Uuid, SharedRecord>,
    /// Stamps of the misses, as read before the database is asked. `None`: do not fill (no
    /// cache, or Redis is unreachable).
    pub(crate) fill: Option<HashMap<Uuid, Stamp>>,
}

impl RecordCache {
    /// Builds the cache. With Redis this connects (or starts degraded, never fails).
    pub async fn new(config: CacheConfig) -> RecordCache {
        let local = || {
            Some(
                moka::sync::Cache::builder()
                    .max_capacity(config.memory_capacity)
                    .time_to_live(config.ttl)
                    .build(),
            )
        };
        let (tier, local) = match &config.backend {
            CacheBackend::None => (Tier::None, None),
            CacheBackend::Memory => (
                Tier::Memory(MemoryVersions::new(config.version_ttl())),
                local(),
            ),
            CacheBackend::Redis { url } => {
                let prefix = format!("izg:{}:{RECORD_FORMAT}", config.namespace);
                let tier = RedisTier::connect(url, prefix, config.timeout).await;
                (
                    Tier::Redis(tier),
                    if config.near_cache { local() } else { None },
                )
            }
        };
        RecordCache {
            inner: Arc::new(Inner {
                config,
                tier,
                local,
                stats: Stats::default(),
            }),
        }
    }

    /// No caching at all.
    pub fn disabled() -> RecordCache {
        RecordCache {
            inner: Arc::new(Inner {
                config: CacheConfig::disabled(),
                tier: Tier::None,
                local: None,
                stats: Stats::default(),
            }),
        }
    }

    fn backend_name(&self) -> &'static str {
        match self.inner.tier {
            Tier::None => "none",
            Tier::Memory(_) => "memory",
            Tier::Redis(_) => "redis",
        }
    }

    /// Counters and health, for `/readyz` and metrics.
    pub fn status(&self) -> CacheStatus {
        let s = &self.inner.stats;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        let (healthy, outages) = match &self.inner.tier {
            Tier::Redis(t) => (t.is_healthy(), t.outages()),
            _ => (true, 0),
        };
        CacheStatus {
            backend: self.backend_name(),
            healthy,
            outages,
            memory_hits: load(&s.memory_hits),
            redis_hits: load(&s.redis_hits),
            misses: load(&s.misses),
            errors: load(&s.errors),
            invalidations: load(&s.invalidations),
        }
    }

    /// Looks `ids` up. Never fails: an unreachable Redis makes every id a miss.
    pub(crate) async fn get(&self, ids: &[Uuid]) -> Lookup {
        let inner = &*self.inner;
        let mut found = HashMap::new();
        let fill = match &inner.tier {
            Tier::None => None,
            Tier::Memory(versions) => {
                let mut fill = HashMap::new();
                for &id in ids {
                    let stamp = Stamp {
                        epoch: 0,
                        version: versions.get(id),
                    };
                    match self.local_get(id, stamp) {
                        Some(r) => {
                            found.insert(id, r);
                        }
                        None => {
                            fill.insert(id, stamp);
                        }
                    }
                }
                Stats::add(&inner.stats.memory_hits, found.len());
                Some(fill)
            }
            Tier::Redis(tier) => self.get_redis(tier, ids, &mut found).await,
        };
        Stats::add(&inner.stats.misses, ids.len() - found.len());
        Lookup { found, fill }
    }

    fn local_get(&self, id: Uuid, stamp: Stamp) -> Option<SharedRecord> {
        let entry = self.inner.local.as_ref()?.get(&id)?;
        (entry.stamp == stamp).then_some(entry.record)
    }

    async fn get_redis(
        &self,
        tier: &Arc<RedisTier>,
        ids: &[Uuid],
        found: &mut HashMap<Uuid, SharedRecord>,
    ) -> Option<HashMap<Uuid, Stamp>> {
        let stats = &self.inner.stats;
        if ids.is_empty() || !tier.is_healthy() {
            return None;
        }
        let (epoch, versions) = match tier.stamps(ids).await {
            Ok(s) => s,
            Err(_) => {
                Stats::add(&stats.errors, 1);
                return None;
            }
        };
        let mut remote: Vec<(Uuid, Stamp)> = Vec::new();
        for (&id, version) in ids.iter().zip(versions) {
            let stamp = Stamp { epoch, version };
            match self.local_get(id, stamp) {
                Some(r) => {
                    found.insert(id, r);
                }
                None => remote.push((id, stamp)),
            }
        }
        Stats::add(&stats.memory_hits, found.len());
        let keys: Vec<String> = remote
            .iter()
            .map(|(id, s)| tier.record_key(s.epoch, *id, s.version, "r"))
            .collect();
        let values = match tier.get_many(&keys).await {
            Ok(v) => v,
            Err(_) => {
                Stats::add(&stats.errors, 1);
                return None;
            }
        };
        let mut fill = HashMap::new();
        for ((id, stamp), value) in remote.into_iter().zip(values) {
            match value.and_then(|bytes| serde_json::from_slice::<PersonRecord>(&bytes).ok()) {
                Some(record) => {
                    let record = Arc::new(record);
                    Stats::add(&stats.redis_hits, 1);
                    self.local_put(id, stamp, record.clone());
                    found.insert(id, record);
                }
                None => {
                    fill.insert(id, stamp);
                }
            }
        }
        Some(fill)
    }

    fn local_put(&self, id: Uuid, stamp: Stamp, record: SharedRecord) {
        if let Some(local) = &self.inner.local {
            local.insert(id, Entry { stamp, record });
        }
    }

    /// Stores records read from the database under the stamps their lookup saw.
    pub(crate) fn fill(&self, stamps: &HashMap<Uuid, Stamp>, records: &[SharedRecord]) {
        let mut remote = Vec::new();
        for record in records {
            let Some(&stamp) = stamps.get(&record.id()) else {
                continue;
            };
            self.local_put(record.id(), stamp, record.clone());
            if let Tier::Redis(tier) = &self.inner.tier {
                if let Ok(bytes) = serde_json::to_vec(&**record) {
                    remote.push((
                        tier.record_key(stamp.epoch, record.id(), stamp.version, "r"),
                        bytes,
                    ));
                }
            }
        }
        if let (Tier::Redis(tier), false) = (&self.inner.tier, remote.is_empty()) {
            // Off the request's path: a fill only saves later reads some work.
            let tier = tier.clone();
            let ttl = self.inner.config.ttl;
            tokio::spawn(async move {
                let _ = tier.set_many(remote, ttl).await;
            });
        }
    }

    /// Retires the cached records of `ids`, on every instance. Called after a write commits
    /// and before it is acknowledged.
    pub(crate) async fn invalidate(&self, ids: &[Uuid]) {
        if ids.is_empty() {
            return;
        }
        let inner = &*self.inner;
        Stats::add(&inner.stats.invalidations, ids.len());
        if let Some(local) = &inner.local {
            for id in ids {
                local.invalidate(id);
            }
        }
        match &inner.tier {
            Tier::None => {}
            Tier::Memory(versions) => ids.iter().for_each(|id| versions.restamp(*id)),
            Tier::Redis(tier) => {
                // Tried even while the tier is marked down: in a cluster the records on the
                // masters that are up must be retired now, for instances that still read them.
                // Where it fails the tier is marked down, and its recovery retires every
                // entry written before it (a new epoch), this one included.
                if tier.restamp(ids, inner.config.version_ttl()).await.is_err() {
                    Stats::add(&inner.stats.errors, 1);
                }
            }
        }
    }
}
