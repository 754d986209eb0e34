//! Access-log appends: one entry alone (a read waits for its commit), and 64 concurrent
//! entries (what group commit does under load). SQLite in a temporary directory, or the
//! PostgreSQL server of `DATABASE_URL` (a scratch database is created and dropped).
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

use std::time::Duration;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use entities::codes::AccessAction;
use entities::repo::access_log::NewEntry;
use entities::{Access, Store};
use policies::{Principal, Role};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let (url, cleanup) = match std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    {
        Some(admin) => {
            let name = format!("izgraph_bench_{}", Uuid::new_v4().simple());
            rt.block_on(async {
                let db = sea_orm::Database::connect(&admin).await.expect("connect");
                db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create");
            });
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(b, _)| b)
                .to_owned();
            (format!("{base}/{name}"), Some((admin, name)))
        }
        None => (
            format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
            None,
        ),
    };
    let store = rt.block_on(async {
        let store = Store::connect(&url, 16).await.expect("store");
        store.migrate().await.expect("migrate");
        store
    });
    let principal = Principal::from_claims(
        "bench",
        Role::Provider,
        Some(Uuid::from_u128(7)),
        None,
        None,
        None,
    )
    .expect("claims");
    let today: NaiveDate = "2026-11-25".parse().expect("date");
    let access = Access::new(principal, today, "bench".into());
    let entry = || {
        NewEntry::allowed(
            AccessAction::Read,
            vec![Uuid::now_v7()],
            vec!["identity".into(), "doses".into()],
        )
    };
    let backend = if cleanup.is_some() {
        "postgres"
    } else {
        "sqlite"
    };

    let mut group = c.benchmark_group(format!("access_log/{backend}"));
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(1));
    group.bench_function("one append, committed", |b| {
        b.to_async(&rt)
            .iter(|| async { store.log_access(&access, entry()).await.expect("append") })
    });
    group.throughput(Throughput::Elements(64));
    group.bench_function("64 concurrent appends (group commit)", |b| {
        b.to_async(&rt).iter(|| async {
            let appends = (0..64).map(|_| store.log_access(&access, entry()));
            for r in futures::future::join_all(appends).await {
                r.expect("append");
            }
        })
    });
    group.finish();
    if let Some((admin, name)) = cleanup {
        rt.block_on(async {
            store.connection().clone().close().await.ok();
            let db = sea_orm::Database::connect(&admin).await.expect("connect");
            db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
