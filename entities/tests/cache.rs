//! The record cache against real services: PostgreSQL when `DATABASE_URL` is set (SQLite
//! otherwise), Redis when `REDIS_URL` is set. A private `redis-server` is started for the
//! outage test, so stopping it disturbs no other test.

use std::time::Duration;

use chrono::NaiveDate;
use entities::codes::Gender;
use entities::repo::persons::{Lookup, NewPerson, PersonPatch};
use entities::{Access, CacheConfig, RecordCache, Store};
use policies::{Principal, Role};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// A database of its own: a fresh PostgreSQL database, or a SQLite file.
struct Db {
    url: String,
    _dir: tempfile::TempDir,
}

async fn database() -> Db {
    let dir = tempfile::tempdir().expect("dir");
    let url = match std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    {
        Some(admin) => {
            let name = format!("izgraph_cache_{}", Uuid::new_v4().simple());
            let db = sea_orm::Database::connect(&admin).await.expect("connect");
            db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            db.close().await.ok();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            format!("{base}/{name}")
        }
        None => format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
    };
    Db { url, _dir: dir }
}

async fn instance(db: &Db, cache: CacheConfig) -> Store {
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.with_cache(RecordCache::new(cache).await)
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
    match store.person(access, id).await.expect("read") {
        Lookup::Found(p) => p.last_name,
        other => panic!("expected the person, got {other:?}"),
    }
}

fn rename(i: usize) -> PersonPatch {
    PersonPatch {
        last_name: Some(format!("v{i}")),
        ..PersonPatch::default()
    }
}

/// A unique namespace, so parallel tests on one Redis never share entries.
fn namespace() -> String {
    format!("test-{}", Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_write_is_never_followed_by_a_stale_read_on_the_same_instance() {
    let db = database().await;
    let store = instance(&db, CacheConfig::memory()).await;
    let access = admin();
    let id = new_person(&store, &access).await;
    for i in 1..=200 {
        assert_eq!(last_name(&store, &access, id).await, format!("v{}", i - 1));
        store
            .update_person(&access, id, rename(i))
            .await
            .expect("update");
        assert_eq!(last_name(&store, &access, id).await, format!("v{i}"));
    }
    let status = store.cache_status();
    assert!(
        status.memory_hits >= 199,
        "reads between writes are hits: {status:?}"
    );
}

#[tokio::test]
async fn writes_on_one_instance_are_seen_by_reads_on_another_over_redis() {
    let Some(redis) = std::env::var("REDIS_URL").ok() else {
        eprintln!("REDIS_URL not set: the two-instance test needs a shared Redis");
        return;
    };
    let db = database().await;
    let ns = namespace();
    let a = instance(&db, CacheConfig::redis(&redis, &ns)).await;
    let b = instance(&db, CacheConfig::redis(&redis, &ns)).await;
    let access = admin();
    let id = new_person(&a, &access).await;
    for i in 1..=1000 {
        // B's near cache and Redis both hold the old record before every write.
        assert_eq!(last_name(&b, &access, id).await, format!("v{}", i - 1));
        a.update_person(&access, id, rename(i))
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
        sb.memory_hits + sb.redis_hits >= 900,
        "B served its repeated reads from the cache: {sb:?}"
    );
}

/// A `redis-server` of this test's own on a free loopback port.
struct PrivateRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    fn start(port: u16) -> Option<PrivateRedis> {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(PrivateRedis {
            port,
            child: Some(child),
        })
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().ok();
            c.wait().ok();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[tokio::test]
async fn redis_dying_mid_run_fails_no_request_and_the_hit_rate_recovers() {
    let port = free_port();
    let Some(mut redis) = PrivateRedis::start(port) else {
        eprintln!("redis-server is not installed: outage test skipped");
        return;
    };
    let db = database().await;
    let mut config = CacheConfig::redis(format!("redis://127.0.0.1:{}", redis.port), namespace());
    config.timeout = Duration::from_millis(200);
    let store = instance(&db, config).await;
    let access = admin();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(new_person(&store, &access).await);
    }
    let mut round = 0;
    let run = |store: Store, access: Access, ids: Vec<Uuid>| async move {
        // Reads and a write per round; every call must succeed and read its own write.
        for id in &ids {
            store.person(&access, *id).await.expect("read never fails");
        }
        store
            .update_person(&access, ids[0], rename(999))
            .await
            .expect("write never fails");
        assert_eq!(last_name(&store, &access, ids[0]).await, "v999");
    };
    for _ in 0..20 {
        run(store.clone(), access.clone(), ids.clone()).await;
        round += 1;
    }
    let before = store.cache_status();
    assert!(
        before.healthy && before.redis_hits + before.memory_hits > 0,
        "{before:?}"
    );

    redis.stop();
    for _ in 0..20 {
        run(store.clone(), access.clone(), ids.clone()).await;
        round += 1;
    }
    let during = store.cache_status();
    assert!(!during.healthy, "the outage is noticed: {during:?}");
    assert_eq!(during.outages, 1, "one outage, reported once: {during:?}");

    let _redis = PrivateRedis::start(port).expect("restart redis");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !store.cache_status().healthy {
        assert!(
            std::time::Instant::now() < deadline,
            "the cache recovers by itself"
        );
        run(store.clone(), access.clone(), ids.clone()).await;
        round += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = store.cache_status();
    for _ in 0..20 {
        run(store.clone(), access.clone(), ids.clone()).await;
        round += 1;
    }
    let after = store.cache_status();
    let hits = |s: &entities::CacheStatus| s.memory_hits + s.redis_hits;
    let lookups = |s: &entities::CacheStatus| hits(s) + s.misses;
    let ratio = (hits(&after) - hits(&recovered)) as f64
        / (lookups(&after) - lookups(&recovered)).max(1) as f64;
    assert!(
        ratio > 0.5,
        "hit rate after recovery {ratio:.2} over {round} rounds"
    );
}
