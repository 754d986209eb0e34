//! Admission to the token endpoint's secret checks: a token bucket per source address and per
//! client id, then a bounded queue, shared fairly between sources, in front of the few Argon2
//! verifications that run at once.
//!
//! A flood of bad secrets from one source is answered `429` (with `Retry-After`) without
//! hashing; what its bucket does admit (a burst, then a steady rate) and a flood from many
//! sources wait in the queue, and what does not fit is answered `503` at once instead of
//! waiting behind it.
//!
//! The queue is fair between sources, because a first-come queue is not enough: one source's
//! burst (8 places) sat ahead of every other client, and a few sources together kept it full,
//! so a good client waited for a dozen verifications or was turned away (issue 23 hole 7: 2.2 s
//! against 0.12 s alone). So a freed verification slot goes to the waiting source with the
//! fewest verifications running (the earliest request first among equals), and when the queue
//! is full a newcomer takes the place of the newest request of the source with the most
//! waiting. A good client from another source then waits for at most the verifications already
//! running, however many requests the attackers have queued.
//!
//! Buckets live in bounded caches (moka), so the set of addresses and ids an attacker can make
//! the gateway remember is bounded too; an evicted bucket starts full, which only forgets a
//! client's earlier requests.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

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
    /// Requests that may wait for a verification; beyond, `503` at once (or the newest request
    /// of the source with the most waiting makes room, see the module docs).
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

/// What a waiting request is told: its turn to verify (`true`), or that it lost its place to
/// another source's request (`false`).
type Turn = oneshot::Sender<bool>;

/// A request waiting for a verification slot.
#[derive(Debug)]
struct Waiter {
    /// Arrival order, across sources.
    seq: u64,
    turn: Turn,
}

/// The verification slots and the requests waiting for them, by source.
#[derive(Debug, Default)]
struct Slots {
    running: usize,
    running_by: HashMap<IpAddr, usize>,
    waiting: HashMap<IpAddr, VecDeque<Waiter>>,
    waiting_total: usize,
    next_seq: u64,
    /// When each source with requests running or waiting last started one (in `next_seq`
    /// units): among sources with as many running, the one served longest ago goes first.
    last_start: HashMap<IpAddr, u64>,
}

impl Slots {
    fn start(&mut self, source: IpAddr) {
        self.running += 1;
        *self.running_by.entry(source).or_default() += 1;
        self.last_start.insert(source, self.next_seq);
        self.next_seq += 1;
    }

    fn finish(&mut self, source: IpAddr) {
        self.running = self.running.saturating_sub(1);
        if let Some(n) = self.running_by.get_mut(&source) {
            *n -= 1;
            if *n == 0 {
                self.running_by.remove(&source);
            }
        }
        self.forget_if_idle(source);
    }

    /// Drops what is kept about a source with nothing running or waiting, so the maps hold
    /// only the sources the queue and slots hold.
    fn forget_if_idle(&mut self, source: IpAddr) {
        if !self.running_by.contains_key(&source) && !self.waiting.contains_key(&source) {
            self.last_start.remove(&source);
        }
    }

    fn waiting_of(&self, source: IpAddr) -> usize {
        self.waiting.get(&source).map_or(0, VecDeque::len)
    }

    /// Takes the request `seq` of `source` out of the queue; false when it is no longer there.
    fn withdraw(&mut self, source: IpAddr, seq: u64) -> bool {
        let Some(queue) = self.waiting.get_mut(&source) else {
            return false;
        };
        let Some(at) = queue.iter().position(|w| w.seq == seq) else {
            return false;
        };
        queue.remove(at);
        if queue.is_empty() {
            self.waiting.remove(&source);
        }
        self.waiting_total -= 1;
        self.forget_if_idle(source);
        true
    }

