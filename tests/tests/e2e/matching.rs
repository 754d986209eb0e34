//! One person, one record (issue 15) over HTTP: submissions resolved by the matching engine,
//! the review queue, merge and unmerge, merged ids on a second instance.

use gateway::config::Secret;
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const CREATE: &str = "mutation($i: PersonInput!) { createPerson(input: $i) { id firstName } }";

fn child(first: &str, street: &str, mrn: (&str, &str)) -> Value {
    json!({
        "firstName": first, "middleName": "Rose", "lastName": "Lindqvist",
        "dateOfBirth": "2024-03-14", "gender": "FEMALE", "mothersMaidenName": "Berg",
        "contact": { "addressLine1": street, "city": "Saint Paul", "state": "MN",
                     "postalCode": "55104", "phone": "651-555-0100" },
        "identifiers": [{ "kind": "MRN", "authority": mrn.0, "value": mrn.1 }],
    })
}

async fn create(app: &TestApp, token: &str, input: Value) -> String {
    let data = app.ok(token, CREATE, json!({ "i": input })).await;
    data["createPerson"]["id"].as_str().expect("id").to_owned()
}

async fn cvxs(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let data = app
        .ok(
            token,
            "query($id: ID!) { person(id: $id) { doses { vaccine { cvx } dateGiven } } }",
            json!({ "id": id }),
        )
        .await;
    let mut out: Vec<String> = data["person"]["doses"]
        .as_array()
        .expect("doses")
        .iter()
        .map(|d| format!("{}@{}", d["vaccine"]["cvx"], d["dateGiven"]))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_same_child_from_two_clinics_is_one_person_with_both_clinics_doses() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        app.create_org("Clinic A", "CLINIC").await,
        app.create_org("Clinic B", "CLINIC").await,
    );
    let (ta, tb) = (app.provider(&a), app.provider(&b));
    let first = create(
        &app,
        &ta,
        child("Annika", "12 Elm St", ("CLINIC-A", "A-1001")),
    )
    .await;
    app.record_dose(&ta, &first, "08", "2024-03-14").await;
    // A typo in the first name, a new address, the other clinic's MRN.
    let second = create(
        &app,
        &tb,
        child("Anika", "400 Oak Ave", ("CLINIC-B", "B-77")),
    )
    .await;
    assert_eq!(second, first, "linked to the person the registry holds");
    app.record_dose(&tb, &second, "20", "2024-05-14").await;
    let admin = app.admin();
    assert_eq!(
        cvxs(&app, &admin, &first).await,
        ["\"08\"@\"2024-03-14\"", "\"20\"@\"2024-05-14\""]
    );
    // One person: a search finds one Lindqvist.
    let found = app
        .ok(
            &admin,
            "{ persons(filter: {lastName: \"Lindqvist\"}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(found["persons"]["edges"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn twins_stay_two_persons() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let mut one = child("Ella", "5 Pine St", ("H", "1"));
    one["multipleBirth"] = json!(true);
    one["birthOrder"] = json!(1);
    let mut two = child("Emma", "5 Pine St", ("H", "2"));
    two["multipleBirth"] = json!(true);
    two["birthOrder"] = json!(2);
    let a = create(&app, &admin, one).await;
    let b = create(&app, &admin, two).await;
    assert_ne!(a, b);
    let reviews = app.ok(&admin, "{ matchReviews { id } }", json!({})).await;
    assert_eq!(
        reviews["matchReviews"],
        json!([]),
        "twins are not even a question"
    );
}

