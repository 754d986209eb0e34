//! Admission to the token endpoint's secret checks: a token bucket per source address and per
//! client id, then a bounded queue in front of the few Argon2 verifications that run at once.
//!
//! A flood of bad secrets from one source is answered `429` (with `Retry-After`) without
//! hashing; a flood from many sources fills the queue, and what does not fit is answered `503`
//! at once instead of waiting behind it. Either way a good client's request from elsewhere
//! waits for at most the queue ahead of it, not for the attacker's connections.
//!
//! Buckets live in bounded caches (moka), so the set of addresses and ids an attacker can make
//! the gateway remember is bounded too; an evicted bucket starts full, which only forgets a
//! client's earlier requests.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub burst: f64,
    pub per_second: f64,
}

/// The endpoint's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_source: Rate,
    pub per_client: Rate,
    /// Secret verifications running at once (each Argon2id takes 19 MiB and a core for tens
    /// of milliseconds).
    pub concurrent: usize,
    /// Requests that may wait for a verification; beyond, `503` at once.
    pub queued: usize,
    /// The longest a queued request waits before it is answered `503`.
    pub max_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Partner systems ask for a token an hour. A source's burst stays below the
            // places of the queue, so one source can never fill it and turn every other
            // client away.
            per_source: Rate {
                burst: 8.0,
                per_second: 2.0,
            },
            per_client: Rate {
                burst: 8.0,
                per_second: 1.0,
            },
            concurrent: 2,
            queued: 16,
            max_wait: Duration::from_secs(2),
        }
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over its source's or client's rate: try again after this long (`429`).
    RateLimited(Duration),
    /// The queue is full, or the wait was too long (`503`).
    Busy,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Takes one token, or says how long until one is there.
    fn take(&mut self, rate: Rate, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second).min(rate.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / rate.per_second,
            ))
        }
    }
}

type Buckets<K> = moka::sync::Cache<K, Arc<Mutex<Bucket>>>;

fn buckets<K: std::hash::Hash + Eq + Send + Sync + 'static>() -> Buckets<K> {
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_idle(Duration::from_secs(600))
        .build()
}

/// Admission control for the token endpoint; clones share it.
#[derive(Debug, Clone)]
pub struct Gate {
    limits: Limits,
    sources: Buckets<IpAddr>,
    clients: Buckets<String>,
    /// Places: verifications running plus waiting.
    places: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

/// An admitted request: holds its place until dropped.
#[derive(Debug)]
pub struct Admitted {
    _place: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
}

impl Gate {
    pub fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            sources: buckets(),
            clients: buckets(),
            places: Arc::new(Semaphore::new(limits.concurrent + limits.queued)),
            running: Arc::new(Semaphore::new(limits.concurrent.max(1))),
        }
    }

    fn take<K: std::hash::Hash + Eq + Clone + Send + Sync + 'static>(
        cache: &Buckets<K>,
        key: K,
        rate: Rate,
    ) -> Result<(), Refusal> {
        let now = Instant::now();
        let bucket = cache.get_with(key, || {
            Arc::new(Mutex::new(Bucket {
                tokens: rate.burst,
                at: now,
            }))
        });
        let mut b = bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        b.take(rate, now).map_err(Refusal::RateLimited)
    }

    /// Admits one secret check from `source` for `client_id`, waiting for a verification
    /// slot at most `max_wait`.
    pub async fn admit(&self, source: IpAddr, client_id: &str) -> Result<Admitted, Refusal> {
        Self::take(&self.sources, source, self.limits.per_source)?;
        let client: String = client_id.chars().take(64).collect();
        Self::take(&self.clients, client, self.limits.per_client)?;
        let place = self
            .places
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy)?;
        let running =
            tokio::time::timeout(self.limits.max_wait, self.running.clone().acquire_owned())
                .await
                .map_err(|_| Refusal::Busy)?
                .map_err(|_| Refusal::Busy)?;
        Ok(Admitted {
            _place: place,
            _running: running,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let rate = Rate {
            burst: 3.0,
            per_second: 2.0,
        };
        let t0 = Instant::now();
        let mut b = Bucket {
            tokens: 3.0,
            at: t0,
        };
        for _ in 0..3 {
            assert!(b.take(rate, t0).is_ok());
        }
        let wait = b.take(rate, t0).expect_err("empty");
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert!(b.take(rate, t0 + Duration::from_millis(500)).is_ok());
        assert!(b.take(rate, t0 + Duration::from_millis(600)).is_err());
    }

    #[tokio::test]
    async fn sources_are_limited_apart_and_the_queue_is_bounded() {
        let gate = Gate::new(Limits {
            per_source: Rate {
                burst: 2.0,
                per_second: 0.001,
            },
            concurrent: 1,
            queued: 1,
            max_wait: Duration::from_millis(50),
            ..Limits::default()
        });
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "10.0.0.1".parse().expect("ip"),
            "10.0.0.2".parse().expect("ip"),
            "10.0.0.3".parse().expect("ip"),
        );
        let first = gate.admit(a, "x").await.expect("admitted");
        // The one verification slot is taken: the next waits its turn, then gives up.
        assert_eq!(gate.admit(a, "x").await.err(), Some(Refusal::Busy));
        assert!(matches!(
            gate.admit(a, "x").await.err(),
            Some(Refusal::RateLimited(_))
        ));
        drop(first);
        assert!(
            gate.admit(b, "y").await.is_ok(),
            "another source is not limited"
        );
        let held = gate.admit(c, "z").await.expect("admitted");
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.admit(b, "y").await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        // One running, one waiting: the queue is full, the next is refused at once.
        let started = Instant::now();
        assert_eq!(gate.admit(c, "z").await.err(), Some(Refusal::Busy));
        assert!(started.elapsed() < Duration::from_millis(40));
        drop(held);
        assert_eq!(waiting.await.expect("task"), Ok(()));
    }
}
