//! Doses and contraindications: recording, validation, duplicate merging.

use serde_json::json;

use crate::support::{error_code, TestApp};

#[tokio::test]
async fn a_dose_is_recorded_with_the_recorders_org_and_read_back() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("North Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app
        .create_person(&token, "Liam", "Olson", "2024-01-10")
        .await;
    let body = app
        .gql(
            &token,
            "mutation($i: DoseInput!) { recordDose(input: $i) { stored duplicateOf dose { id vaccine { cvx name vaccineGroups } dateGiven manufacturer lotNumber site route administeredBy { id } reportedBy { id name } evaluation { status } } } }",
            json!({ "i": { "personId": kid, "cvx": "20", "dateGiven": "2024-03-10", "manufacturer": "pmc", "lotNumber": "A123", "site": "LT", "route": "IM" } }),
        )
        .await;
    let payload = &body["data"]["recordDose"];
    assert_eq!(payload["stored"], true, "{body}");
    assert_eq!(payload["duplicateOf"], serde_json::Value::Null);
    let dose = &payload["dose"];
    assert_eq!(dose["vaccine"]["cvx"], "20");
    assert_eq!(dose["vaccine"]["vaccineGroups"], json!(["DTaP/Tdap/Td"]));
    assert_eq!(dose["manufacturer"], "PMC");
    assert_eq!(dose["administeredBy"]["id"], clinic.as_str());
    assert_eq!(dose["reportedBy"]["name"], "North Clinic");

    let data = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { doses { id dateGiven lotNumber } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(data["person"]["doses"][0]["lotNumber"], "A123");
}

#[tokio::test]
async fn a_duplicate_dose_is_merged_not_stored_twice() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app.create_person(&token, "Ava", "Lee", "2022-01-01").await;
    let first = app.record_dose(&token, &kid, "03", "2023-01-05").await;
    let first_id = first["data"]["recordDose"]["dose"]["id"].clone();
    // The same vaccine on the same day: a duplicate.
    let second = app.record_dose(&token, &kid, "03", "2023-01-05").await;
    assert_eq!(second["data"]["recordDose"]["stored"], false);
    assert_eq!(second["data"]["recordDose"]["duplicateOf"], first_id);
    // MMRV shares only the MMR group with MMR: a second dose (its varicella antigen must not
    // be lost), flagged for data quality.
    let mmrv = app.record_dose(&token, &kid, "94", "2023-01-05").await;
    assert_eq!(mmrv["data"]["recordDose"]["stored"], true);
    // Another group on the same day is not a duplicate.
    let other = app.record_dose(&token, &kid, "83", "2023-01-05").await;
    assert_eq!(other["data"]["recordDose"]["stored"], true);
    let data = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { doses { vaccine { cvx } } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(data["person"]["doses"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn bad_doses_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app.create_person(&token, "Noah", "Ali", "2023-06-01").await;
    let future = (chrono::Utc::now().date_naive() + chrono::Duration::days(3)).to_string();
    for (person, cvx, date, why) in [
        (kid.as_str(), "9999", "2023-07-01", "unknown CVX"),
        (kid.as_str(), "20", "2023-05-31", "before birth"),
        (kid.as_str(), "20", future.as_str(), "in the future"),
        ("nope", "20", "2023-07-01", "malformed person ID"),
    ] {
        let body = app.record_dose(&token, person, cvx, date).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
    }
    // Only registry staff name another administering organization; an unknown one is then
    // bad input. For anyone else any other organization is refused as a matter of authority.
    let unknown_org = json!({ "i": { "personId": kid, "cvx": "20", "dateGiven": "2023-07-01", "administeredById": uuid::Uuid::new_v4() } });
    let body = app
        .gql(
            &app.admin(),
            "mutation($i: DoseInput!) { recordDose(input: $i) { stored } }",
            unknown_org.clone(),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("BAD_USER_INPUT"),
        "unknown administering org"
    );
    let body = app
        .gql(
            &token,
            "mutation($i: DoseInput!) { recordDose(input: $i) { stored } }",
            unknown_org,
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "another organization");
    let body = app
        .record_dose(
            &token,
            &uuid::Uuid::new_v4().to_string(),
            "20",
            "2023-07-01",
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let data = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { doses { id } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(data["person"]["doses"], json!([]));
}

#[tokio::test]
async fn contraindications_are_recorded_and_validated() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app
        .create_person(&token, "Mia", "Garcia", "2019-01-01")
        .await;
    let data = app
        .ok(
            &token,
            "mutation($i: ContraindicationInput!) { recordContraindication(input: $i) { id kind vaccineGroup reason recordedAt expiresOn } }",
            json!({ "i": { "personId": kid, "kind": "IMMUNITY", "vaccineGroup": "Varicella", "reason": "history of chickenpox" } }),
        )
        .await;
    assert_eq!(data["recordContraindication"]["kind"], "IMMUNITY");
    assert!(data["recordContraindication"]["recordedAt"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));
    let body = app
        .gql(&token, "mutation($i: ContraindicationInput!) { recordContraindication(input: $i) { id } }",
             json!({ "i": { "personId": kid, "kind": "CONTRAINDICATION", "vaccineGroup": "Kryptonite" } }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let body = app
        .gql(
            &token,
            "mutation($i: ContraindicationInput!) { recordContraindication(input: $i) { id } }",
            json!({ "i": { "personId": kid, "kind": "PRECAUTION", "expiresOn": "2001-01-01" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let data = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { contraindications { kind vaccineGroup } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(
        data["person"]["contraindications"],
        json!([{ "kind": "IMMUNITY", "vaccineGroup": "Varicella" }])
    );
}

#[tokio::test]
async fn the_vaccine_code_set_is_served() {
    let app = TestApp::spawn().await;
    let data = app
        .ok(
            &app.admin(),
            "{ vaccines { cvx name vaccineGroups } }",
            json!({}),
        )
        .await;
    let vaccines = data["vaccines"].as_array().expect("list");
    assert!(vaccines.len() >= 60);
    let mmrv = vaccines.iter().find(|v| v["cvx"] == "94").expect("MMRV");
    assert_eq!(mmrv["vaccineGroups"], json!(["MMR", "Varicella"]));
}
