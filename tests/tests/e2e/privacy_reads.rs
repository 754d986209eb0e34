//! Issue 14, read path: what an attacker holding a valid token of some role could learn
//! beyond the access policy, each reproduced here (every test failed before its fix).

use base64::Engine as _;
use gateway::auth::TokenRequest;
use policies::Role;
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const LOG: &str = "query($f: AccessLogFilter, $first: Int) { accessLog(filter: $f, first: $first) { edges { node { action personIds fields subject } } } }";
const LOG_PER_PERSON: &str = "query($first: Int) { accessLog(first: $first) { edges { node { personFields { personId fields } } } } }";

fn uuid(id: &str) -> uuid::Uuid {
    id.parse().expect("uuid")
}

/// The access-log entries that name `person`, as an auditor sees them.
async fn entries_about(app: &TestApp, person: &str) -> Vec<Value> {
    let auditor = app.token(TokenRequest::new(Role::Auditor));
    let data = app
        .ok(
            &auditor,
            LOG,
            json!({ "f": { "personId": person }, "first": 200 }),
        )
        .await;
    // The auditor's own look-ups by person are reads of that person too (issue 18); they are
    // this helper's, not the reads under test.
    data["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| {
            !(n["role"] == "AUDITOR" || n["subject"] == "dev-auditor")
                || n["fields"] != json!(["accessLog"])
        })
        .collect()
}