#[tokio::test]
async fn a_review_merge_and_unmerge_restore_exactly_the_prior_state() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let provider = app.provider(&clinic);
    let admin = app.admin();
    let first = create(&app, &provider, child("Maria", "9 Lake Rd", ("C", "1"))).await;
    let mut other = child("Sofia", "9 Lake Rd", ("C", "2"));
    other["middleName"] = json!(null);
    let second = create(&app, &provider, other).await;
    assert_ne!(first, second, "a first-name difference is never linked");
    app.record_dose(&provider, &first, "08", "2024-03-14").await;
    app.record_dose(&provider, &second, "08", "2024-03-14")
        .await;
    app.record_dose(&provider, &second, "20", "2024-05-14")
        .await;
    let reviews = app
        .ok(
            &admin,
            "{ matchReviews { id score state person { id } candidate { id } } }",
            json!({}),
        )
        .await;
    let review = &reviews["matchReviews"][0];
    assert_eq!(review["person"]["id"], json!(second), "{reviews}");
    assert_eq!(review["candidate"]["id"], json!(first));
    let before_first = cvxs(&app, &admin, &first).await;
    let before_second = cvxs(&app, &admin, &second).await;

    // Only registry staff merge.
    let refused = app
        .gql(
            &provider,
            "mutation($s: ID!, $d: ID!) { mergePersons(survivorId: $s, duplicateId: $d) { id } }",
            json!({ "s": first, "d": second }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    let merged = app
        .ok(
            &admin,
            "mutation($s: ID!, $d: ID!) { mergePersons(survivorId: $s, duplicateId: $d) { id survivorId duplicateId } }",
            json!({ "s": first, "d": second }),
        )
        .await;
    let merge_id = merged["mergePersons"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // The same-day hepatitis B doses are one dose now; the duplicate's id resolves to the
    // survivor, for staff and for the provider alike.
    assert_eq!(
        cvxs(&app, &admin, &first).await,
        ["\"08\"@\"2024-03-14\"", "\"20\"@\"2024-05-14\""]
    );
    let via_old = app
        .ok(
            &provider,
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": second }),
        )
        .await;
    assert_eq!(via_old["person"]["id"], json!(first));
    let open = app.ok(&admin, "{ matchReviews { id } }", json!({})).await;
    assert_eq!(
        open["matchReviews"],
        json!([]),
        "the merge settles the review"
    );
    let log = app
        .ok(
            &admin,
            "{ accessLog(first: 50) { edges { node { action fields } } } }",
            json!({}),
        )
        .await;
    assert!(
        log.to_string().contains("MERGE"),
        "the merge is in the access log: {log}"
    );

    app.ok(
        &admin,
        "mutation($m: ID!) { unmergePerson(mergeId: $m) { unmergedAt } }",
        json!({ "m": merge_id }),
    )
    .await;
    assert_eq!(cvxs(&app, &admin, &first).await, before_first);
    assert_eq!(cvxs(&app, &admin, &second).await, before_second);
    let again = app
        .ok(
            &provider,
            "query($id: ID!) { person(id: $id) { id firstName } }",
            json!({ "id": second }),
        )
        .await;
    assert_eq!(again["person"]["id"], json!(second), "access as before");
    let open = app.ok(&admin, "{ matchReviews { id } }", json!({})).await;
    assert_eq!(
        open["matchReviews"].as_array().map(Vec::len),
        Some(1),
        "the review is open again"
    );
}

#[tokio::test]
async fn a_merge_never_loses_a_lock_and_refuses_an_opted_out_person() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        app.create_org("Locking clinic", "CLINIC").await,
        app.create_org("Other clinic", "CLINIC").await,
    );
    let admin = app.admin();
    let survivor = app.create_person(&admin, "Lo", "Cked", "2019-01-01").await;
    let duplicate = app.create_person(&admin, "Lo", "Cked", "2019-01-02").await;
    let opted = app.create_person(&admin, "Op", "Ted", "2019-01-03").await;
    let set_consent = "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { participation } }";
    app.ok(
        &admin,
        set_consent,
        json!({ "p": duplicate, "i": { "lockedToId": a, "channel": "FORM" } }),
    )
    .await;
    app.ok(
        &admin,
        set_consent,
        json!({ "p": opted, "i": { "participation": "OPTED_OUT", "channel": "FORM" } }),
    )
    .await;
    let merge =
        "mutation($s: ID!, $d: ID!) { mergePersons(survivorId: $s, duplicateId: $d) { id } }";
    let refused = app
        .gql(&admin, merge, json!({ "s": opted, "d": survivor }))
        .await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    app.ok(&admin, merge, json!({ "s": survivor, "d": duplicate }))
        .await;
    // The duplicate's lock now locks the survivor: the other clinic is refused.
    let other = app
        .gql(
            &app.provider(&b),
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": survivor }),
        )
        .await;
    assert_eq!(error_code(&other), Some("RECORD_LOCKED"), "{other}");
}

