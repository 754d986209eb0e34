//! Persisted documents: automatic persisted queries (register with the text, then run by
//! hash) and the trusted-documents allow-list.

use gateway::config::PersistedDocuments;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{error_code, TestApp};

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn by_hash(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> Value {
    app.client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(app.admin())
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn an_unknown_hash_is_asked_for_then_registered_and_run_by_hash() {
    let app = TestApp::spawn().await;
    let query = "query Me { me { role } }";
    let hash = sha256(query);
    let body = post(&app, json!({ "extensions": by_hash(&hash) })).await;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    let body = post(
        &app,
        json!({ "query": query, "extensions": by_hash(&hash) }),
    )
    .await;
    assert_eq!(body["data"]["me"]["role"], "REGISTRY_ADMIN", "{body}");
    let body = post(&app, json!({ "extensions": by_hash(&hash) })).await;
    assert_eq!(body["data"]["me"]["role"], "REGISTRY_ADMIN", "{body}");

    // GET, as Apollo clients send persisted queries.
    let resp = app
        .client
        .get(format!("{}/graphql", app.base))
        .bearer_auth(app.admin())
        .query(&[("extensions", by_hash(&hash).to_string())])
        .send()
        .await
        .expect("send");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["data"]["me"]["role"], "REGISTRY_ADMIN", "{body}");

    // A hash that is not the text's is refused, and nothing is registered under it.
    let wrong = sha256("{ vaccines { cvx } }");
    let body = post(
        &app,
        json!({ "query": query, "extensions": by_hash(&wrong) }),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = post(&app, json!({ "extensions": by_hash(&wrong) })).await;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
}

#[tokio::test]
async fn trusted_documents_mode_runs_the_listed_documents_only() {
    let dir = tempfile::tempdir().expect("dir");
    let listed = "query Vaccines { vaccines { cvx } }";
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": sha256(listed), "name": "Vaccines", "type": "query", "body": listed }]
    });
    let path = dir.path().join("manifest.json");
    std::fs::write(&path, manifest.to_string()).expect("write manifest");
    let app = TestApp::spawn_with(|s| s.persisted = PersistedDocuments::Trusted(path)).await;

    let body = post(&app, json!({ "extensions": by_hash(&sha256(listed)) })).await;
    assert!(
        body["data"]["vaccines"]
            .as_array()
            .is_some_and(|v| !v.is_empty()),
        "{body}"
    );
    let body = post(&app, json!({ "query": listed })).await;
    assert!(body["data"]["vaccines"].is_array(), "{body}");

    let other = "{ me { role } }";
    for request in [
        json!({ "query": other }),
        json!({ "query": other, "extensions": by_hash(&sha256(other)) }),
        json!({ "extensions": by_hash(&sha256(other)) }),
        json!({ "query": other, "extensions": by_hash(&sha256(listed)) }),
    ] {
        let body = post(&app, request.clone()).await;
        assert_eq!(
            error_code(&body),
            Some("PERSISTED_QUERY_NOT_IN_LIST"),
            "{request}: {body}"
        );
        assert!(body.get("data").is_none());
    }
}