    /// The next waiting request to run: of the source with the fewest verifications running,
    /// among equals the one that started one longest ago (a source new to the queue first),
    /// and its earliest request.
    fn pop_next(&mut self) -> Option<(IpAddr, Waiter)> {
        let source = self
            .waiting
            .iter()
            .filter_map(|(s, q)| q.front().map(|w| (*s, w.seq)))
            .min_by_key(|(s, seq)| {
                (
                    self.running_by.get(s).copied().unwrap_or(0),
                    self.last_start.get(s).map(|t| t + 1).unwrap_or(0),
                    *seq,
                )
            })
            .map(|(s, _)| s)?;
        let queue = self.waiting.get_mut(&source)?;
        let waiter = queue.pop_front()?;
        if queue.is_empty() {
            self.waiting.remove(&source);
        }
        self.waiting_total -= 1;
        Some((source, waiter))
    }

    /// Hands free slots to waiting requests (skipping those whose request was dropped).
    fn dispatch(&mut self, concurrent: usize) {
        while self.running < concurrent {
            let Some((source, waiter)) = self.pop_next() else {
                return;
            };
            self.start(source);
            if waiter.turn.send(true).is_err() {
                self.finish(source);
            }
        }
    }

    /// Makes room for a request from `source` in a full queue: the newest request of the
    /// source with the most waiting, if it has more waiting than `source` would with this one,
    /// loses its place (and is answered `503`).
    fn make_room_for(&mut self, source: IpAddr) -> bool {
        let mine = self.waiting_of(source) + 1;
        let Some((victim, _)) = self
            .waiting
            .iter()
            .map(|(s, q)| (*s, q.len()))
            .filter(|(_, n)| *n > mine)
            .max_by_key(|(s, n)| {
                (
                    *n,
                    self.waiting.get(s).and_then(|q| q.back()).map(|w| w.seq),
                )
            })
        else {
            return false;
        };
        let Some(queue) = self.waiting.get_mut(&victim) else {
            return false;
        };
        let Some(evicted) = queue.pop_back() else {
            return false;
        };
        if queue.is_empty() {
            self.waiting.remove(&victim);
        }
        self.waiting_total -= 1;
        let _ = evicted.turn.send(false);
        true
    }
}

/// Admission control for the token endpoint; clones share it.
#[derive(Debug, Clone)]
pub struct Gate {
    limits: Limits,
    sources: Buckets<IpAddr>,
    clients: Buckets<String>,
    slots: Arc<Mutex<Slots>>,
}

/// An admitted request: holds its verification slot until dropped.
#[derive(Debug)]
pub struct Admitted {
    gate: Gate,
    source: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.gate.release(self.source);
    }
}

/// A place in the queue: withdrawn if the request stops waiting (timeout, or the client went
/// away and the handler was dropped), and its slot given back if one came too late.
struct Place {
    gate: Gate,
    source: IpAddr,
    seq: u64,
    turn: Option<oneshot::Receiver<bool>>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let Some(mut turn) = self.turn.take() else {
            return;
        };
        let mut slots = self.gate.lock();
        if !slots.withdraw(self.source, self.seq) && turn.try_recv() == Ok(true) {
            // Given a slot after it stopped waiting: pass it on.
            slots.finish(self.source);
            slots.dispatch(self.gate.limits.concurrent.max(1));
        }
    }
}