/// Hole 1: `persons { edges { cursor } }` handed out base64 of `LAST␟FIRST␟id`, any cursor
/// was accepted from anyone, and a forged one paged from any name.
#[tokio::test]
async fn cursors_carry_no_personal_data_and_open_only_for_their_principal() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for first in ["Zelda", "Ann", "Bo"] {
        app.create_person(&admin, first, "Quarantine", "2015-03-04")
            .await;
    }
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let other = app.create_org("Other Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let search = "query($after: String) { persons(filter: { lastName: \"Quar\" }, first: 1, after: $after) { edges { cursor node { firstName } } pageInfo { hasNextPage endCursor } } }";
    let data = app.ok(&token, search, json!({ "after": null })).await;
    let cursor = data["persons"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let edge_cursor = data["persons"]["edges"][0]["cursor"]
        .as_str()
        .expect("cursor");
    for c in [cursor.as_str(), edge_cursor] {
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&decoded).to_uppercase();
        assert!(
            !text.contains("QUARANTINE") && !text.contains("ANN"),
            "the cursor carries the name: {text}"
        );
    }
    // The issuing principal pages on.
    let next = app.ok(&token, search, json!({ "after": cursor })).await;
    assert_eq!(next["persons"]["edges"][0]["node"]["firstName"], "Bo");
    // Another principal (another organization, or another subject of the same one) cannot.
    for stranger in [
        app.provider(&other),
        app.token({
            let mut req = TokenRequest::new(Role::Provider).org(uuid(&clinic));
            req.subject = Some("someone-else".into());
            req
        }),
    ] {
        let body = app.gql(&stranger, search, json!({ "after": cursor })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    // A cursor forged in the old format is refused.
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("QUARANTINE\u{1f}ANN\u{1f}{}", uuid::Uuid::nil()));
    let body = app.gql(&token, search, json!({ "after": forged })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

/// Hole 1: `person(id) { id }`, `persons { edges { cursor } }` and `_entities { ... on Person
/// { id } }` reveal that a person exists, and wrote no access-log entry.
#[tokio::test]
async fn every_answer_revealing_a_person_is_a_logged_read() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let kid = app
        .create_person(&admin, "Ilse", "Unlogged", "2016-01-01")
        .await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let mut expected = entries_about(&app, &kid).await.len();
    for (query, vars) in [
        (
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": kid }),
        ),
        (
            "{ persons(filter: { lastName: \"Unlogged\" }) { edges { cursor } } }",
            json!({}),
        ),
        (
            "{ persons(filter: { lastName: \"Unlogged\" }) { pageInfo { endCursor } } }",
            json!({}),
        ),
        (
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id } } }",
            json!({ "r": [{ "__typename": "Person", "id": kid }] }),
        ),
    ] {
        app.ok(&token, query, vars).await;
        expected += 1;
        let entries = entries_about(&app, &kid).await;
        assert_eq!(
            entries.len(),
            expected,
            "{query} was not logged: {entries:#?}"
        );
        assert_eq!(entries[0]["subject"], "dev-provider");
    }
}

/// Hole 9: a guardian read their own record (contact, consent) through
/// `ward.guardians.person`, which `person(id:)` refuses them.
#[tokio::test]
async fn a_person_reached_through_a_ward_is_admitted_as_by_person_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let parent = app
        .create_person(&admin, "Gwen", "Parent", "1980-01-01")
        .await;
    let other_parent = app
        .create_person(&admin, "Otto", "Parent", "1981-01-01")
        .await;
    let kid = app
        .create_person(&admin, "Kit", "Parent", "2015-01-01")
        .await;
    for g in [&parent, &other_parent] {
        app.ok(
            &admin,
            "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"parent\") { id } }",
            json!({ "p": kid, "g": g }),
        )
        .await;
    }
    let guardian = app.token(TokenRequest::new(Role::Guardian).person(uuid(&parent)));
    let direct = app
        .gql(
            &guardian,
            "query($id: ID!) { person(id: $id) { contact { city } } }",
            json!({ "id": parent }),
        )
        .await;
    assert_eq!(error_code(&direct), Some("NOT_FOUND"), "{direct}");
    let data = app
        .ok(
            &guardian,
            "query($id: ID!) { person(id: $id) { firstName guardians { relationship person { id contact { city } consent { participation } } } } }",
            json!({ "id": kid }),
        )
        .await;
    let shown: Vec<&str> = data["person"]["guardians"]
        .as_array()
        .expect("guardians")
        .iter()
        .filter_map(|g| g["person"]["id"].as_str())
        .collect();
    assert!(
        !shown.contains(&parent.as_str()) && !shown.contains(&other_parent.as_str()),
        "guardians outside the row scope were read through the ward: {data}"
    );
    // A provider, whose row scope admits both parents, still sees them.
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let data = app
        .ok(
            &app.provider(&clinic),
            "query($id: ID!) { person(id: $id) { guardians { person { id } } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(
        data["person"]["guardians"].as_array().map(Vec::len),
        Some(2)
    );
}

/// Hole 6: a pharmacy token read `memberships` (and a plan `enrollments`) through the field
/// matrix's catch-all grant; a school saw other schools' enrollments.
#[tokio::test]
async fn memberships_and_enrollments_follow_their_rows_of_the_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let kid = app
        .create_person(&admin, "Mo", "Member", "2014-01-01")
        .await;
    let pharmacy = app.create_org("Pharmacy", "PHARMACY").await;
    let school = app.create_org("School", "SCHOOL").await;
    let other_school = app.create_org("Other School", "SCHOOL").await;
    let plan = app.create_org("Plan", "HEALTH_PLAN").await;
    let other_plan = app.create_org("Other Plan", "HEALTH_PLAN").await;
    let year = policies::school_year_of(app.today());
    let last_year = policies::school_year_of(app.today() - chrono::Duration::days(366));
    for (org, y) in [(&school, &year), (&other_school, &last_year)] {
        app.ok(
            &admin,
            "mutation($p: ID!, $o: ID!, $y: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: \"3\") { grade } }",
            json!({ "p": kid, "o": org, "y": y }),
        )
        .await;
    }
    for org in [&plan, &other_plan] {
        app.ok(
            &admin,
            "mutation($p: ID!, $o: ID!) { addMembership(personId: $p, organizationId: $o) { person { id } } }",
            json!({ "p": kid, "o": org }),
        )
        .await;
    }
    let read = "query($id: ID!) { person(id: $id) { firstName enrollments { organization { id } } memberships { organization { id } } } }";
    let orgs = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["organization"]["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let refused = |body: &Value, field: &str| {
        body["errors"].as_array().is_some_and(|errors| {
            errors
                .iter()
                .any(|e| e["path"][1] == field && e["extensions"]["code"] == "FORBIDDEN")
        })
    };

    let body = app
        .gql(&app.provider(&pharmacy), read, json!({ "id": kid }))
        .await;
    assert!(refused(&body, "memberships"), "{body}");
    assert_eq!(
        orgs(&body["data"]["person"]["enrollments"]).len(),
        2,
        "{body}"
    );

    let school_token = app.token(TokenRequest::new(Role::School).org(uuid(&school)));
    let body = app.gql(&school_token, read, json!({ "id": kid })).await;
    assert_eq!(
        orgs(&body["data"]["person"]["enrollments"]),
        std::slice::from_ref(&school),
        "{body}"
    );
    assert!(refused(&body, "memberships"), "{body}");

    let plan_token = app.token(TokenRequest::new(Role::HealthPlan).org(uuid(&plan)));
    let body = app.gql(&plan_token, read, json!({ "id": kid })).await;
    assert_eq!(
        orgs(&body["data"]["person"]["memberships"]),
        std::slice::from_ref(&plan),
        "{body}"
    );
    assert!(refused(&body, "enrollments"), "{body}");
}

