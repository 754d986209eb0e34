//! The record cache behind the person repositories.
//!
//! What it holds is data — [`PersonRecord`]s, the person with every relation a read fans out
//! to and the facts the row scope is decided on — never a decision: the repositories apply
//! the caller's row scope to a cached record exactly as to a fresh one, and the schema layer
//! logs the read either way.
//!
//! The database is the authority on freshness. Every person has a record version in the
//! database (`person_versions`), changed in the transaction of every write to their record. A
//! read first asks the database, in one indexed statement per batch, which of its ids exist
//! and at which version, then looks for copies stored under exactly those versions: a copy of
//! an older version is never asked for, so nothing Redis loses, evicts, keeps or is denied
//! (an invalidation that never arrives, a flush, a restart) can bring an old record back, and
//! nothing has to happen after a write commits for every instance to see it.
//!
//! Redis is untrusted storage (see `sealed`): values are encrypted and bound to their key (and
//! so to namespace, person and version); one that does not open is a miss, counted and logged.
//!
//! Answers for ids that do not exist are cached too (as "absent" under the same scheme), so a
//! hidden id and a nonexistent one cost the same work: the same statements, the same cache
//! path (see `repo::records`).

mod config;
mod pins;
mod record;
mod redis_tier;
mod sealed;
mod stats;
mod versions;

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

pub use config::{CacheBackend, CacheConfig};
pub use record::{PersonRecord, SharedRecord};
pub use redis_tier::CacheStartError;
pub use sealed::{BadCacheKey, CacheKey, CacheKeys};
pub use stats::CacheStatus;

pub(crate) use pins::PinLookup;

use redis_tier::RedisTier;
use sealed::Sealer;
use stats::Stats;

pub(crate) use versions::{bump_versions, current_versions};

/// Bumped whenever [`PersonRecord`]'s shape or the stored layout changes: old bytes in Redis
/// are then never read (their keys differ), rather than misread.
const RECORD_FORMAT: &str = "rec2";

/// A person's state as the database reported it at the start of a read: the version of their
/// record, or `None` when no such person exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Stamp(pub(crate) Option<i64>);

/// A cached answer: the record, or "no such person" (`None`).
pub(crate) type Answer = Option<SharedRecord>;

#[derive(Clone)]
struct Entry {
    stamp: Stamp,
    answer: Answer,
}

enum Tier {
    None,
    Memory,
    Redis(Arc<RedisTier>, Sealer),
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

/// What a lookup found.
pub(crate) struct Lookup {
    /// Answers found under the stamps asked for.
    pub(crate) found: HashMap<Uuid, Answer>,
    /// Whether what the database answers for the rest may be stored (false with no cache, or
    /// with Redis unreachable and no near cache).
    pub(crate) fill: bool,
}

impl RecordCache {
    /// Builds the cache. With Redis this connects, or starts degraded when Redis cannot be
    /// reached (the gateway must come up without its cache); it fails only when Redis is
    /// reached and refuses this configuration (a wrong password or ACL user, a certificate
    /// not trusted): that never heals by itself, and falling back to the database in silence
    /// would hide it.
    pub async fn new(config: CacheConfig) -> Result<RecordCache, CacheStartError> {
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
            CacheBackend::Memory => (Tier::Memory, local()),
            CacheBackend::Redis { url } => {
                let prefix = format!("izg:{}:{RECORD_FORMAT}", config.namespace);
                let tier =
                    RedisTier::connect(url, config.tls_ca.clone(), prefix, config.timeout).await?;
                let keys = config
                    .keys
                    .clone()
                    .unwrap_or_else(|| CacheKeys::new(CacheKey::generate()));
                (
                    Tier::Redis(tier, Sealer::new(&keys)),
                    if config.near_cache { local() } else { None },
                )
            }
        };
        Ok(RecordCache {
            inner: Arc::new(Inner {
                config,
                tier,
                local,
                stats: Stats::default(),
            }),
        })
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

    /// Whether anything is cached (reads then fetch versions first).
    pub(crate) fn is_enabled(&self) -> bool {
        !matches!(self.inner.tier, Tier::None)
    }

    fn backend_name(&self) -> &'static str {
        match self.inner.tier {
            Tier::None => "none",
            Tier::Memory => "memory",
            Tier::Redis(..) => "redis",
        }
    }

    /// Counters and health, for `/readyz` and metrics.
    pub fn status(&self) -> CacheStatus {
        let s = &self.inner.stats;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        let (healthy, outages, error) = match &self.inner.tier {
            Tier::Redis(t, _) => (t.is_healthy(), t.outages(), t.last_error()),
            _ => (true, 0, None),
        };
        CacheStatus {
            backend: self.backend_name(),
            healthy,
            outages,
            error,
            memory_hits: load(&s.memory_hits),
            redis_hits: load(&s.redis_hits),
            misses: load(&s.misses),
            errors: load(&s.errors),
            invalidations: load(&s.invalidations),
            rejected: load(&s.rejected),
        }
    }

