//! Organizations and `me`.

use serde_json::json;

use crate::support::{error_code, TestApp};

#[tokio::test]
async fn organizations_are_created_by_the_registry_and_read_by_anyone() {
    let app = TestApp::spawn().await;
    let id = app.create_org("Riverside Hospital", "HOSPITAL").await;
    let token = app.provider(&id);
    let data = app
        .ok(
            &token,
            "query($id: ID!) { organization(id: $id) { id name kind } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data["organization"],
        json!({ "id": id, "name": "Riverside Hospital", "kind": "HOSPITAL" })
    );
    let body = app
        .gql(
            &token,
            "mutation { createOrganization(input: { name: \"X\", kind: CLINIC }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let body = app
        .gql(
            &app.admin(),
            "mutation { createOrganization(input: { name: \"  \", kind: CLINIC }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let data = app
        .ok(
            &token,
            "query($id: ID!) { organization(id: $id) { id } }",
            json!({ "id": uuid::Uuid::new_v4() }),
        )
        .await;
    assert_eq!(data["organization"], serde_json::Value::Null);
}

#[tokio::test]
async fn me_describes_the_tokens_principal() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic", "CLINIC").await;
    let token = app.token(
        gateway::auth::TokenRequest::new(policies::Role::Provider)
            .org(org.parse().expect("uuid"))
            .scope("person:read dose:write admin"),
    );
    let data = app
        .ok(
            &token,
            "{ me { subject role organization { id } scopes purpose } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["me"],
        json!({ "subject": "dev-provider", "role": "PROVIDER", "organization": { "id": org },
                "scopes": ["person:read", "dose:write"], "purpose": "TREATMENT" }),
        "scopes are the role's rights intersected with the token's"
    );
}
