//! The record cache against real services: PostgreSQL when `DATABASE_URL` is set (SQLite
//! otherwise); Redis at `REDIS_URL` when set, else a private `redis-server`; and a private
//! three-master Redis Cluster. Each test body takes the cache it runs on, so single-node Redis
//! and the cluster are held to the same properties. Outage tests always use private servers,
//! so stopping one disturbs no other test.
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use entities::codes::Gender;
use entities::repo::persons::{Lookup, NewPerson, PersonPatch};
use entities::{Access, CacheConfig, CacheStatus, Store};
use policies::{Principal, Role};
use support::redis_cluster::{RedisCluster, NODE_TIMEOUT_MS};
use support::redis_server::RedisServer;
use support::store::{database, instance, keys};
use uuid::Uuid;

/// Redis with a timeout generous enough that a loaded test machine is not taken for an
/// outage: these tests are about freshness, the outage tests about timeouts.
fn redis(url: &str, namespace: &str) -> CacheConfig {
    let mut config = CacheConfig::redis(url, namespace).with_keys(keys());
    config.timeout = Duration::from_secs(1);
    config
}

fn admin() -> Access {
    let p = Principal::from_claims("cache-test", Role::RegistryAdmin, None, None, None, None)
        .expect("claims");
    Access::new(
        p,
        NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"),
        "t".into(),
    )
}

async fn new_person(store: &Store, access: &Access) -> Uuid {
    store
        .create_person(
            access,
            NewPerson {
                first_name: "Ada".into(),
                middle_name: None,
                last_name: "v0".into(),
                date_of_birth: NaiveDate::from_ymd_opt(2015, 3, 1).expect("date"),
                gender: Gender::Female,
                contact: None,
            },
        )
        .await
        .expect("create")
        .id
}

async fn last_name(store: &Store, access: &Access, id: Uuid) -> String {
    match store.person(access, id).await.expect("read never fails") {
        Lookup::Found(p) => p.last_name,
        other => panic!("expected the person, got {other:?}"),
    }
}

fn rename(name: String) -> PersonPatch {
    PersonPatch {
        last_name: Some(name),
        ..PersonPatch::default()
    }
}

/// A unique namespace, so parallel tests on one Redis never share entries.
fn namespace() -> String {
    format!("test-{}", Uuid::new_v4().simple())
}

fn hits(s: &CacheStatus) -> u64 {
    s.memory_hits + s.redis_hits
}

/// Runs blocking fixture work (process starts, `redis-cli`) without stalling the runtime's
/// other tasks: the cache's connection drivers and recovery probes must keep running.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

// ---------------------------------------------------------------------------------------------
// Test bodies, one per property, each run on every cache it applies to.
// ---------------------------------------------------------------------------------------------

/// 200 writes, each followed by a read on the same instance: every read sees the write before
/// it, and the reads between writes come from the cache.
async fn same_instance_reads_its_writes(cache: CacheConfig) {
    let db = database().await;
    let store = instance(&db, cache).await;
    let access = admin();
    let id = new_person(&store, &access).await;
    for i in 1..=200 {
        assert_eq!(last_name(&store, &access, id).await, format!("v{}", i - 1));
        store
            .update_person(&access, id, rename(format!("v{i}")))
            .await
            .expect("update");
        assert_eq!(last_name(&store, &access, id).await, format!("v{i}"));
    }
    let status = store.cache_status();
    assert!(status.healthy, "{status:?}");
    assert!(
        hits(&status) >= 199,
        "reads between writes are hits: {status:?}"
    );
}

/// 1,000 writes on instance A, each followed by a read on instance B sharing Redis at `url`:
/// B never serves the record from before the write, though it holds it in its near cache and
/// in Redis at every write.
async fn two_instances_never_read_stale(url: &str) {
    let db = database().await;
    let ns = namespace();
    let a = instance(&db, redis(url, &ns)).await;
    let b = instance(&db, redis(url, &ns)).await;
    let access = admin();
    let id = new_person(&a, &access).await;
    for i in 1..=1000 {
        assert_eq!(last_name(&b, &access, id).await, format!("v{}", i - 1));
        a.update_person(&access, id, rename(format!("v{i}")))
            .await
            .expect("update");
        assert_eq!(
            last_name(&b, &access, id).await,
            format!("v{i}"),
            "write {i}"
        );
    }
    let sb = b.cache_status();
    assert!(sb.healthy, "{sb:?}");
    assert!(
        hits(&sb) >= 900,
        "B served its repeated reads from the cache: {sb:?}"
    );
}

