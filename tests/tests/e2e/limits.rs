//! Operation limits: each one just under (served) and just over (refused with its code),
//! and every refusal cheap: no statement run, nothing appended to the access log.

use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

/// Access-log entries so far.
async fn log_entries(app: &TestApp) -> u64 {
    match app.store.verify_access_log().await.expect("verify") {
        entities::repo::access_log::ChainReport::Intact { entries } => entries,
        other => panic!("{other:?}"),
    }
}

/// Asserts `query` is refused with `code` and costs nothing.
async fn refused(app: &TestApp, token: &str, query: &str, variables: Value, code: &str) {
    let logged = log_entries(app).await;
    let statements = app.store.statements_executed();
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400, "{query}");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), Some(code), "{query}: {body}");
    assert!(body.get("data").is_none(), "{body}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());
    assert_eq!(
        app.store.statements_executed(),
        statements,
        "a refusal runs no statement"
    );
    assert_eq!(
        log_entries(app).await,
        logged,
        "a refusal appends nothing to the access log"
    );
}

/// Asserts `query` is served without errors.
async fn served(app: &TestApp, token: &str, query: &str, variables: Value) {
    let body = app.gql(token, query, variables).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
}

#[tokio::test]
async fn depth_just_under_is_served_and_just_over_is_refused() {
    let app = TestApp::spawn_with(|s| s.limits.max_depth = 4).await;
    let admin = app.admin();
    served(
        &app,
        &admin,
        "{ persons(filter: {lastName: \"x\"}) { edges { node { doses { dateGiven } } } } }",
        json!({}),
    )
    .await;
    refused(
        &app,
        &admin,
        "{ persons(filter: {lastName: \"x\"}) { edges { node { doses { vaccine { cvx } } } } } }",
        json!({}),
        "QUERY_TOO_DEEP",
    )
    .await;
    // Fragments count where they are spread.
    refused(&app, &admin, "{ persons(filter: {lastName: \"x\"}) { edges { node { ...D } } } } fragment D on Person { doses { vaccine { cvx } } }", json!({}), "QUERY_TOO_DEEP").await;
}

#[tokio::test]
async fn complexity_counts_first_rows_and_refuses_one_row_more() {
    // `persons` costs 3 per row here (edges, node, id) plus itself: 3 × 10 + 1 = 31.
    let app = TestApp::spawn_with(|s| s.limits.max_complexity = 31).await;
    let admin = app.admin();
    let q = "query($n: Int) { persons(filter: {lastName: \"x\"}, first: $n) { edges { node { id } } } }";
    served(&app, &admin, q, json!({ "n": 10 })).await;
    refused(&app, &admin, q, json!({ "n": 11 }), "QUERY_TOO_COMPLEX").await;
    // `_entities` multiplies the operation by its representations: 15 references of cost 2
    // (`_entities` and the fragment's `id`) fit in 31, 16 do not.
    let reps = |n: usize| json!({ "r": (0..n).map(|_| json!({ "__typename": "Organization", "id": uuid::Uuid::new_v4().to_string() })).collect::<Vec<_>>() });
    let e = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id } } }";
    served(&app, &admin, e, reps(15)).await;
    refused(&app, &admin, e, reps(16), "QUERY_TOO_COMPLEX").await;
}

#[tokio::test]
async fn aliases_and_root_fields_have_their_own_limits() {
    let app = TestApp::spawn_with(|s| {
        s.limits.max_aliases = 2;
        s.limits.max_root_fields = 3;
    })
    .await;
    let admin = app.admin();
    served(&app, &admin, "{ a: me { role } b: me { role } }", json!({})).await;
    refused(
        &app,
        &admin,
        "{ a: me { role } b: me { role } c: me { role } }",
        json!({}),
        "TOO_MANY_ALIASES",
    )
    .await;
    refused(
        &app,
        &admin,
        "{ me { x: role y: role z: role } }",
        json!({}),
        "TOO_MANY_ALIASES",
    )
    .await;
    served(
        &app,
        &admin,
        "{ me { role } vaccines { cvx } __typename }",
        json!({}),
    )
    .await;
    refused(&app, &admin, "{ me { role } vaccines { cvx } __typename ... on Query { organization(id: \"00000000-0000-0000-0000-000000000000\") { id } } }", json!({}), "TOO_MANY_ROOT_FIELDS").await;
}

#[tokio::test]
async fn introspection_is_for_admins_and_providers_unless_configured() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let school = app.create_org("School", "SCHOOL").await;
    let q = "{ __schema { queryType { name } } }";
    served(&app, &app.admin(), q, json!({})).await;
    served(&app, &app.provider(&clinic), q, json!({})).await;
    let school_token = app.token(
        gateway::auth::TokenRequest::new(policies::Role::School).org(school.parse().expect("uuid")),
    );
    refused(&app, &school_token, q, json!({}), "INTROSPECTION_DISABLED").await;
    refused(
        &app,
        &school_token,
        "{ __type(name: \"Person\") { name } }",
        json!({}),
        "INTROSPECTION_DISABLED",
    )
    .await;
    served(&app, &school_token, "{ __typename }", json!({})).await;

    let closed = TestApp::spawn_with(|s| s.limits.introspection_roles = Vec::new()).await;
    refused(
        &closed,
        &closed.admin(),
        q,
        json!({}),
        "INTROSPECTION_DISABLED",
    )
    .await;
}

#[tokio::test]
async fn the_body_size_limit_is_exact_and_answered_with_413() {
    let limit = 2048;
    let app = TestApp::spawn_with(|s| s.max_body_bytes = limit).await;
    let body_of = |len: usize| {
        let head = "{\"query\":\"{ me { role } }";
        let tail = "\"}";
        let pad = len - head.len() - tail.len();
        format!("{head}{}{tail}", " ".repeat(pad))
    };
    let post = |body: String| {
        app.client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(app.admin())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = post(body_of(limit)).await.expect("send");
    assert_eq!(resp.status(), 200);
    let resp = post(body_of(limit + 1)).await.expect("send");
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), Some("REQUEST_TOO_LARGE"), "{body}");
    let long_get = format!("{{ me {{ role }} }}{}", " ".repeat(limit));
    let resp = app
        .client
        .get(format!("{}/graphql", app.base))
        .bearer_auth(app.admin())
        .query(&[("query", long_get.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn batches_run_in_order_up_to_the_limit() {
    let app = TestApp::spawn_with(|s| s.max_batch = 2).await;
    let post = |ops: Value| {
        app.client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(app.admin())
            .json(&ops)
            .send()
    };
    let two = json!([
        { "query": "mutation { createOrganization(input: {name: \"Batch Clinic\", kind: CLINIC}) { id } }" },
        { "query": "{ me { role } }" }
    ]);
    let resp = post(two).await.expect("send");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body[0]["data"]["createOrganization"]["id"].is_string(),
        "{body}"
    );
    assert_eq!(body[1]["data"]["me"]["role"], "REGISTRY_ADMIN");
    let logged = log_entries(&app).await;
    let three = json!([{ "query": "{ me { role } }" }, { "query": "{ me { role } }" }, { "query": "{ me { role } }" }]);
    let resp = post(three).await.expect("send");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BATCH_TOO_LARGE"), "{body}");
    assert_eq!(log_entries(&app).await, logged);
}
