//! Read replicas: scans are served by a real streaming replica (`pg_basebackup` of a private
//! primary), and a writer reads its own writes — on the instance it wrote through, and, with
//! Redis, on another instance of the same registry.

use std::time::{Duration, Instant};

use gateway::auth::TokenRequest;
use gateway::config::Secret;
use policies::Role;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::pg_cluster::PgCluster;
use crate::support::TestApp;

const SEARCH: &str =
    "query($f: PersonFilter!) { persons(filter: $f) { edges { node { id firstName } } } }";

async fn found(app: &TestApp, token: &str, last: &str) -> Vec<String> {
    let data = app
        .ok(token, SEARCH, json!({ "f": { "lastName": last } }))
        .await;
    data["persons"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["firstName"].as_str().expect("name").to_owned())
        .collect()
}

fn admin_as(app: &TestApp, subject: &str) -> String {
    app.token(TokenRequest {
        subject: Some(subject.to_owned()),
        ..TokenRequest::new(Role::RegistryAdmin)
    })
}

async fn create(app: &TestApp, token: &str, first: &str, last: &str) {
    let body: Value = app
        .ok(
            token,
            "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
            json!({ "i": { "firstName": first, "lastName": last, "dateOfBirth": "2015-05-05", "gender": "MALE" } }),
        )
        .await;
    assert!(body["createPerson"]["id"].is_string());
}

/// Waits until `check` holds, or fails after `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_are_served_by_the_replica_and_writers_read_their_writes() {
    let primary = tokio::task::spawn_blocking(PgCluster::start)
        .await
        .expect("primary");
    primary.create_database("izgraph").await;
    let (primary, replica) = tokio::task::spawn_blocking(move || {
        let r = primary.replica();
        (primary, r)
    })
    .await
    .expect("replica");
    let (write_url, read_url) = (primary.url("izgraph"), replica.url("izgraph"));
    let redis = std::env::var("REDIS_URL").ok();
    // Both instances share one Redis namespace, as instances of one registry do.
    let namespace = format!("replica-{}", uuid::Uuid::new_v4().simple());
    let configure = |s: &mut gateway::Settings| {
        s.database_url = Some(Secret::new(write_url.clone()));
        s.database_read_url = Some(Secret::new(read_url.clone()));
        s.redis_url = redis.clone().map(Secret::new);
        s.cache.namespace = Some(namespace.clone());
    };
    let a = TestApp::spawn_with(configure).await;
    let writer = admin_as(&a, "writer@registry");
    let other = admin_as(&a, "reader@registry");

    // The replica streams what the primary writes.
    create(&a, &writer, "Before", "Replicated").await;
    eventually(
        Duration::from_secs(20),
        "the replica catches up",
        || async { found(&a, &other, "Replicated").await == ["Before"] },
    )
    .await;

    // With replay paused, the replica stays behind: a scan that sees a new write was served
    // by the primary, one that does not was served by the replica.
    let standby = sea_orm::Database::connect(replica.url("izgraph"))
        .await
        .expect("connect to the replica");
    standby
        .execute_unprepared("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replay");
    create(&a, &writer, "After", "Replicated").await;
    assert_eq!(
        found(&a, &writer, "Replicated").await,
        ["After", "Before"],
        "the writer reads its own write (from the primary)"
    );
    assert_eq!(
        found(&a, &other, "Replicated").await,
        ["Before"],
        "another principal's scan is served by the (paused) replica"
    );

    // A second instance of the same registry: with Redis, it knows of the writer's pin.
    if redis.is_some() {
        let b = TestApp::spawn_with(configure).await;
        let writer_b = admin_as(&b, "writer@registry");
        let other_b = admin_as(&b, "reader@registry");
        assert_eq!(
            found(&b, &writer_b, "Replicated").await,
            ["After", "Before"],
            "the writer reads its own write through another instance"
        );
        assert_eq!(found(&b, &other_b, "Replicated").await, ["Before"]);
    }

    standby
        .execute_unprepared("SELECT pg_wal_replay_resume()")
        .await
        .expect("resume replay");
    eventually(Duration::from_secs(20), "replay resumes", || async {
        found(&a, &other, "Replicated").await == ["After", "Before"]
    })
    .await;

    // Access-log appends go to the primary (a replica refuses writes): reads were logged.
    let admin = a.admin();
    let log = a
        .ok(
            &admin,
            "{ accessLog(first: 5) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    assert!(!log["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .is_empty());
    standby.close().await.ok();
}
