//! The access log: entries for reads, searches, writes and denials, chained by hash.

use serde_json::json;

use crate::support::{error_code, TestApp};

const LOG: &str = "query($f: AccessLogFilter, $first: Int, $after: String) { accessLog(filter: $f, first: $first, after: $after) { edges { cursor node { id at subject role organizationId purpose action personIds fields requestId outcome reason hash previousHash } } pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn reads_writes_and_denials_are_logged_and_chained() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app
        .create_person(&token, "Ella", "Moua", "2020-01-01")
        .await;
    app.ok(
        &token,
        "query($id: ID!) { person(id: $id) { firstName contact { city } } }",
        json!({ "id": kid }),
    )
    .await;
    let plan = app.create_org("Plan", "HEALTH_PLAN").await;
    let plan_token = app.token(
        gateway::auth::TokenRequest::new(policies::Role::HealthPlan)
            .org(plan.parse().expect("uuid")),
    );
    app.gql(
        &plan_token,
        "mutation { createOrganization(input: { name: \"X\", kind: CLINIC }) { id } }",
        json!({}),
    )
    .await;

    let auditor = app.token(gateway::auth::TokenRequest::new(policies::Role::Auditor));
    let data = app
        .ok(&auditor, LOG, json!({ "f": { "personId": kid } }))
        .await;
    let entries = data["accessLog"]["edges"].as_array().expect("edges");
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap_or(""))
        .collect();
    // The create's answer revealed the new id: a READ of its own after the WRITE.
    assert_eq!(actions, ["READ", "READ", "WRITE"], "newest first");
    let read = &entries[0]["node"];
    assert_eq!(read["subject"], "dev-provider");
    assert_eq!(read["role"], "PROVIDER");
    assert_eq!(read["organizationId"], clinic.as_str());
    assert_eq!(read["purpose"], "TREATMENT");
    assert_eq!(read["outcome"], "ALLOWED");
    assert_eq!(read["fields"], json!(["contact", "identity"]));
    assert_eq!(
        read["previousHash"], entries[1]["node"]["hash"],
        "chained to the entry before it"
    );

    let data = app
        .ok(&auditor, LOG, json!({ "f": { "outcome": "DENIED" } }))
        .await;
    let denied = &data["accessLog"]["edges"][0]["node"];
    assert_eq!(denied["action"], "DENIED");
    assert_eq!(denied["role"], "HEALTH_PLAN");

    let report = app.store.verify_access_log().await.expect("verify");
    assert!(
        matches!(
            report,
            entities::repo::access_log::ChainReport::Intact { .. }
        ),
        "{report:?}"
    );
}

#[tokio::test]
async fn the_access_log_pages_and_is_closed_to_providers() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for i in 0..5 {
        app.create_person(&admin, &format!("P{i}"), "Paged", "2000-01-01")
            .await;
    }
    let mut ids = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let data = app
            .ok(
                &admin,
                LOG,
                json!({ "f": { "action": "WRITE" }, "first": 2, "after": after }),
            )
            .await;
        for e in data["accessLog"]["edges"].as_array().expect("edges") {
            ids.push(e["node"]["id"].as_str().expect("id").to_owned());
        }
        if data["accessLog"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = data["accessLog"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(ids.len(), 5);
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let body = app.gql(&app.provider(&clinic), LOG, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}
