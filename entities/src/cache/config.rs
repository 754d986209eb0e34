//! How the record cache is set up: the gateway builds this from its environment.

use std::time::Duration;

/// Where cached records live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheBackend {
    /// No cache: every read goes to the database (for comparison and troubleshooting).
    None,
    /// This process's memory only: the embedded default, exact for a single instance.
    Memory,
    /// Redis shared by every instance (`redis://…`, or a cluster: `redis+cluster://…` or
    /// several comma-separated node URLs), with an optional in-process layer in front.
    Redis { url: String },
}

/// Cache settings.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub backend: CacheBackend,
    /// How long a record stays cached without being read through or invalidated.
    pub ttl: Duration,
    /// Records kept in the in-process layer.
    pub memory_capacity: u64,
    /// With Redis: keep an in-process layer in front of it (validated against the database's
    /// record versions on every read, like Redis, so it saves the Redis round trip and
    /// decoding, never freshness).
    pub near_cache: bool,
    /// The longest a Redis call may take before the gateway gives up on it and reads the
    /// database instead. It measures the gateway's wait, its own scheduling included: at 50 ms
    /// a saturated 2-core instance took its own slowness for Redis outages about once a second,
    /// and each return retired the whole cache (64-connection load: 145 req/s against 374 at
    /// 250 ms, with no outage left).
    pub timeout: Duration,
    /// Prefix of every Redis key: instances share entries only within a namespace, so two
    /// registries (or two test databases) on one Redis never see each other's records.
    pub namespace: String,
    /// The key values in Redis are sealed with, and the previous keys still accepted for
    /// reading during a rotation. `None`: a random key of this process's own (its values are
    /// then unreadable to every other instance and after a restart; the gateway always sets
    /// one, see `IZGRAPH_CACHE_KEY`).
    pub keys: Option<super::CacheKeys>,
    /// PEM certificates of the authorities trusted for `rediss://` (a private CA's, say),
    /// instead of the system's roots.
    pub tls_ca: Option<Vec<u8>>,
}

impl CacheConfig {
    /// The in-process cache with default sizes.
    pub fn memory() -> CacheConfig {
        CacheConfig {
            backend: CacheBackend::Memory,
            ..CacheConfig::disabled()
        }
    }

    /// No caching.
    pub fn disabled() -> CacheConfig {
        CacheConfig {
            backend: CacheBackend::None,
            ttl: Duration::from_secs(300),
            memory_capacity: 100_000,
            near_cache: true,
            timeout: Duration::from_millis(250),
            namespace: "izgraph".into(),
            keys: None,
            tls_ca: None,
        }
    }

    /// Redis at `url` with default sizes.
    pub fn redis(url: impl Into<String>, namespace: impl Into<String>) -> CacheConfig {
        CacheConfig {
            backend: CacheBackend::Redis { url: url.into() },
            namespace: namespace.into(),
            ..CacheConfig::disabled()
        }
    }

    /// The same with the key values are sealed with.
    pub fn with_keys(mut self, keys: super::CacheKeys) -> CacheConfig {
        self.keys = Some(keys);
        self
    }
}