    /// Looks up the answers stored under `stamps`. Never fails: an unreachable Redis makes
    /// every id the near cache lacks a miss.
    pub(crate) async fn get(&self, stamps: &[(Uuid, Stamp)]) -> Lookup {
        let inner = &*self.inner;
        let mut found = HashMap::new();
        let mut remote = Vec::new();
        for &(id, stamp) in stamps {
            match self.local_get(id, stamp) {
                Some(answer) => {
                    found.insert(id, answer);
                }
                None => remote.push((id, stamp)),
            }
        }
        Stats::add(&inner.stats.memory_hits, found.len());
        let fill = match &inner.tier {
            Tier::None => false,
            Tier::Memory => true,
            Tier::Redis(tier, sealer) => {
                self.get_redis(tier, sealer, &remote, &mut found).await || inner.local.is_some()
            }
        };
        Stats::add(&inner.stats.misses, stamps.len() - found.len());
        Lookup { found, fill }
    }

    fn local_get(&self, id: Uuid, stamp: Stamp) -> Option<Answer> {
        let entry = self.inner.local.as_ref()?.get(&id)?;
        (entry.stamp == stamp).then_some(entry.answer)
    }

    /// Reads `remote` from Redis into `found`; false when Redis could not be asked.
    async fn get_redis(
        &self,
        tier: &Arc<RedisTier>,
        sealer: &Sealer,
        remote: &[(Uuid, Stamp)],
        found: &mut HashMap<Uuid, Answer>,
    ) -> bool {
        let stats = &self.inner.stats;
        if remote.is_empty() {
            return tier.is_healthy();
        }
        if !tier.is_healthy() {
            return false;
        }
        let keys: Vec<String> = remote
            .iter()
            .map(|(id, s)| tier.record_key(*id, s.0))
            .collect();
        let values = match tier.get_many(&keys).await {
            Ok(v) => v,
            Err(_) => {
                Stats::add(&stats.errors, 1);
                return false;
            }
        };
        for (((id, stamp), key), value) in remote.iter().zip(&keys).zip(values) {
            let Some(bytes) = value else { continue };
            match self.decode(sealer, key, *id, *stamp, &bytes) {
                Some(answer) => {
                    Stats::add(&stats.redis_hits, 1);
                    self.local_put(*id, *stamp, answer.clone());
                    found.insert(*id, answer);
                }
                None => continue,
            }
        }
        true
    }

    /// Opens and decodes a value read at `key`: `None` (a miss) unless it opens, decodes, and
    /// answers what the database says (a record of `id` when the person exists, absence when
    /// not).
    fn decode(
        &self,
        sealer: &Sealer,
        key: &str,
        id: Uuid,
        stamp: Stamp,
        bytes: &[u8],
    ) -> Option<Answer> {
        let plain = match sealer.open(key, bytes) {
            Ok(p) => p,
            Err(sealed::Rejection::UnknownKey) => {
                // Sealed with a key rotated out (or never shared with this instance): stale
                // bytes, not an attack.
                tracing::debug!(key, "cache value sealed with an unknown key");
                return None;
            }
            Err(why) => {
                Stats::add(&self.inner.stats.rejected, 1);
                tracing::warn!(
                    target: "izgraph::security",
                    event = "cache_value_rejected",
                    reason = why.as_str(),
                    key,
                    "a value in Redis failed authentication and was ignored"
                );
                return None;
            }
        };
        let answer = match plain.split_first() {
            Some((b'A', filler)) => {
                // Decoded and dropped: an absence costs what a small record does.
                std::hint::black_box(serde_json::from_slice::<PersonRecord>(filler).ok());
                None
            }
            Some((b'P', json)) => {
                Some(Arc::new(serde_json::from_slice::<PersonRecord>(json).ok()?))
            }
            _ => return None,
        };
        let consistent = match (&answer, stamp.0) {
            (Some(r), Some(_)) => r.id() == id,
            (None, None) => true,
            _ => false,
        };
        consistent.then_some(answer)
    }

    fn local_put(&self, id: Uuid, stamp: Stamp, answer: Answer) {
        if let Some(local) = &self.inner.local {
            local.insert(id, Entry { stamp, answer });
        }
    }

    /// Stores answers read from the database under the stamps their read began with. A
    /// record newer than its stamp may be stored (a write landed in between): it is then never
    /// asked for, since the write changed the version.
    pub(crate) fn fill(&self, answers: Vec<(Uuid, Stamp, Answer)>) {
        let mut remote = Vec::new();
        for (id, stamp, answer) in answers {
            if let Tier::Redis(tier, sealer) = &self.inner.tier {
                let plain = match &answer {
                    None => Some([&b"A"[..], record::absence_filler()].concat()),
                    Some(r) => {
                        let mut v = vec![b'P'];
                        serde_json::to_writer(&mut v, &**r).ok().map(|()| v)
                    }
                };
                if let Some(plain) = plain {
                    let key = tier.record_key(id, stamp.0);
                    let sealed = sealer.seal(&key, &plain);
                    remote.push((key, sealed));
                }
            }
            self.local_put(id, stamp, answer);
        }
        if let (Tier::Redis(tier, _), false) = (&self.inner.tier, remote.is_empty()) {
            // Off the request's path: a fill only saves later reads some work.
            let tier = tier.clone();
            let ttl = self.inner.config.ttl;
            tokio::spawn(async move {
                let _ = tier.set_many(remote, ttl).await;
            });
        }
    }

    /// Drops this instance's copies of `ids` after a write committed. Not needed for
    /// freshness (their versions changed); it frees memory early.
    pub(crate) fn forget(&self, ids: &[Uuid]) {
        Stats::add(&self.inner.stats.invalidations, ids.len());
        if let Some(local) = &self.inner.local {
            for id in ids {
                local.invalidate(id);
            }
        }
    }
}