/// Hole 7: a refused field was left out of the response instead of answering `null`, and a
/// refused root alias vanished.
#[tokio::test]
async fn refused_fields_are_present_as_null() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let kid = app
        .create_person(&admin, "Nia", "Nullable", "2014-01-01")
        .await;
    let school = app.create_org("School", "SCHOOL").await;
    app.ok(
        &admin,
        "mutation($p: ID!, $o: ID!, $y: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: \"3\") { grade } }",
        json!({ "p": kid, "o": school, "y": policies::school_year_of(app.today()) }),
    )
    .await;
    let token = app.token(TokenRequest::new(Role::School).org(uuid(&school)));
    let body = app
        .gql(
            &token,
            "query($id: ID!, $missing: ID!) { a: person(id: $id) { firstName contact { city } consent { participation } } b: person(id: $missing) { firstName } }",
            json!({ "id": kid, "missing": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    let a = body["data"]["a"].as_object().expect("a");
    assert_eq!(a.get("firstName"), Some(&json!("Nia")), "{body}");
    assert_eq!(a.get("contact"), Some(&Value::Null), "{body}");
    assert_eq!(a.get("consent"), Some(&Value::Null), "{body}");
    let data = body["data"].as_object().expect("data");
    assert_eq!(
        data.get("b"),
        Some(&Value::Null),
        "the refused alias is dropped: {body}"
    );
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"FORBIDDEN") && codes.contains(&"NOT_FOUND"),
        "{body}"
    );
}

/// Hole 3: a guardian's `accessLog` listed a school's roster entry with every classmate's id,
/// and an entry naming the guardian only as the co-subject of an adult's `addGuardian`.
#[tokio::test]
async fn a_guardians_access_log_names_only_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let parent = app
        .create_person(&admin, "Pam", "Logview", "1980-01-01")
        .await;
    let kid = app
        .create_person(&admin, "Kai", "Logview", "2015-01-01")
        .await;
    let adult_child = app
        .create_person(&admin, "Ada", "Logview", "2000-01-01")
        .await;
    let classmates: Vec<String> = {
        let mut ids = Vec::new();
        for name in ["Cy", "Di", "Ed"] {
            ids.push(
                app.create_person(&admin, name, "Classmate", "2015-02-02")
                    .await,
            );
        }
        ids
    };
    let school = app.create_org("School", "SCHOOL").await;
    let year = policies::school_year_of(app.today());
    for p in classmates.iter().chain([&kid]) {
        app.ok(
            &admin,
            "mutation($p: ID!, $o: ID!, $y: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: \"3\") { grade } }",
            json!({ "p": p, "o": school, "y": year }),
        )
        .await;
    }
    for child in [&kid, &adult_child] {
        app.ok(
            &admin,
            "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"parent\") { id } }",
            json!({ "p": child, "g": parent }),
        )
        .await;
    }
    let school_token = app.token(TokenRequest::new(Role::School).org(uuid(&school)));
    app.ok(
        &school_token,
        "query($o: ID!) { roster(organizationId: $o) { edges { node { person { firstName } } } } }",
        json!({ "o": school }),
    )
    .await;

    let guardian = app.token(TokenRequest::new(Role::Guardian).person(uuid(&parent)));
    let data = app.ok(&guardian, LOG, json!({ "first": 200 })).await;
    let entries: Vec<&Value> = data["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert!(
        entries.iter().any(|e| e["action"] == "ROSTER"),
        "the roster read of the ward is the guardian's to see: {data:#}"
    );
    let own = [kid.as_str(), parent.as_str()];
    for e in &entries {
        for id in e["personIds"].as_array().expect("ids") {
            assert!(
                own.contains(&id.as_str().unwrap_or("")),
                "an entry shows someone else: {e:#}"
            );
        }
    }
    let data = app
        .ok(&guardian, LOG_PER_PERSON, json!({ "first": 200 }))
        .await;
    for e in data["accessLog"]["edges"].as_array().expect("edges") {
        for pf in e["node"]["personFields"].as_array().expect("personFields") {
            assert!(
                own.contains(&pf["personId"].as_str().unwrap_or("")),
                "{e:#}"
            );
        }
    }
    // The adult child's `addGuardian` names the parent only as its co-subject.
    let auditor_view = entries_about(&app, &adult_child).await;
    assert!(!auditor_view.is_empty());
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["action"] == "WRITE" && e["fields"] == json!(["Person.guardians"]))
            .count(),
        1,
        "only the ward's addGuardian is the guardian's: {data:#}"
    );
}

