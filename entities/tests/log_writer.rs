//! The access log's group commit: an entry the database refuses fails its own request only,
//! not the others that happened to share its transaction, and leaves the chain intact.
//!
//! Needs PostgreSQL (`DATABASE_URL`): the refusal used is a subject longer than its column,
//! which SQLite does not enforce. On SQLite the test says so and passes.
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

use chrono::NaiveDate;
use entities::codes::AccessAction;
use entities::repo::access_log::{ChainReport, NewEntry};
use entities::{Access, Store, StoreError};
use policies::{Principal, Role};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

fn access(subject: &str) -> Access {
    let mut p =
        Principal::from_claims("log-test", Role::Auditor, None, None, None, None).expect("claims");
    // Built past `from_claims`, which would refuse it: the writer must cope with whatever
    // reaches it.
    p.subject = subject.to_owned();
    Access::new(
        p,
        NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
        "log-test".into(),
    )
}

#[tokio::test]
async fn a_refused_entry_fails_alone_and_its_batch_is_committed() {
    let Some(admin) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    else {
        eprintln!("skipped: needs DATABASE_URL=postgres://… (SQLite enforces no column length)");
        return;
    };
    let name = format!("izgraph_log_{}", Uuid::new_v4().simple());
    let server = sea_orm::Database::connect(&admin).await.expect("connect");
    server
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let store = Store::connect(&format!("{base}/{name}"), 4)
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");

    let good: Vec<Access> = (0..40).map(|i| access(&format!("reader-{i}"))).collect();
    let bad = access(&"x".repeat(policies::MAX_SUBJECT_CHARS + 1));
    let entry = || NewEntry::allowed(AccessAction::Search, Vec::new(), vec!["name".into()]);
    // All at once, so the writer takes them as one batch.
    let (bad_result, good_results) = tokio::join!(
        store.log_access(&bad, entry()),
        futures::future::join_all(good.iter().map(|a| store.log_access(a, entry()))),
    );
    assert!(
        matches!(bad_result, Err(StoreError::Database(_))),
        "the refused entry is the caller's error, not an outage: {bad_result:?}"
    );
    for (i, r) in good_results.iter().enumerate() {
        assert!(r.is_ok(), "entry {i} failed with its neighbour: {r:?}");
    }
    assert_eq!(
        store.verify_access_log().await.expect("verify"),
        ChainReport::Intact { entries: 40 }
    );
    assert!(store.is_available(), "a refused entry is no outage");

    store.connection().clone().close().await.ok();
    server
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
}
