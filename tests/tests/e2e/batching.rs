//! Batch loading: a query over N persons with every relation costs the same number of
//! database statements for 10 persons as for 200, and a batch of records costs one statement
//! however many relations a record holds (a relation loaded on its own again would show here).

use entities::seed::SeedOptions;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::support::TestApp;

const WIDE: &str =
    "query($n: Int) { persons(filter: { lastName: \"Batch\" }, first: $n) { edges { node {
    id firstName gender contact { city }
    doses { dateGiven vaccine { cvx } administeredBy { name } reportedBy { name } }
    guardians { relationship person { firstName } }
    contraindications { id }
    consent { participation history { at } }
    enrollments { grade organization { name } }
    memberships { organization { name } }
} } } }";

async fn statements_for(app: &TestApp, token: &str, n: i64) -> (u64, usize) {
    let before = app.store.statements_executed();
    let data = app.ok(token, WIDE, json!({ "n": n })).await;
    let after = app.store.statements_executed();
    let rows = data["persons"]["edges"].as_array().map_or(0, Vec::len);
    (after - before, rows)
}

#[tokio::test]
async fn ten_and_two_hundred_persons_cost_the_same_statements() {
    let app = TestApp::spawn().await;
    app.store
        .seed(
            SeedOptions {
                persons: 500,
                seed: 3,
                today: app.today(),
            },
            |_| {},
        )
        .await
        .expect("seed");
    app.store
        .connection()
        .execute_unprepared("UPDATE persons SET last_name = 'Batch', last_name_key = 'BATCH' WHERE participation = 'PARTICIPATING'")
        .await
        .expect("rename");
    let admin = app.admin();
    let (small, rows_small) = statements_for(&app, &admin, 10).await;
    let (large, rows_large) = statements_for(&app, &admin, 200).await;
    assert_eq!((rows_small, rows_large), (10, 200));
    println!("statements: 10 persons → {small}, 200 persons → {large}");
    assert_eq!(small, large, "round trips grew with the result size");
    // Each batch of records is one statement (it was seven, one per relation).
    assert!(large <= 16, "{large} statements");
}

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Person { id firstName doses { dateGiven vaccine { cvx } } }
} }";

/// A router resolves a list from another subgraph with one `_entities` call of hundreds of
/// representations: it must cost one batch, not one lookup (and one pooled connection) each.
#[tokio::test]
async fn entity_batches_of_ten_and_five_hundred_persons_cost_the_same_statements() {
    let app = TestApp::spawn().await;
    app.store
        .seed(
            SeedOptions {
                persons: 600,
                seed: 5,
                today: app.today(),
            },
            |_| {},
        )
        .await
        .expect("seed");
    let db = app.store.connection();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM persons WHERE participation = 'PARTICIPATING' ORDER BY id",
        ))
        .await
        .expect("ids");
    let ids: Vec<uuid::Uuid> = rows
        .iter()
        .map(|r| r.try_get::<uuid::Uuid>("", "id").expect("id"))
        .collect();
    assert!(ids.len() >= 500, "{} participating persons", ids.len());
    let admin = app.admin();
    let mut cost = Vec::new();
    for n in [10, 500] {
        let reps: Vec<_> = ids[..n]
            .iter()
            .map(|id| json!({ "__typename": "Person", "id": id.to_string() }))
            .collect();
        let before = app.store.statements_executed();
        let data = app.ok(&admin, ENTITIES, json!({ "r": reps })).await;
        cost.push(app.store.statements_executed() - before);
        let got: Vec<&str> = data["_entities"]
            .as_array()
            .expect("entities")
            .iter()
            .map(|e| e["id"].as_str().expect("every reference resolved"))
            .collect();
        let want: Vec<String> = ids[..n].iter().map(ToString::to_string).collect();
        assert_eq!(got, want, "answers in the representations' order");
    }
    println!("statements: 10 references → {}, 500 → {}", cost[0], cost[1]);
    assert_eq!(cost[0], cost[1], "round trips grew with the batch");
    // One batch of records: one statement for the records (it was 14 with one per relation).
    assert!(cost[1] <= 8, "{} statements", cost[1]);
}

/// A batch that fails is answered to every key waiting on it with the batch's own error: two
/// organization references of one `_entities` call are one batch, and a statement error there
/// is an internal error at each reference, not a 503 that would mark a healthy database down.
#[tokio::test]
async fn a_failed_batch_shared_by_two_waiters_is_not_an_outage() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let a = app.create_org("Shared Batch A", "CLINIC").await;
    let b = app.create_org("Shared Batch B", "CLINIC").await;
    app.store
        .connection()
        .execute_unprepared("ALTER TABLE organizations RENAME TO organizations_gone")
        .await
        .expect("rename");
    let query = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Organization { id name } } }";
    let reps = json!([
        { "__typename": "Organization", "id": a },
        { "__typename": "Organization", "id": b },
    ]);
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&admin)
        .json(&json!({ "query": query, "variables": { "r": reps } }))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = resp.json().await.expect("json");
    let errors = body["errors"].as_array().expect("errors");
    let mut at: Vec<(Option<u64>, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["path"][1].as_u64(),
                e["extensions"]["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    at.sort_unstable();
    assert_eq!(
        at,
        [
            (Some(0), "INTERNAL_SERVER_ERROR"),
            (Some(1), "INTERNAL_SERVER_ERROR")
        ],
        "{body:#}"
    );
    // The database was never down: readiness holds and the next request is served.
    let ready = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), reqwest::StatusCode::OK);
    let data = app.ok(&admin, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], json!("Query"));
}
