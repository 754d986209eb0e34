//! `/metrics`: requests by operation and outcome, their latency, policy denials, cache
//! look-ups and the database pool, as Prometheus reads them.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{error_code, TestApp};

async fn post(app: &TestApp, body: Value) -> Value {
    app.client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(app.admin())
        .json(&body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn metrics_count_requests_denials_cache_lookups_and_the_pool() {
    let app =
        TestApp::spawn_with(|s| s.metrics_operations = vec!["Me".into(), "Sneak".into()]).await;
    let query = "query Me { me { role } }";
    post(&app, json!({ "query": query })).await;
    // A name the client chose is not a label: it could carry anything (a patient's name).
    post(
        &app,
        json!({ "query": "query Smith_John_DOB_2015_03_21 { me { role } }" }),
    )
    .await;
    post(&app, json!({ "query": query })).await;
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let by_hash = |hash: &str| json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    post(&app, json!({ "extensions": by_hash(&hash) })).await;
    post(
        &app,
        json!({ "query": query, "extensions": by_hash(&hash) }),
    )
    .await;
    post(&app, json!({ "extensions": by_hash(&hash) })).await;
    let plan = app.create_org("Plan", "HEALTH_PLAN").await;
    let plan_token = app.token(
        gateway::auth::TokenRequest::new(policies::Role::HealthPlan)
            .org(plan.parse().expect("uuid")),
    );
    let refused = app
        .gql(
            &plan_token,
            "mutation Sneak { createOrganization(input: { name: \"X\", kind: CLINIC }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));

    let resp = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("text");
    for line in [
        "izgraph_graphql_requests_total{operation=\"Me\",outcome=\"ok\"} 4",
        "izgraph_graphql_requests_total{operation=\"Sneak\",outcome=\"partial_errors\"} 1",
        "izgraph_graphql_requests_total{operation=\"anonymous\",outcome=\"rejected\"} 1",
        "izgraph_graphql_requests_total{operation=\"other\",outcome=\"ok\"} 1",
        "izgraph_policy_denials_total{role=\"health_plan\",rule=\"registry_reference_data\"} 1",
        "izgraph_cache_requests_total{cache=\"apq\",result=\"miss\"} 1",
        "izgraph_cache_requests_total{cache=\"apq\",result=\"hit\"} 1",
        "izgraph_db_pool_connections{state=\"max\"} 5",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(
        text.lines().any(|l| l.starts_with(
            "izgraph_graphql_request_duration_seconds_count{operation=\"Me\",outcome=\"ok\"} 4"
        )),
        "{text}"
    );
    assert!(!text.contains("Smith_John"), "{text}");
}

/// `IZGRAPH_METRICS_LISTEN`: `/metrics` is served there, and not where clients reach.
#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let listen = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listen.local_addr().expect("addr");
    drop(listen);
    let app = TestApp::spawn_with(|s| s.metrics_listen = Some(addr)).await;
    post(&app, json!({ "query": "{ me { role } }" })).await;
    let main = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(main.status(), 404);
    let text = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("izgraph_graphql_requests_total{operation=\"anonymous\",outcome=\"ok\"} 1"),
        "{text}"
    );
}
