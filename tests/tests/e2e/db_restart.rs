//! PostgreSQL restarted under write load: requests in the gap fail fast with 503
//! `SERVICE_UNAVAILABLE`, izgraph recovers by itself within seconds of the database's return,
//! and every dose it acknowledged is stored.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use gateway::config::Secret;
use serde_json::json;
use tokio::sync::Mutex;

use crate::pg_cluster::PgCluster;
use crate::support::TestApp;

const CLIENTS: usize = 8;

/// What the clients saw, in order.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    /// (when it was sent, how long it took, HTTP status, error code).
    failures: Vec<(Instant, Duration, u16, String)>,
    successes: Vec<Instant>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_doses_survive_a_postgres_restart_and_the_gap_is_503() {
    let cluster = Arc::new(
        tokio::task::spawn_blocking(PgCluster::start)
            .await
            .expect("start"),
    );
    cluster.create_database("izgraph").await;
    let url = cluster.url("izgraph");
    let app = TestApp::spawn_with(|s| {
        s.database_url = Some(Secret::new(url.clone()));
        s.max_connections = 8;
    })
    .await;
    let org = app.create_org("Restart Clinic", "CLINIC").await;
    let token = app.provider(&org);
    let mut persons = Vec::new();
    for i in 0..CLIENTS {
        persons.push(
            app.create_person(&token, "Restart", &format!("Child{i}"), "2012-01-01")
                .await,
        );
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = Arc::new(app);
    let mut clients = Vec::new();
    for (c, person) in persons.iter().cloned().enumerate() {
        let (app, token, seen, stop) = (app.clone(), token.clone(), seen.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let first = NaiveDate::from_ymd_opt(2012, 2, 1).expect("date");
            let mut day = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let date = first + chrono::Duration::days(day);
                day += 1;
                let sent = Instant::now();
                let resp = app
                    .client
                    .post(format!("{}/graphql", app.base))
                    .bearer_auth(&token)
                    .json(&json!({
                        "query": "mutation($i: DoseInput!) { recordDose(input: $i) { stored dose { id } } }",
                        "variables": { "i": { "personId": person, "cvx": "08", "dateGiven": date.to_string() } }
                    }))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .expect("the gateway answers during the restart");
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.expect("a JSON body");
                let took = sent.elapsed();
                let mut s = seen.lock().await;
                match body["data"]["recordDose"]["dose"]["id"].as_str() {
                    Some(id) if status == 200 && body.get("errors").is_none() => {
                        assert_eq!(body["data"]["recordDose"]["stored"], true, "client {c}");
                        s.acknowledged.push(id.to_owned());
                        s.successes.push(sent);
                    }
                    _ => {
                        let code = body["errors"][0]["extensions"]["code"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned();
                        s.failures.push((sent, took, status, code));
                        drop(s);
                        // A client backs off a little, as a real one would.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = seen.lock().await.acknowledged.len();
    assert!(before > 0, "writes succeed before the restart");

    let c = cluster.clone();
    tokio::task::spawn_blocking(move || {
        c.stop_server();
        std::thread::sleep(Duration::from_secs(2));
    })
    .await
    .expect("stop");
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start_server())
        .await
        .expect("start");
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }

    let seen = seen.lock().await;
    assert!(!seen.failures.is_empty(), "the restart was noticed");
    for (_, took, status, code) in &seen.failures {
        assert_eq!(
            (*status, code.as_str()),
            (503, "SERVICE_UNAVAILABLE"),
            "every failure in the gap is a 503"
        );
        assert!(
            *took < Duration::from_millis(3_500),
            "failures are fast (the pool's acquire timeout at most): {took:?}"
        );
    }
    let fast = seen
        .failures
        .iter()
        .filter(|f| f.1 < Duration::from_millis(100))
        .count();
    assert!(
        fast * 2 > seen.failures.len(),
        "most failures are immediate once the outage is known: {fast} of {}",
        seen.failures.len()
    );
    let recovered = seen
        .successes
        .iter()
        .filter(|t| **t >= back)
        .min()
        .copied()
        .expect("writes succeed again after the restart");
    let gap = recovered.saturating_duration_since(back);
    assert!(
        gap <= Duration::from_secs(5),
        "writes succeed within 5 s of PostgreSQL's return: {gap:?}"
    );

    // Every acknowledged dose is stored.
    let admin = app.admin();
    let mut stored = std::collections::HashSet::new();
    for person in &persons {
        let data = app
            .ok(
                &admin,
                "query($id: ID!) { person(id: $id) { doses { id } } }",
                json!({ "id": person }),
            )
            .await;
        for d in data["person"]["doses"].as_array().expect("doses") {
            stored.insert(d["id"].as_str().expect("id").to_owned());
        }
    }
    let missing: Vec<&String> = seen
        .acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but missing: {missing:?}");
    println!(
        "restart: {} acknowledged ({} before), {} failed fast with 503, first success {:?} after PostgreSQL's return",
        seen.acknowledged.len(),
        before,
        seen.failures.len(),
        gap
    );
}
