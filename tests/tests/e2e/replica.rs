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

const CONSENT: &str =
    "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { reminders } }";

/// Names a principal's search finds.
async fn names(app: &TestApp, token: &str, last: &str) -> Vec<String> {
    let data = app
        .ok(
            token,
            "query($f: PersonFilter!) { persons(filter: $f) { edges { node { id firstName } } } }",
            json!({ "f": { "lastName": last } }),
        )
        .await;
    data["persons"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["firstName"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// Authorization facts are never decided on a lagging replica: with replay paused, a lock,
/// an opt-out and a removed guardian link made on the primary hold for scans at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_never_decide_access_on_a_lagging_replica() {
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
    let a = TestApp::spawn_with(|s| {
        s.database_url = Some(Secret::new(write_url.clone()));
        s.database_read_url = Some(Secret::new(read_url.clone()));
        s.replica_max_lag = Duration::from_secs(5);
    })
    .await;
    let clinic_a = a.create_org("Clinic A", "CLINIC").await;
    let clinic_b = a.create_org("Clinic B", "CLINIC").await;
    let (pa, pb) = (a.provider(&clinic_a), a.provider(&clinic_b));
    let locked = a
        .create_person(&pa, "Locked", "Lagging", "2018-04-04")
        .await;
    let opted = a.create_person(&pa, "Opted", "Lagging", "2018-04-04").await;
    let ward = a.create_person(&pa, "Ward", "Lagging", "2018-04-04").await;
    let parent = a.create_person(&pa, "Parent", "Elder", "1985-01-01").await;
    let primary_db = sea_orm::Database::connect(&write_url)
        .await
        .expect("connect to the primary");
    primary_db
        .execute_unprepared(&format!(
            // Verified, so the link would grant access if the replica's copy were trusted.
            "INSERT INTO guardian_links \
             (id, person_id, guardian_id, relationship, created_at, verified_at, verified_by) \
             VALUES ('{}', '{ward}', '{parent}', 'mother', now(), now(), 'birth-record')",
            uuid::Uuid::new_v4()
        ))
        .await
        .expect("link the guardian");
    let guardian = a.token(TokenRequest::new(Role::Guardian).person(parent.parse().expect("id")));
    eventually(
        Duration::from_secs(20),
        "the replica catches up",
        || async {
            names(&a, &pb, "Lagging").await == ["Locked", "Opted", "Ward"]
                && names(&a, &guardian, "Lagging").await == ["Ward"]
        },
    )
    .await;

    let standby = sea_orm::Database::connect(&read_url)
        .await
        .expect("connect to the replica");
    standby
        .execute_unprepared("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replay");
    let paused = Instant::now();
    a.ok(
        &pa,
        CONSENT,
        json!({ "p": locked, "i": { "lockedToId": clinic_a, "channel": "PROVIDER" } }),
    )
    .await;
    a.ok(
        &pa,
        CONSENT,
        json!({ "p": opted, "i": { "participation": "OPTED_OUT", "channel": "FORM" } }),
    )
    .await;
    primary_db
        .execute_unprepared(&format!(
            "DELETE FROM guardian_links WHERE person_id = '{ward}'"
        ))
        .await
        .expect("unlink the guardian");
    // The replica still has the old facts...
    let stale: i64 = standby
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT count(*) AS n FROM guardian_links WHERE person_id = '{ward}'"),
        ))
        .await
        .expect("query the replica")
        .expect("row")
        .try_get("", "n")
        .expect("count");
    assert_eq!(stale, 1, "replay is paused");
    // ...and none of them is served.
    assert_eq!(
        names(&a, &pb, "Lagging").await,
        ["Ward"],
        "provider B finds neither the child locked to A nor the opted-out person"
    );
    assert!(
        names(&a, &guardian, "Lagging").await.is_empty(),
        "a guardian link present only on the replica gives nothing"
    );
    assert!(
        paused.elapsed() < Duration::from_secs(4),
        "the scans above ran while the replica was within its lag bound (in use)"
    );
    // Past the lag bound the replica is left out: a new record is found (on the primary)
    // although replay is still paused.
    a.create_person(&pa, "Fresh", "Lagging", "2019-01-01").await;
    eventually(
        Duration::from_secs(20),
        "scans leave a replica past its lag bound",
        || async {
            names(&a, &pb, "Lagging")
                .await
                .contains(&"Fresh".to_owned())
        },
    )
    .await;
    standby
        .execute_unprepared("SELECT pg_wal_replay_resume()")
        .await
        .expect("resume replay");
    standby.close().await.ok();
    primary_db.close().await.ok();
}

/// A read URL that is not a streaming standby of the primary (here a second database on the
/// primary's own cluster) is refused at start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_url_that_is_not_a_standby_of_the_primary_is_refused() {
    let primary = tokio::task::spawn_blocking(PgCluster::start)
        .await
        .expect("primary");
    primary.create_database("izgraph").await;
    primary.create_database("copy").await;
    let other = tokio::task::spawn_blocking(PgCluster::start)
        .await
        .expect("another cluster");
    other.create_database("izgraph").await;
    for (what, read) in [
        ("a database on the primary itself", primary.url("copy")),
        ("an unrelated cluster", other.url("izgraph")),
    ] {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let settings = gateway::Settings {
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: data_dir.path().to_owned(),
            seed_demo: false,
            max_connections: 2,
            database_url: Some(Secret::new(primary.url("izgraph"))),
            database_read_url: Some(Secret::new(read)),
            ..gateway::Settings::default()
        };
        match gateway::Application::build(settings).await {
            Ok(_) => panic!("{what} was accepted as a read replica"),
            Err(e) => assert!(
                e.to_string().contains("standby"),
                "{what}: the refusal says why: {e}"
            ),
        }
    }
}
