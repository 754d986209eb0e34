//! Issue 18: "who saw my record" (`me { accessHistory }`) and the person's own choices
//! (reminders, lock, opt-out) through GraphQL with the channel `PORTAL`.

use gateway::auth::TokenRequest;
use policies::Role;
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const HISTORY: &str = "{ me { accessHistory(first: 100) { edges { node { at personId organization { id name kind } role purpose action outcome parts } } pageInfo { hasNextPage } } } }";

#[tokio::test]
async fn access_history_shows_the_clinic_the_school_and_the_auditor_and_no_one_else() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let clinic = app.create_org("Northside Clinic", "CLINIC").await;
    let school = app.create_org("Lincoln Elementary", "SCHOOL").await;
    let child = app
        .create_person(&admin, "Noor", "Haddad", "2018-03-09")
        .await;
    let guardian = app
        .create_person(&admin, "Rania", "Haddad", "1987-06-01")
        .await;
    app.ok(
        &admin,
        "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"mother\") { id } }",
        json!({ "p": child, "g": guardian }),
    )
    .await;
    let year = policies::school_year_of(app.today());
    let mut classmates = Vec::new();
    for i in 0..29 {
        classmates.push(
            app.create_person(&admin, &format!("Student{i}"), "Classmate", "2018-05-01")
                .await,
        );
    }
    for p in std::iter::once(&child).chain(&classmates) {
        app.ok(
            &admin,
            "mutation($p: ID!, $o: ID!, $y: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: \"2\") { grade } }",
            json!({ "p": p, "o": school, "y": year }),
        )
        .await;
    }
    let guardian_token =
        app.token(TokenRequest::new(Role::Guardian).person(guardian.parse().expect("id")));
    let before: Vec<Value> = history(&app, &guardian_token).await;

    // A clinic reads the record, the school reads its roster of 30, an auditor looks up the
    // child's log.
    let nurse = "pat.nurse@northside.example";
    let clinic_token = app.token(TokenRequest {
        subject: Some(nurse.into()),
        ..TokenRequest::new(Role::Provider).org(clinic.parse().expect("org"))
    });
    app.ok(
        &clinic_token,
        "query($p: ID!) { person(id: $p) { firstName doses { dateGiven } } }",
        json!({ "p": child }),
    )
    .await;
    let secretary = "sis-sync@lincoln.example";
    let school_token = app.token(TokenRequest {
        subject: Some(secretary.into()),
        ..TokenRequest::new(Role::School).org(school.parse().expect("org"))
    });
    let roster = app
        .ok(
            &school_token,
            "query($o: ID!) { roster(organizationId: $o, first: 50) { edges { node { person { id firstName } } } } }",
            json!({ "o": school }),
        )
        .await;
    assert_eq!(roster["roster"]["edges"].as_array().map(Vec::len), Some(30));
    let auditor = "auditor.kim@registry.example";
    let auditor_token = app.token(TokenRequest {
        subject: Some(auditor.into()),
        ..TokenRequest::new(Role::Auditor)
    });
    app.ok(
        &auditor_token,
        "query($p: ID!) { accessLog(filter: {personId: $p}, first: 5) { edges { node { id } } } }",
        json!({ "p": child }),
    )
    .await;

    let after = history(&app, &guardian_token).await;
    let new: Vec<&Value> = after.iter().take(after.len() - before.len()).collect();
    let summary: Vec<(String, Option<String>, String)> = new
        .iter()
        .map(|n| {
            (
                n["role"].as_str().unwrap_or_default().to_owned(),
                n["organization"]["kind"].as_str().map(str::to_owned),
                n["action"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("AUDITOR".into(), None, "READ".into()),
            ("SCHOOL".into(), Some("SCHOOL".into()), "ROSTER".into()),
            ("PROVIDER".into(), Some("CLINIC".into()), "READ".into()),
        ],
        "{new:#?}"
    );
    assert_eq!(new[2]["organization"]["name"], "Northside Clinic");
    assert_eq!(new[2]["purpose"], "TREATMENT");
    assert!(
        new[2]["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .any(|p| p == "doses"),
        "{new:#?}"
    );
    assert!(
        new[1]["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .any(|p| p == "identity"),
        "{new:#?}"
    );
    assert_eq!(new[0]["parts"], json!(["access log"]));
    for n in &after {
        assert!(
            n["personId"] == child.as_str() || n["personId"] == guardian.as_str(),
            "{n:#}"
        );
    }
    let text = serde_json::to_string(&after).expect("json");
    for other in &classmates {
        assert!(
            !text.contains(other.as_str()),
            "a classmate's id in the history"
        );
    }
    for subject in [nurse, secretary, auditor, "dev-registry_admin"] {
        assert!(!text.contains(subject), "`{subject}` in the history");
    }

    // Others do not get a history of their own: auditors read accessLog.
    let body = app.gql(&clinic_token, HISTORY, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}

async fn history(app: &TestApp, token: &str) -> Vec<Value> {
    let data = app.ok(token, HISTORY, json!({})).await;
    data["me"]["accessHistory"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn an_individual_sees_who_read_their_own_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let clinic = app.create_org("Harbor Pharmacy", "PHARMACY").await;
    let me = app.create_person(&admin, "Ola", "Berg", "1979-11-30").await;
    let other = app.create_person(&admin, "Per", "Berg", "1979-11-30").await;
    let provider = app.provider(&clinic);
    app.ok(&provider, "query($l: String!) { persons(filter: {lastName: $l}) { edges { node { id firstName } } } }", json!({ "l": "Berg" })).await;
    let token = app.token(TokenRequest::new(Role::Individual).person(me.parse().expect("id")));
    let entries = history(&app, &token).await;
    let search = entries
        .iter()
        .find(|e| e["action"] == "SEARCH")
        .expect("the pharmacy's search");
    assert_eq!(search["organization"]["kind"], "PHARMACY");
    assert_eq!(search["personId"], me.as_str());
    assert!(!serde_json::to_string(&entries)
        .expect("json")
        .contains(other.as_str()));
}

#[tokio::test]
async fn a_guardian_turns_reminders_off_locks_and_opts_out_through_the_portal_channel() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let clinic = app.create_org("Lakeside Pediatrics", "CLINIC").await;
    let child = app
        .create_person(&admin, "Ivo", "Novak", "2019-08-08")
        .await;
    let guardian = app
        .create_person(&admin, "Eva", "Novak", "1990-01-01")
        .await;
    app.ok(
        &admin,
        "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"mother\") { id } }",
        json!({ "p": child, "g": guardian }),
    )
    .await;
    let token = app.token(TokenRequest::new(Role::Guardian).person(guardian.parse().expect("id")));
    let set = "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { participation reminders lockedTo { id } history { channel reminders participation lockedToId } } }";
    let off = app
        .ok(
            &token,
            set,
            json!({ "p": child, "i": { "reminders": false, "channel": "PORTAL" } }),
        )
        .await;
    assert_eq!(off["setConsent"]["reminders"], false);
    let last = |d: &Value| {
        d["setConsent"]["history"]
            .as_array()
            .and_then(|h| h.last())
            .cloned()
            .expect("history")
    };
    assert_eq!(last(&off)["channel"], "PORTAL");
    assert_eq!(last(&off)["reminders"], false);
    let locked = app
        .ok(
            &token,
            set,
            json!({ "p": child, "i": { "lockedToId": clinic, "channel": "PORTAL" } }),
        )
        .await;
    assert_eq!(locked["setConsent"]["lockedTo"]["id"], clinic.as_str());
    assert_eq!(last(&locked)["lockedToId"], clinic.as_str());
    let out = app
        .ok(
            &token,
            set,
            json!({ "p": child, "i": { "participation": "OPTED_OUT", "channel": "PORTAL" } }),
        )
        .await;
    assert_eq!(out["setConsent"]["participation"], "OPTED_OUT");
    let history = out["setConsent"]["history"].as_array().expect("history");
    assert!(history.len() >= 3);
    assert!(
        history
            .iter()
            .rev()
            .take(3)
            .all(|h| h["channel"] == "PORTAL"),
        "{history:#?}"
    );
    // The changes are CONSENT entries in the child's access history.
    let entries = history_of(&app, &token).await;
    assert!(
        entries.iter().filter(|e| e["action"] == "CONSENT").count() >= 3,
        "{entries:#?}"
    );
}

async fn history_of(app: &TestApp, token: &str) -> Vec<Value> {
    history(app, token).await
}