/// How a test takes the shared tier away and brings it back.
trait Outages {
    /// The tier's URL.
    fn url(&self) -> String;
    /// How many outages to run, one after another.
    fn count(&self) -> usize;
    /// How long each outage lasts (requests keep coming meanwhile).
    fn duration(&self) -> Duration;
    fn stop(&mut self, outage: usize);
    fn restart(&mut self, outage: usize);
    /// With a cluster: a person whose keys are on the master that `outage` stops, and one whose
    /// keys are elsewhere (`ns`: namespace).
    fn split(&self, outage: usize, ns: &str, ids: &[Uuid]) -> Option<(Uuid, Uuid)>;
}

/// Two instances sharing the tier; A writes, both read. Every call must succeed and every read
/// must return the latest write, before, during and after each outage.
struct Fleet {
    a: Store,
    b: Store,
    access: Access,
    ids: Vec<Uuid>,
    names: Vec<String>,
    writes: usize,
}

impl Fleet {
    async fn write(&mut self, k: usize) {
        self.writes += 1;
        let name = format!("v{}", self.writes);
        self.a
            .update_person(&self.access, self.ids[k], rename(name.clone()))
            .await
            .expect("write never fails");
        self.names[k] = name;
    }

    async fn check(&self, store: &Store, k: usize, when: &str) {
        let got = last_name(store, &self.access, self.ids[k]).await;
        assert_eq!(
            got, self.names[k],
            "stale read of person {k} after write {} ({when})",
            self.writes
        );
    }

    /// One write, then a read of every person on B and on A, the person written first.
    async fn round(&mut self, when: &str) {
        let k = self.writes % self.ids.len();
        self.write(k).await;
        for store in [&self.b, &self.a] {
            self.check(store, k, when).await;
            for j in 0..self.ids.len() {
                self.check(store, j, when).await;
            }
        }
    }

    fn status(&self) -> (CacheStatus, CacheStatus) {
        (self.a.cache_status(), self.b.cache_status())
    }
}

async fn outages_fail_no_request_and_serve_nothing_stale(outages: &mut impl Outages) {
    let db = database().await;
    let ns = namespace();
    let config = |url: String| {
        let mut c = CacheConfig::redis(url, &ns).with_keys(keys());
        c.timeout = Duration::from_millis(200);
        c
    };
    let a = instance(&db, config(outages.url())).await;
    let b = instance(&db, config(outages.url())).await;
    let access = admin();
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(new_person(&a, &access).await);
    }
    let names = vec!["v0".to_owned(); ids.len()];
    let mut fleet = Fleet {
        a,
        b,
        access,
        ids,
        names,
        writes: 0,
    };
    for _ in 0..5 {
        fleet.round("warm-up").await;
    }
    let (sa, sb) = fleet.status();
    assert!(sa.healthy && sb.healthy && hits(&sb) > 0, "{sa:?} {sb:?}");

    for outage in 0..outages.count() {
        let split = blocking(|| outages.split(outage, &ns, &fleet.ids));
        blocking(|| outages.stop(outage));
        if let Some((down, up)) = split {
            // One master is down, the others up: A's write to a person whose records are on a
            // master that is up must be seen by B, which holds the old record there.
            fleet
                .check(&fleet.a, index(&fleet.ids, down), "A's read")
                .await;
            let k = index(&fleet.ids, up);
            fleet.write(k).await;
            fleet.check(&fleet.b, k, "B, before it noticed").await;
        }
        let until = Instant::now() + outages.duration();
        while Instant::now() < until {
            fleet.round("during the outage").await;
        }
        // Both noticed (with one master of a cluster down, the probe may find the others and
        // bring the tier back while that master's keys still fail: reads then go to the
        // database one by one).
        let (sa, sb) = fleet.status();
        assert!(
            sa.outages > outage as u64 && sb.outages > outage as u64,
            "{sa:?} {sb:?}"
        );

        blocking(|| outages.restart(outage));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (sa, sb) = fleet.status();
            if sa.healthy && sb.healthy {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cache recovers by itself: {sa:?} {sb:?}"
            );
            fleet.round("recovering").await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A restarted master comes back empty: the rounds that refill it are not measured.
        for _ in 0..3 {
            fleet.round("refilling").await;
        }
        let before = fleet.status().1;
        for _ in 0..20 {
            fleet.round("after recovery").await;
        }
        let (sa, after) = fleet.status();
        assert!(sa.healthy && after.healthy, "{sa:?} {after:?}");
        let lookups = |s: &CacheStatus| hits(s) + s.misses;
        let ratio = (hits(&after) - hits(&before)) as f64
            / (lookups(&after) - lookups(&before)).max(1) as f64;
        assert!(
            ratio > 0.8,
            "B's hit rate after outage {outage}: {ratio:.2} ({after:?})"
        );
    }
}