impl Gate {
    pub fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            sources: buckets(),
            clients: buckets(),
            slots: Arc::new(Mutex::new(Slots::default())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn release(&self, source: IpAddr) {
        let mut slots = self.lock();
        slots.finish(source);
        slots.dispatch(self.limits.concurrent.max(1));
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
        let admitted = || Admitted {
            gate: self.clone(),
            source,
        };
        let mut place = {
            let mut slots = self.lock();
            if slots.running < self.limits.concurrent.max(1) && slots.waiting_total == 0 {
                slots.start(source);
                return Ok(admitted());
            }
            if slots.waiting_total >= self.limits.queued && !slots.make_room_for(source) {
                return Err(Refusal::Busy);
            }
            let (turn, told) = oneshot::channel();
            let seq = slots.next_seq;
            slots.next_seq += 1;
            slots
                .waiting
                .entry(source)
                .or_default()
                .push_back(Waiter { seq, turn });
            slots.waiting_total += 1;
            Place {
                gate: self.clone(),
                source,
                seq,
                turn: Some(told),
            }
        };
        let Some(told) = place.turn.as_mut() else {
            return Err(Refusal::Busy);
        };
        match tokio::time::timeout(self.limits.max_wait, told).await {
            Ok(Ok(true)) => {
                place.turn = None;
                Ok(admitted())
            }
            Ok(_) => {
                place.turn = None;
                Err(Refusal::Busy)
            }
            // `place` is dropped: withdrawn, or its late slot passed on.
            Err(_) => Err(Refusal::Busy),
        }
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

    /// A source with nothing running is served before another source's earlier requests, and
    /// takes the place of that source's newest when the queue is full.
    #[tokio::test]
    async fn the_queue_is_shared_fairly_between_sources() {
        let gate = Gate::new(Limits {
            per_source: Rate {
                burst: 100.0,
                per_second: 0.001,
            },
            per_client: Rate {
                burst: 100.0,
                per_second: 0.001,
            },
            concurrent: 1,
            queued: 3,
            max_wait: Duration::from_secs(10),
        });
        let (a, b): (IpAddr, IpAddr) = (
            "10.0.0.1".parse().expect("ip"),
            "10.0.0.2".parse().expect("ip"),
        );
        let running = gate.admit(a, "x").await.expect("admitted");
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for (i, source) in [(0, a), (1, a), (2, a), (3, b)] {
            let (gate, order) = (gate.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let admitted = gate.admit(source, "x").await;
                if let Ok(held) = admitted {
                    order.lock().expect("lock").push(i);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    drop(held);
                    Ok(())
                } else {
                    admitted.map(|_| ())
                }
            }));
            // Arrival order is the order of the loop.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(running);
        let results: Vec<_> = futures_util::future::join_all(waiting)
            .await
            .into_iter()
            .map(|r| r.expect("task"))
            .collect();
        // b's request took the place of a's newest (the queue holds 3), and ran first.
        assert_eq!(results, vec![Ok(()), Ok(()), Err(Refusal::Busy), Ok(())]);
        assert_eq!(*order.lock().expect("lock"), vec![3, 0, 1]);
        assert!(
            gate.lock().last_start.is_empty(),
            "nothing kept about idle sources"
        );
        // Every slot was given back: the next request runs at once.
        let started = Instant::now();
        drop(gate.admit(b, "y").await.expect("admitted"));
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    /// A request that stops waiting (its client went away) gives up its place, and a slot
    /// handed to it too late is passed on.
    #[tokio::test]
    async fn a_request_that_stops_waiting_leaves_nothing_behind() {
        let gate = Gate::new(Limits {
            concurrent: 1,
            queued: 1,
            max_wait: Duration::from_millis(30),
            ..Limits::default()
        });
        let (a, b): (IpAddr, IpAddr) = (
            "10.0.0.1".parse().expect("ip"),
            "10.0.0.2".parse().expect("ip"),
        );
        let held = gate.admit(a, "x").await.expect("admitted");
        let abandoned = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.admit(b, "y").await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        abandoned.abort();
        let _ = abandoned.await;
        assert_eq!(
            gate.lock().waiting_total,
            0,
            "the aborted request's place is free"
        );
        // Timed out while waiting: its place is free too.
        assert_eq!(gate.admit(b, "y").await.err(), Some(Refusal::Busy));
        assert_eq!(gate.lock().waiting_total, 0);
        drop(held);
        assert_eq!(gate.lock().running, 0);
        drop(gate.admit(a, "x").await.expect("admitted"));
        assert_eq!(gate.lock().running, 0);
    }
}
