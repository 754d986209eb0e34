//! Persons: create, read, search, update, guardians, enrollments, memberships.

use serde_json::json;

use crate::support::{error_code, TestApp};

const PERSON_FIELDS: &str = "id firstName middleName lastName dateOfBirth gender
    contact { addressLine1 addressLine2 city state postalCode phone email }
    guardians { relationship person { id firstName } }
    doses { id } recommendations { vaccineGroup } contraindications { id }
    consent { participation reminders lockedTo { id } history { channel } }";

#[tokio::test]
async fn a_provider_creates_reads_and_updates_a_person() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let data = app
        .ok(
            &token,
            "mutation($i: PersonInput!) { createPerson(input: $i) { id firstName lastName dateOfBirth gender contact { city email } } }",
            json!({ "i": { "firstName": " Ada ", "middleName": "B", "lastName": "Lovelace", "dateOfBirth": "2020-02-29",
                           "gender": "FEMALE", "contact": { "city": "Duluth", "email": "ada@example.org" } } }),
        )
        .await;
    let p = &data["createPerson"];
    assert_eq!(p["firstName"], "Ada", "names are trimmed");
    assert_eq!(p["dateOfBirth"], "2020-02-29");
    assert_eq!(p["contact"]["city"], "Duluth");
    let id = p["id"].as_str().expect("id");

    let data = app
        .ok(
            &token,
            &format!("query($id: ID!) {{ person(id: $id) {{ {PERSON_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let person = &data["person"];
    assert_eq!(person["middleName"], "B");
    assert_eq!(person["consent"]["participation"], "PARTICIPATING");
    assert_eq!(person["consent"]["reminders"], true);
    assert_eq!(person["doses"], json!([]));
    assert!(
        person["recommendations"]
            .as_array()
            .is_some_and(|r| r.iter().any(|g| g["vaccineGroup"] == "HepB")),
        "a child born in 2020 with no doses is due HepB: {person}"
    );

    let data = app
        .ok(
            &token,
            "mutation($id: ID!, $p: PersonPatch!) { updatePerson(id: $id, input: $p) { firstName lastName gender contact { city phone } } }",
            json!({ "id": id, "p": { "lastName": "King", "gender": "UNKNOWN", "contact": { "city": "Ely", "phone": "218-555-0100" } } }),
        )
        .await;
    assert_eq!(data["updatePerson"]["lastName"], "King");
    assert_eq!(
        data["updatePerson"]["firstName"], "Ada",
        "untouched fields stay"
    );
    assert_eq!(data["updatePerson"]["gender"], "UNKNOWN");
    assert_eq!(data["updatePerson"]["contact"]["phone"], "218-555-0100");
}

#[tokio::test]
async fn search_matches_name_prefixes_and_dates_and_pages_with_cursors() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for (first, dob) in [
        ("Anna", "2015-01-01"),
        ("Bert", "2015-01-01"),
        ("Carl", "2016-05-05"),
        ("Dina", "2017-07-07"),
        ("Eve", "2018-08-08"),
    ] {
        app.create_person(&admin, first, "Lindqvist", dob).await;
    }
    app.create_person(&admin, "Zed", "Other", "2015-01-01")
        .await;

    let q = "query($f: PersonFilter!, $first: Int, $after: String) { persons(filter: $f, first: $first, after: $after) { edges { cursor node { firstName } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let data = app
            .ok(
                &admin,
                q,
                json!({ "f": { "lastName": "lind" }, "first": 2, "after": after }),
            )
            .await;
        let conn = &data["persons"];
        for e in conn["edges"].as_array().expect("edges") {
            seen.push(e["node"]["firstName"].as_str().expect("name").to_owned());
        }
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["Anna", "Bert", "Carl", "Dina", "Eve"]);

    let data = app
        .ok(&admin, q, json!({ "f": { "dateOfBirth": "2015-01-01" } }))
        .await;
    assert_eq!(data["persons"]["edges"].as_array().map(Vec::len), Some(3));

    let body = app.gql(&admin, q, json!({ "f": {} })).await;
    assert_eq!(
        error_code(&body),
        Some("BAD_USER_INPUT"),
        "an empty filter would list the registry"
    );
    let body = app
        .gql(
            &admin,
            q,
            json!({ "f": { "lastName": "lind" }, "after": "not-a-cursor" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let body = app
        .gql(
            &admin,
            q,
            json!({ "f": { "lastName": "lind" }, "first": 0 }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn search_treats_like_wildcards_literally() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    app.create_person(&admin, "Al", "Smith", "2010-01-01").await;
    let data = app
        .ok(
            &admin,
            "{ persons(filter: { lastName: \"%\" }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["persons"]["edges"], json!([]));
}

#[tokio::test]
async fn bad_person_input_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let create = "mutation($i: PersonInput!) { createPerson(input: $i) { id } }";
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(2)).to_string();
    for (input, why) in [
        (
            json!({ "firstName": "  ", "lastName": "Blank", "dateOfBirth": "2010-01-01", "gender": "MALE" }),
            "blank first name",
        ),
        (
            json!({ "firstName": "A", "lastName": "", "dateOfBirth": "2010-01-01", "gender": "MALE" }),
            "blank last name",
        ),
        (
            json!({ "firstName": "A", "lastName": "Future", "dateOfBirth": tomorrow, "gender": "MALE" }),
            "future birth",
        ),
        (
            json!({ "firstName": "A", "lastName": "BadDate", "dateOfBirth": "2010-13-01", "gender": "MALE" }),
            "not a date",
        ),
        (
            json!({ "firstName": "A", "lastName": "BadGender", "dateOfBirth": "2010-01-01", "gender": "X" }),
            "unknown enum",
        ),
    ] {
        let body = app.gql(&admin, create, json!({ "i": input })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
    }
    let body = app
        .gql(
            &admin,
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": "not-a-uuid" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "malformed ID");
    let body = app
        .gql(
            &admin,
            "mutation { updatePerson(id: \"42\", input: { firstName: \"X\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));

    let data = app
        .ok(
            &admin,
            "{ persons(filter: { dateOfBirth: \"2010-01-01\" }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["persons"]["edges"], json!([]), "nothing was written");
}

#[tokio::test]
async fn an_unknown_person_is_not_found() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            &app.admin(),
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": uuid::Uuid::new_v4() }),
        )
        .await;
    assert_eq!(body["data"]["person"], serde_json::Value::Null);
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
}

#[tokio::test]
async fn guardians_enrollments_and_memberships_are_linked_and_read_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let school = app.create_org("Lincoln Elementary", "SCHOOL").await;
    let plan = app.create_org("Gopher Health", "HEALTH_PLAN").await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let kid = app.create_person(&admin, "Kim", "Vang", "2016-03-03").await;
    let mom = app.create_person(&admin, "Mai", "Vang", "1988-01-01").await;

    let data = app
        .ok(
            &admin,
            "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"mother\") { guardians { relationship person { id firstName } } } }",
            json!({ "p": kid, "g": mom }),
        )
        .await;
    assert_eq!(
        data["addGuardian"]["guardians"][0]["person"]["id"],
        mom.as_str()
    );
    assert_eq!(
        data["addGuardian"]["guardians"][0]["relationship"],
        "mother"
    );

    let body = app
        .gql(&admin, "mutation($p: ID!) { addGuardian(personId: $p, guardianId: $p, relationship: \"self\") { id } }", json!({ "p": kid }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let body = app
        .gql(&admin, "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"child\") { id } }", json!({ "p": mom, "g": kid }))
        .await;
    assert_eq!(
        error_code(&body),
        Some("BAD_USER_INPUT"),
        "a guardian must be older"
    );

    let data = app
        .ok(
            &admin,
            "mutation($p: ID!, $o: ID!) { enroll(personId: $p, organizationId: $o, schoolYear: \"2026-2027\", grade: \"4\") { schoolYear grade organization { id name kind } person { id } } }",
            json!({ "p": kid, "o": school }),
        )
        .await;
    assert_eq!(data["enroll"]["grade"], "4");
    assert_eq!(data["enroll"]["organization"]["kind"], "SCHOOL");
    for (year, grade, org) in [
        ("2026-2028", "4", &school),
        ("2026-2027", "13", &school),
        ("2026-2027", "4", &clinic),
    ] {
        let body = app
            .gql(
                &admin,
                "mutation($p: ID!, $o: ID!, $y: String!, $g: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: $g) { grade } }",
                json!({ "p": kid, "o": org, "y": year, "g": grade }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{year} {grade}");
    }

    let data = app
        .ok(
            &admin,
            "mutation($p: ID!, $o: ID!) { addMembership(personId: $p, organizationId: $o) { organization { name } person { id } } }",
            json!({ "p": kid, "o": plan }),
        )
        .await;
    assert_eq!(
        data["addMembership"]["organization"]["name"],
        "Gopher Health"
    );
    let body = app
        .gql(&admin, "mutation($p: ID!, $o: ID!) { addMembership(personId: $p, organizationId: $o) { person { id } } }", json!({ "p": kid, "o": school }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));

    let data = app
        .ok(&admin, "query($id: ID!) { person(id: $id) { enrollments { grade } memberships { organization { id } } } }", json!({ "id": kid }))
        .await;
    assert_eq!(data["person"]["enrollments"][0]["grade"], "4");
    assert_eq!(
        data["person"]["memberships"][0]["organization"]["id"],
        plan.as_str()
    );
}

#[tokio::test]
async fn schools_and_plans_cannot_write() {
    let app = TestApp::spawn().await;
    let school = app.create_org("School", "SCHOOL").await;
    let token = app.token(
        gateway::auth::TokenRequest::new(policies::Role::School).org(school.parse().expect("uuid")),
    );
    let body = app
        .gql(&token, "mutation { createPerson(input: { firstName: \"A\", lastName: \"B\", dateOfBirth: \"2010-01-01\", gender: MALE }) { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}