async fn post_with(app: &TestApp, token: &str, headers: &[(&str, &str)], body: Value) -> Value {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.json(&body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

/// Item 10: an individual token naming a minor was accepted (individuals are 18+).
#[tokio::test]
async fn an_individual_token_for_a_minor_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let minor = app
        .create_person(&admin, "Mina", "Minor", "2015-01-01")
        .await;
    let adult = app
        .create_person(&admin, "Adam", "Adult", "1990-01-01")
        .await;
    let read = "query($id: ID!) { person(id: $id) { firstName } }";
    let token = app.token(TokenRequest::new(Role::Individual).person(uuid(&minor)));
    let body = app.gql(&token, read, json!({ "id": minor })).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app.gql(&token, "{ me { role } }", json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let token = app.token(TokenRequest::new(Role::Individual).person(uuid(&adult)));
    let data = app.ok(&token, read, json!({ "id": adult })).await;
    assert_eq!(data["person"]["firstName"], "Adam");
}

/// Item 10: 960 KB of repeated directives made an 11 MB error response; validation errors
/// suggested schema names (`Did you mean …`) to a role that may not introspect.
#[tokio::test]
async fn errors_are_capped_and_suggest_nothing() {
    let app = TestApp::spawn().await;
    let school = app.create_org("School", "SCHOOL").await;
    let token = app.token(TokenRequest::new(Role::School).org(uuid(&school)));
    let query = format!("{{ me {{ role {} }} }}", "@x ".repeat(50_000));
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("send");
    let text = resp.text().await.expect("body");
    assert!(
        text.len() < 64 * 1024,
        "a {} byte error response",
        text.len()
    );
    let body: Value = serde_json::from_str(&text).expect("json");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {}", &text[..text.len().min(500)]));
    assert!(
        errors.len() <= schema::MAX_ERRORS,
        "{} errors",
        errors.len()
    );

    let body = app
        .gql(
            &token,
            "{ me { rol } persons(filtr: {}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    let text = body.to_string();
    assert!(body["errors"].is_array(), "{body}");
    assert!(!text.contains("Did you mean"), "{text}");
}

/// Item 10: a 100,000-character `lastName` answered INTERNAL_SERVER_ERROR.
#[tokio::test]
async fn overlong_string_arguments_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let long = "A".repeat(100_000);
    let body = app
        .gql(
            &token,
            "query($l: String) { persons(filter: { lastName: $l }) { edges { cursor } } }",
            json!({ "l": long }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body:.300}");
    let body = app
        .gql(
            &token,
            &format!("{{ persons(filter: {{ lastName: \"{long}\" }}) {{ edges {{ cursor }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

/// Item 10: the caller's `x-request-id` was stored verbatim as the audit request id.
#[tokio::test]
async fn the_audit_request_id_is_the_servers_and_the_callers_is_kept_bounded() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let kid = app
        .create_person(&admin, "Rae", "Requestid", "2015-01-01")
        .await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let read = json!({ "query": "query($id: ID!) { person(id: $id) { firstName } }", "variables": { "id": kid } });
    post_with(
        &app,
        &token,
        &[("x-request-id", "client-chosen-id")],
        read.clone(),
    )
    .await;
    let long = "x".repeat(500);
    post_with(&app, &token, &[("x-request-id", long.as_str())], read).await;
    let auditor = app.token(TokenRequest::new(Role::Auditor));
    let data = app
        .ok(
            &auditor,
            "query($f: AccessLogFilter) { accessLog(filter: $f) { edges { node { action requestId clientRequestId } } } }",
            json!({ "f": { "personId": kid, "action": "READ", "subject": "dev-provider" } }),
        )
        .await;
    let entries = data["accessLog"]["edges"].as_array().expect("edges");
    assert_eq!(entries.len(), 2, "{data}");
    for e in entries {
        let rid = e["node"]["requestId"].as_str().expect("rid");
        assert!(
            rid.parse::<uuid::Uuid>().is_ok(),
            "{rid} is not the server's"
        );
    }
    assert_eq!(
        entries[0]["node"]["clientRequestId"],
        Value::Null,
        "unbounded id kept"
    );
    assert_eq!(entries[1]["node"]["clientRequestId"], "client-chosen-id");
}

/// Item 10: one APQ store for all callers: probing a hash told anyone what someone else ran.
#[tokio::test]
async fn persisted_queries_are_kept_per_organization() {
    use sha2::Digest as _;
    let app = TestApp::spawn().await;
    let a = app.create_org("Clinic A", "CLINIC").await;
    let b = app.create_org("Clinic B", "CLINIC").await;
    let query = "query Secret { me { role } }";
    let hash = hex::encode(sha2::Sha256::digest(query.as_bytes()));
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let body = post_with(
        &app,
        &app.provider(&a),
        &[],
        json!({ "query": query, "extensions": ext }),
    )
    .await;
    assert_eq!(body["data"]["me"]["role"], "PROVIDER", "{body}");
    let body = post_with(&app, &app.provider(&a), &[], json!({ "extensions": ext })).await;
    assert_eq!(body["data"]["me"]["role"], "PROVIDER", "{body}");
    let body = post_with(&app, &app.provider(&b), &[], json!({ "extensions": ext })).await;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
}

/// Item 10: one log entry per request lost which fields were read of which person.
#[tokio::test]
async fn an_entry_records_the_fields_read_of_each_person() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let kid = app
        .create_person(&admin, "Fay", "Fields", "2015-01-01")
        .await;
    let parent = app
        .create_person(&admin, "Fox", "Fields", "1980-01-01")
        .await;
    app.ok(
        &admin,
        "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"parent\") { id } }",
        json!({ "p": kid, "g": parent }),
    )
    .await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    app.ok(
        &app.provider(&clinic),
        "query($id: ID!) { person(id: $id) { contact { city } guardians { person { firstName } } } }",
        json!({ "id": kid }),
    )
    .await;
    let auditor = app.token(TokenRequest::new(Role::Auditor));
    let data = app
        .ok(
            &auditor,
            "query($f: AccessLogFilter) { accessLog(filter: $f) { edges { node { personFields { personId fields } } } } }",
            json!({ "f": { "personId": kid, "action": "READ" } }),
        )
        .await;
    let per_person = &data["accessLog"]["edges"][0]["node"]["personFields"];
    let of = |id: &str| -> Value {
        per_person
            .as_array()
            .and_then(|a| a.iter().find(|p| p["personId"] == id))
            .map(|p| p["fields"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(of(&kid), json!(["contact", "guardians"]), "{data}");
    assert_eq!(of(&parent), json!(["identity"]), "{data}");
}
