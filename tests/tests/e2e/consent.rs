//! Consent: participation, locks, reminders and their history.

use serde_json::json;

use crate::support::{error_code, TestApp};

const SET: &str = "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { participation reminders lockedTo { id } history { at changedBy channel participation lockedToId reminders } } }";

#[tokio::test]
async fn consent_changes_keep_their_history() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app
        .create_person(&token, "Owen", "Brown", "2018-04-04")
        .await;
    let data = app
        .ok(
            &token,
            SET,
            json!({ "p": kid, "i": { "reminders": false, "channel": "PHONE" } }),
        )
        .await;
    assert_eq!(data["setConsent"]["reminders"], false);
    let data = app
        .ok(
            &token,
            SET,
            json!({ "p": kid, "i": { "lockedToId": clinic, "channel": "PROVIDER" } }),
        )
        .await;
    let consent = &data["setConsent"];
    assert_eq!(consent["lockedTo"]["id"], clinic.as_str());
    let history = consent["history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["channel"], "PHONE");
    assert_eq!(history[1]["lockedToId"], clinic.as_str());
    assert_eq!(
        history[1]["reminders"], false,
        "each event holds the whole state after it"
    );
    let data = app
        .ok(
            &token,
            SET,
            json!({ "p": kid, "i": { "unlock": true, "channel": "PORTAL" } }),
        )
        .await;
    assert_eq!(data["setConsent"]["lockedTo"], serde_json::Value::Null);
}

#[tokio::test]
async fn bad_consent_input_is_refused() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let school = app.create_org("School", "SCHOOL").await;
    let token = app.provider(&clinic);
    let kid = app.create_person(&token, "Zoe", "Yang", "2018-04-04").await;
    for input in [
        json!({ "channel": "CARRIER_PIGEON" }),
        json!({ "lockedToId": clinic, "unlock": true, "channel": "PORTAL" }),
        json!({ "lockedToId": school, "channel": "PORTAL" }),
        json!({ "lockedToId": "zzz", "channel": "PORTAL" }),
    ] {
        let body = app.gql(&token, SET, json!({ "p": kid, "i": input })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{input}: {body}");
    }
    let data = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { consent { history { at } } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(data["person"]["consent"]["history"], json!([]));
}

#[tokio::test]
async fn a_record_locked_to_one_provider_is_locked_for_another() {
    let app = TestApp::spawn().await;
    let a = app.create_org("Clinic A", "CLINIC").await;
    let b = app.create_org("Clinic B", "CLINIC").await;
    let kid = app
        .create_person(&app.provider(&a), "Lars", "Hansen", "2019-09-09")
        .await;
    app.ok(
        &app.provider(&a),
        SET,
        json!({ "p": kid, "i": { "lockedToId": a, "channel": "PROVIDER" } }),
    )
    .await;
    let body = app
        .gql(
            &app.provider(&b),
            "query($id: ID!) { person(id: $id) { firstName } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(error_code(&body), Some("RECORD_LOCKED"));
    assert_eq!(body["data"]["person"], serde_json::Value::Null);
    let data = app
        .ok(
            &app.provider(&b),
            "{ persons(filter: { lastName: \"Hansen\" }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["persons"]["edges"], json!([]), "left out of searches");
    let body = app
        .record_dose(&app.provider(&b), &kid, "20", "2020-01-01")
        .await;
    assert_eq!(error_code(&body), Some("RECORD_LOCKED"));
    let data = app
        .ok(
            &app.provider(&a),
            "query($id: ID!) { person(id: $id) { firstName } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(data["person"]["firstName"], "Lars");
}

#[tokio::test]
async fn opting_out_hides_the_record_and_drops_later_doses() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app.create_person(&token, "Pa", "Xiong", "2017-02-02").await;
    app.record_dose(&token, &kid, "20", "2017-04-04").await;
    app.ok(
        &token,
        SET,
        json!({ "p": kid, "i": { "participation": "OPTED_OUT", "channel": "FORM" } }),
    )
    .await;
    let body = app
        .gql(
            &token,
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let body = app.record_dose(&token, &kid, "10", "2017-04-04").await;
    assert_eq!(
        body["data"]["recordDose"],
        json!({ "stored": false, "duplicateOf": null, "dose": null })
    );
    // Only minimal demographics remain, as the registry admin sees.
    let data = app
        .ok(&app.admin(), "query($id: ID!) { person(id: $id) { firstName doses { id } consent { participation } } }", json!({ "id": kid }))
        .await;
    assert_eq!(data["person"]["doses"], json!([]));
    assert_eq!(data["person"]["consent"]["participation"], "OPTED_OUT");
}