fn index(ids: &[Uuid], id: Uuid) -> usize {
    ids.iter().position(|i| *i == id).expect("a fleet person")
}

// ---------------------------------------------------------------------------------------------
// In-process cache.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn memory_a_write_is_never_followed_by_a_stale_read() {
    same_instance_reads_its_writes(CacheConfig::memory()).await;
}

// ---------------------------------------------------------------------------------------------
// Single-node Redis: `REDIS_URL`, or a private server.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn single_node_redis_never_serves_a_stale_record() {
    let private;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            let Some(server) = RedisServer::start() else {
                eprintln!("neither REDIS_URL nor redis-server: single-node Redis test skipped");
                return;
            };
            private = server;
            private.url()
        }
    };
    same_instance_reads_its_writes(redis(&url, &namespace())).await;
    two_instances_never_read_stale(&url).await;
}

impl Outages for RedisServer {
    fn url(&self) -> String {
        RedisServer::url(self)
    }
    fn count(&self) -> usize {
        2
    }
    fn duration(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn stop(&mut self, _: usize) {
        RedisServer::stop(self);
    }
    fn restart(&mut self, _: usize) {
        RedisServer::restart(self);
    }
    fn split(&self, _: usize, _: &str, _: &[Uuid]) -> Option<(Uuid, Uuid)> {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_redis_dying_mid_run_fails_no_request_and_recovers() {
    let Some(mut server) = RedisServer::start() else {
        eprintln!("redis-server is not installed: outage test skipped");
        return;
    };
    outages_fail_no_request_and_serve_nothing_stale(&mut server).await;
}

// ---------------------------------------------------------------------------------------------
// A three-master Redis Cluster of the test's own.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_never_serves_a_stale_record() {
    let Some(cluster) = blocking(RedisCluster::start) else {
        eprintln!("redis-server is not installed: cluster test skipped");
        return;
    };
    same_instance_reads_its_writes(redis(&cluster.node_list_url(), &namespace())).await;
    two_instances_never_read_stale(&cluster.cluster_url()).await;
}

/// Each person's records share a node (a hash tag on the id), so a master that comes
/// back empty loses them together, as a single server does; persons spread over every master.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_keeps_a_persons_keys_on_one_master_and_spreads_persons() {
    let Some(cluster) = blocking(RedisCluster::start) else {
        eprintln!("redis-server is not installed: cluster test skipped");
        return;
    };
    let db = database().await;
    let ns = namespace();
    let store = instance(&db, redis(&cluster.cluster_url(), &ns)).await;
    let access = admin();
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(new_person(&store, &access).await);
    }
    for id in &ids {
        last_name(&store, &access, *id).await;
    }
    // Fills are written off the request path: wait for every record to arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    let placement = loop {
        let placement = blocking(|| placement(&cluster, &ns, &ids));
        if ids.iter().all(|id| placement.keys[id] >= 1) {
            break placement;
        }
        assert!(
            Instant::now() < deadline,
            "every person has a record in Redis"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for id in &ids {
        assert_eq!(
            placement.nodes[id].len(),
            1,
            "person {id}'s keys are on one master"
        );
    }
    let used: HashSet<usize> = placement
        .nodes
        .values()
        .flat_map(|n| n.iter().copied())
        .collect();
    assert_eq!(used.len(), 3, "40 persons use every master");
    let status = store.cache_status();
    assert!(status.healthy, "multi-slot reads work: {status:?}");
}

/// Where the namespace's keys are.
struct Placement {
    /// The masters holding each person's keys.
    nodes: HashMap<Uuid, HashSet<usize>>,
    /// How many keys each person has.
    keys: HashMap<Uuid, usize>,
}

fn placement(cluster: &RedisCluster, ns: &str, ids: &[Uuid]) -> Placement {
    let mut p = Placement {
        nodes: ids.iter().map(|id| (*id, HashSet::new())).collect(),
        keys: ids.iter().map(|id| (*id, 0)).collect(),
    };
    for node in 0..3 {
        for key in cluster.keys_on(node, &format!("izg:{ns}:*")) {
            if let Some(id) = ids.iter().find(|id| key.contains(&id.to_string())) {
                p.nodes.get_mut(id).expect("id").insert(node);
                *p.keys.get_mut(id).expect("id") += 1;
            }
        }
    }
    p
}

/// The cluster with its URL given as a list of nodes; stopping each master in turn.
struct ClusterOutages(RedisCluster);

impl Outages for ClusterOutages {
    fn url(&self) -> String {
        self.0.node_list_url()
    }
    fn count(&self) -> usize {
        3
    }
    fn duration(&self) -> Duration {
        // Long enough for both phases: only the stopped master's slots failing, then every
        // key refused once the survivors have marked it failed.
        Duration::from_millis(3 * NODE_TIMEOUT_MS)
    }
    fn stop(&mut self, outage: usize) {
        self.0.stop_node(outage);
    }
    fn restart(&mut self, outage: usize) {
        self.0.restart_node(outage);
    }
    fn split(&self, outage: usize, ns: &str, ids: &[Uuid]) -> Option<(Uuid, Uuid)> {
        let p = placement(&self.0, ns, ids);
        let on = |pred: &dyn Fn(usize) -> bool| {
            ids.iter()
                .copied()
                .find(|id| p.nodes[id].iter().all(|n| pred(*n)) && !p.nodes[id].is_empty())
        };
        Some((on(&|n| n == outage)?, on(&|n| n != outage)?))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_master_dying_mid_run_fails_no_request_and_recovers() {
    let Some(cluster) = blocking(RedisCluster::start) else {
        eprintln!("redis-server is not installed: cluster outage test skipped");
        return;
    };
    let mut outages = ClusterOutages(cluster);
    outages_fail_no_request_and_serve_nothing_stale(&mut outages).await;
}

/// A Redis reply that comes late is a read the database answers, not an outage: a saturated
/// gateway sees its own scheduling delay as slowness, and every outage retires the whole cache
/// on its return. Three slow reads in a row are one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_redis_read_is_not_an_outage_and_a_run_of_them_is() {
    let Some(server) = RedisServer::start() else {
        eprintln!("redis-server is not installed: slow-read test skipped");
        return;
    };
    let db = database().await;
    let mut config = CacheConfig::redis(server.url(), namespace()).with_keys(keys());
    config.timeout = Duration::from_millis(100);
    config.near_cache = false;
    let store = instance(&db, config).await;
    let access = admin();
    let id = new_person(&store, &access).await;
    let read = || async {
        let started = Instant::now();
        let found = store.person(&access, id).await.expect("read");
        assert!(matches!(found, Lookup::Found(_)), "the database answers");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "bounded by the timeout"
        );
    };
    read().await;

    server.pause();
    let before = store.cache_status();
    read().await;
    let after = store.cache_status();
    assert!(
        after.errors > before.errors,
        "the read went to Redis and timed out"
    );
    assert!(
        after.healthy,
        "one slow read took the cache down: {after:?}"
    );
    assert_eq!(after.outages, 0);
    for _ in 0..3 {
        read().await;
    }
    let down = store.cache_status();
    assert!(!down.healthy, "a run of slow reads is an outage: {down:?}");
    assert_eq!(down.outages, 1);

    server.resume();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !store.cache_status().healthy {
        assert!(
            Instant::now() < deadline,
            "the probe did not bring the cache back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    read().await;
}