#[tokio::test]
async fn a_providers_match_persons_never_returns_a_locked_or_opted_out_person() {
    let app = TestApp::spawn().await;
    let (mine, theirs) = (
        app.create_org("Mine", "CLINIC").await,
        app.create_org("Theirs", "CLINIC").await,
    );
    let admin = app.admin();
    let open = create(&app, &admin, child("Open", "1 A St", ("X", "1"))).await;
    let locked = create(&app, &admin, child("Lockedina", "1 A St", ("X", "2"))).await;
    let opted = create(&app, &admin, child("Optedout", "1 A St", ("X", "3"))).await;
    let set_consent = "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { participation } }";
    app.ok(
        &admin,
        set_consent,
        json!({ "p": locked, "i": { "lockedToId": theirs, "channel": "FORM" } }),
    )
    .await;
    app.ok(
        &admin,
        set_consent,
        json!({ "p": opted, "i": { "participation": "OPTED_OUT", "channel": "FORM" } }),
    )
    .await;
    let query =
        "query($i: PersonInput!) { matchPersons(input: $i) { person { id } decision score } }";
    let ids = |v: &Value| -> Vec<String> {
        v["matchPersons"]
            .as_array()
            .expect("list")
            .iter()
            .map(|m| m["person"]["id"].as_str().expect("id").to_owned())
            .collect()
    };
    for first in ["Open", "Lockedina", "Optedout"] {
        let seen = app
            .ok(
                &app.provider(&mine),
                query,
                json!({ "i": child(first, "1 A St", ("X", "9")) }),
            )
            .await;
        let seen = ids(&seen);
        assert!(
            !seen.contains(&locked) && !seen.contains(&opted),
            "{first}: {seen:?}"
        );
        if first == "Open" {
            assert_eq!(seen.first(), Some(&open), "the visible person is found");
        }
        let staff = app
            .ok(
                &admin,
                query,
                json!({ "i": child(first, "1 A St", ("X", "9")) }),
            )
            .await;
        assert!(!ids(&staff).is_empty(), "staff see every candidate");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_ids_resolve_on_a_second_instance_sharing_the_cache() {
    let shared = tempfile::tempdir().expect("dir");
    let redis = std::env::var("REDIS_URL").ok();
    let namespace = format!("merge-{}", uuid::Uuid::new_v4().simple());
    let mut url = None;
    let a = TestApp::spawn_with(|s| {
        s.data_dir = shared.path().to_owned();
        s.redis_url = redis.clone().map(Secret::new);
        s.cache.namespace = Some(namespace.clone());
        url = s.database_url.as_ref().map(|u| u.expose().to_owned());
    })
    .await;
    let b = TestApp::spawn_with(|s| {
        s.data_dir = shared.path().to_owned();
        s.redis_url = redis.clone().map(Secret::new);
        s.cache.namespace = Some(namespace.clone());
        s.database_url = url.map(Secret::new);
    })
    .await;
    let admin = a.admin();
    let survivor = a.create_person(&admin, "Sur", "Vivor", "2018-02-02").await;
    let duplicate = a.create_person(&admin, "Du", "Plicate", "2018-02-03").await;
    a.record_dose(&admin, &duplicate, "03", "2019-02-03").await;
    let read = "query($id: ID!) { person(id: $id) { id firstName doses { vaccine { cvx } } } }";
    // Both instances hold a cached copy of the duplicate.
    for app in [&a, &b] {
        let d = app.ok(&app.admin(), read, json!({ "id": duplicate })).await;
        assert_eq!(d["person"]["id"], json!(duplicate));
    }
    a.ok(
        &admin,
        "mutation($s: ID!, $d: ID!) { mergePersons(survivorId: $s, duplicateId: $d) { id } }",
        json!({ "s": survivor, "d": duplicate }),
    )
    .await;
    let on_b = b.ok(&b.admin(), read, json!({ "id": duplicate })).await;
    assert_eq!(on_b["person"]["id"], json!(survivor), "{on_b}");
    assert_eq!(on_b["person"]["doses"][0]["vaccine"]["cvx"], json!("03"));
    let entities = b
        .ok(
            &b.admin(),
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id } } }",
            json!({ "r": [{ "__typename": "Person", "id": duplicate }] }),
        )
        .await;
    assert_eq!(
        entities["_entities"][0]["id"],
        json!(survivor),
        "{entities}"
    );
}
