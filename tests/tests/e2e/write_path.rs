//! The write path of issue 14: who may learn that a person opted out (hole 5), combination
//! vaccines (hole 4), reported and verified guardians (hole 8), what an opt-out removes and
//! whose dose a writer may record (item 10).

use entities::model::{birth_date_change, dose_report};
use gateway::auth::TokenRequest;
use policies::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const SET: &str = "mutation($p: ID!, $i: ConsentInput!) { setConsent(personId: $p, input: $i) { participation } }";
const DOSE: &str = "mutation($i: DoseInput!) { recordDose(input: $i) { stored duplicateOf dose { id vaccine { cvx } } } }";

/// A response with the parts that differ between any two requests (the request id) removed.
fn answer(mut body: Value) -> Value {
    if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
        for e in errors {
            if let Some(ext) = e.get_mut("extensions").and_then(Value::as_object_mut) {
                ext.remove("requestId");
            }
        }
    }
    body
}

fn uuid(id: &str) -> uuid::Uuid {
    id.parse().expect("uuid")
}

#[tokio::test]
async fn an_opted_out_person_is_unknown_to_whoever_could_not_write_to_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let a = app.create_org("Clinic A", "CLINIC").await;
    let b = app.create_org("Clinic B", "CLINIC").await;
    let school = app.create_org("School", "SCHOOL").await;
    let plan = app.create_org("Plan", "HEALTH_PLAN").await;
    let kid = app
        .create_person(&app.provider(&a), "Pa", "Xiong", "2017-02-02")
        .await;
    let locked = app
        .create_person(&app.provider(&a), "Mai", "Vang", "2016-03-03")
        .await;
    app.ok(
        &admin,
        SET,
        json!({ "p": locked, "i": { "lockedToId": a, "channel": "PROVIDER" } }),
    )
    .await;
    for p in [&kid, &locked] {
        app.ok(
            &admin,
            SET,
            json!({ "p": p, "i": { "participation": "OPTED_OUT", "channel": "FORM" } }),
        )
        .await;
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    let dose = |token: String, person: String| {
        let app = &app;
        async move {
            answer(
                app.gql(
                    &token,
                    DOSE,
                    json!({ "i": { "personId": person, "cvx": "20", "dateGiven": "2018-01-01" } }),
                )
                .await,
            )
        }
    };
    let acknowledged =
        json!({ "data": { "recordDose": { "stored": false, "duplicateOf": null, "dose": null } } });

    // Who could write to them were they participating is told the dose was not stored.
    assert_eq!(dose(app.provider(&a), kid.clone()).await, acknowledged);
    assert_eq!(dose(app.provider(&b), kid.clone()).await, acknowledged);
    assert_eq!(dose(app.provider(&a), locked.clone()).await, acknowledged);
    assert_eq!(dose(admin.clone(), kid.clone()).await, acknowledged);

    // Everyone else gets exactly what an id that does not exist gets.
    let outsiders = [
        (
            "provider kept out by a lock",
            app.provider(&b),
            locked.clone(),
        ),
        (
            "dose:write without person:read",
            app.token(
                TokenRequest::new(Role::Provider)
                    .org(uuid(&b))
                    .scope("dose:write"),
            ),
            kid.clone(),
        ),
        (
            "read-only provider",
            app.token(
                TokenRequest::new(Role::Provider)
                    .org(uuid(&a))
                    .scope("person:read"),
            ),
            kid.clone(),
        ),
        (
            "school",
            app.token(TokenRequest::new(Role::School).org(uuid(&school))),
            kid.clone(),
        ),
        (
            "health plan",
            app.token(TokenRequest::new(Role::HealthPlan).org(uuid(&plan))),
            kid.clone(),
        ),
    ];
    for (who, token, person) in outsiders {
        let opted_out = dose(token.clone(), person).await;
        let nobody = dose(token, unknown.clone()).await;
        assert!(opted_out.get("errors").is_some(), "{who}: {opted_out:#}");
        assert_eq!(opted_out, nobody, "{who}");
    }
    // And nothing was stored for anyone.
    let data = app
        .ok(
            &admin,
            "query($id: ID!) { person(id: $id) { doses { id } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(data["person"]["doses"], json!([]));
}

#[tokio::test]
async fn a_combination_vaccine_and_a_single_antigen_dose_on_one_day_are_both_kept() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app
        .create_person(&token, "Ada", "Olson", "2024-03-01")
        .await;
    let hepb = app.record_dose(&token, &kid, "08", "2024-05-01").await;
    assert_eq!(hepb["data"]["recordDose"]["stored"], true, "{hepb:#}");
    // DTaP-HepB-IPV shares only HepB with it: a second dose, not a duplicate.
    let combo = app.record_dose(&token, &kid, "110", "2024-05-01").await;
    assert_eq!(combo["data"]["recordDose"]["stored"], true, "{combo:#}");
    assert_eq!(combo["data"]["recordDose"]["duplicateOf"], Value::Null);
    let data = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { doses { vaccine { cvx } } recommendations(asOf: \"2024-05-02\") { vaccineGroup doseNumber } } }",
            json!({ "id": kid }),
        )
        .await;
    let cvx: Vec<&str> = data["person"]["doses"]
        .as_array()
        .expect("doses")
        .iter()
        .filter_map(|d| d["vaccine"]["cvx"].as_str())
        .collect();
    assert_eq!(cvx.len(), 2, "{cvx:?}");
    assert!(cvx.contains(&"08") && cvx.contains(&"110"), "{cvx:?}");
    let dose_number = |group: &str| {
        data["person"]["recommendations"]
            .as_array()
            .and_then(|r| r.iter().find(|g| g["vaccineGroup"] == group))
            .map(|g| g["doseNumber"].clone())
    };
    // The DTaP and polio components count: the next of each is dose 2, not dose 1.
    assert_eq!(dose_number("DTaP/Tdap/Td"), Some(json!(2)), "{data:#}");
    assert_eq!(dose_number("Polio"), Some(json!(2)), "{data:#}");
    // Flagged for data quality, naming each other.
    let flags = dose_report::Entity::find()
        .filter(dose_report::Column::Kind.eq(dose_report::SHARES_ANTIGENS))
        .all(app.store.connection())
        .await
        .expect("reports");
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(
        flags[0].related_dose_id.map(|d| d.to_string()),
        hepb["data"]["recordDose"]["dose"]["id"]
            .as_str()
            .map(str::to_owned)
    );
}

#[tokio::test]
async fn an_unspecified_dose_merges_into_the_specific_one_keeping_both_reports() {
    let app = TestApp::spawn().await;
    let a = app.create_org("Clinic A", "CLINIC").await;
    let b = app.create_org("Clinic B", "CLINIC").await;
    let kid = app
        .create_person(&app.provider(&a), "Ivo", "Lind", "2022-01-01")
        .await;
    // Clinic A reports "DTaP, unspecified formulation"; clinic B reports the product.
    let first = app
        .record_dose(&app.provider(&a), &kid, "107", "2022-03-05")
        .await;
    let first_id = first["data"]["recordDose"]["dose"]["id"].clone();
    let second = app
        .record_dose(&app.provider(&b), &kid, "20", "2022-03-05")
        .await;
    assert_eq!(second["data"]["recordDose"]["stored"], false, "{second:#}");
    assert_eq!(second["data"]["recordDose"]["duplicateOf"], first_id);
    assert_eq!(second["data"]["recordDose"]["dose"]["vaccine"]["cvx"], "20");
    // The same vaccine again is a duplicate too, and the specific code stays.
    let third = app
        .record_dose(&app.provider(&a), &kid, "107", "2022-03-05")
        .await;
    assert_eq!(third["data"]["recordDose"]["duplicateOf"], first_id);
    assert_eq!(third["data"]["recordDose"]["dose"]["vaccine"]["cvx"], "20");
    let data = app
        .ok(
            &app.provider(&a),
            "query($id: ID!) { person(id: $id) { doses { vaccine { cvx } reportedBy { id } } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(
        data["person"]["doses"],
        json!([{ "vaccine": { "cvx": "20" }, "reportedBy": { "id": a } }])
    );
    let merged = dose_report::Entity::find()
        .filter(dose_report::Column::Kind.eq(dose_report::MERGED))
        .all(app.store.connection())
        .await
        .expect("reports");
    let reporters: Vec<String> = merged
        .iter()
        .filter_map(|r| r.reported_by_org_id.map(|o| o.to_string()))
        .collect();
    assert_eq!(
        reporters,
        [b.clone(), a.clone()],
        "every report's provenance"
    );
}

#[tokio::test]
async fn a_dose_is_administered_by_the_writers_own_organization() {
    let app = TestApp::spawn().await;
    let a = app.create_org("Clinic A", "CLINIC").await;
    let b = app.create_org("Clinic B", "CLINIC").await;
    let school = app.create_org("School", "SCHOOL").await;
    let token = app.provider(&a);
    let kid = app.create_person(&token, "Eli", "Berg", "2020-01-01").await;
    let mutation = "mutation($i: DoseInput!) { recordDose(input: $i) { stored dose { administeredBy { id } } } }";
    let with = |org: &str, date: &str| json!({ "i": { "personId": kid, "cvx": "20", "dateGiven": date, "administeredById": org } });
    for (org, date) in [(&school, "2020-03-01"), (&b, "2020-03-02")] {
        let body = app.gql(&token, mutation, with(org, date)).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body:#}");
    }
    let own = app.ok(&token, mutation, with(&a, "2020-03-03")).await;
    assert_eq!(
        own["recordDose"]["dose"]["administeredBy"]["id"],
        a.as_str()
    );
    let staff = app.ok(&app.admin(), mutation, with(&b, "2020-06-04")).await;
    assert_eq!(
        staff["recordDose"]["dose"]["administeredBy"]["id"],
        b.as_str()
    );
    let data = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { doses { id } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(data["person"]["doses"].as_array().map(Vec::len), Some(2));
}

const ADD_GUARDIAN: &str = "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"mother\") { id } }";
const VERIFY_GUARDIAN: &str =
    "mutation($p: ID!, $g: ID!) { verifyGuardian(personId: $p, guardianId: $g) { id } }";
const READ: &str = "query($id: ID!) { person(id: $id) { firstName contact { city } } }";

#[tokio::test]
async fn a_providers_guardian_link_is_reported_and_grants_nothing_until_verified() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let provider = app.provider(&clinic);
    let kid = app
        .create_person(&provider, "Kim", "Moua", "2019-04-04")
        .await;
    let stranger = app
        .create_person(&provider, "Sam", "Moua", "1980-01-01")
        .await;
    app.ok(&provider, ADD_GUARDIAN, json!({ "p": kid, "g": stranger }))
        .await;
    let guardian = app.token(TokenRequest::new(Role::Guardian).person(uuid(&stranger)));
    let body = app.gql(&guardian, READ, json!({ "id": kid })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body:#}");
    // The reported link is data: the provider sees it.
    let data = app
        .ok(
            &provider,
            "query($id: ID!) { person(id: $id) { guardians { relationship person { id } } } }",
            json!({ "id": kid }),
        )
        .await;
    assert_eq!(
        data["person"]["guardians"][0]["person"]["id"],
        stranger.as_str()
    );
    // Only registry staff verify.
    let body = app
        .gql(
            &provider,
            VERIFY_GUARDIAN,
            json!({ "p": kid, "g": stranger }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body:#}");
    let body = app.gql(&guardian, READ, json!({ "id": kid })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    app.ok(
        &app.admin(),
        VERIFY_GUARDIAN,
        json!({ "p": kid, "g": stranger }),
    )
    .await;
    let data = app.ok(&guardian, READ, json!({ "id": kid })).await;
    assert_eq!(data["person"]["firstName"], "Kim");
    // An unknown pair is not found, not created.
    let body = app
        .gql(
            &app.admin(),
            VERIFY_GUARDIAN,
            json!({ "p": stranger, "g": kid }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body:#}");
}

#[tokio::test]
async fn a_birth_date_change_that_reopens_a_guardians_access_needs_registry_staff() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let provider = app.provider(&clinic);
    let admin = app.admin();
    let today = app.today();
    let eighteen = today
        .checked_sub_months(chrono::Months::new(18 * 12 + 1))
        .expect("date")
        .to_string();
    let adult = app
        .create_person(&provider, "Ann", "Hmong", &eighteen)
        .await;
    let mom = app
        .create_person(&provider, "Ma", "Hmong", "1970-01-01")
        .await;
    app.ok(&admin, ADD_GUARDIAN, json!({ "p": adult, "g": mom }))
        .await;
    let guardian = app.token(TokenRequest::new(Role::Guardian).person(uuid(&mom)));
    let body = app.gql(&guardian, READ, json!({ "id": adult })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "an adult's record");

    let update = "mutation($id: ID!, $d: Date!) { updatePerson(id: $id, input: { dateOfBirth: $d }) { dateOfBirth } }";
    let body = app
        .gql(&provider, update, json!({ "id": adult, "d": "2015-06-01" }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body:#}");
    let body = app.gql(&guardian, READ, json!({ "id": adult })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "still closed");
    // A correction that opens nothing is the provider's to make, and is audited.
    let older = "1999-09-09";
    app.ok(&provider, update, json!({ "id": adult, "d": older }))
        .await;
    // Registry staff may make the change that reopens access.
    app.ok(&admin, update, json!({ "id": adult, "d": "2015-06-01" }))
        .await;
    let data = app.ok(&guardian, READ, json!({ "id": adult })).await;
    assert_eq!(data["person"]["firstName"], "Ann");
    let changes = birth_date_change::Entity::find()
        .filter(birth_date_change::Column::PersonId.eq(uuid(&adult)))
        .all(app.store.connection())
        .await
        .expect("changes");
    let seen: Vec<(String, String)> = changes
        .iter()
        .map(|c| (c.old_date.to_string(), c.new_date.to_string()))
        .collect();
    assert_eq!(
        seen,
        [
            (eighteen.clone(), older.to_owned()),
            (older.to_owned(), "2015-06-01".to_owned())
        ]
    );
    assert!(changes.iter().all(|c| !c.changed_by.is_empty()));
}

#[tokio::test]
async fn opting_out_keeps_only_name_birth_date_gender_the_opt_out_and_verified_guardians() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let school = app.create_org("School", "SCHOOL").await;
    let plan = app.create_org("Plan", "HEALTH_PLAN").await;
    let provider = app.provider(&clinic);
    let kid = app
        .ok(
            &provider,
            "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
            json!({ "i": { "firstName": "Lia", "lastName": "Ek", "dateOfBirth": "2016-01-01", "gender": "FEMALE",
                           "contact": { "city": "Duluth", "phone": "612-555-0101" } } }),
        )
        .await["createPerson"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mom = app
        .create_person(&provider, "Ulla", "Ek", "1980-01-01")
        .await;
    let aunt = app
        .create_person(&provider, "Ebba", "Ek", "1975-01-01")
        .await;
    let nephew = app
        .create_person(&provider, "Tor", "Ek", "2012-01-01")
        .await;
    // Verified (registry staff) and reported (a provider) guardians of the kid.
    app.ok(&admin, ADD_GUARDIAN, json!({ "p": kid, "g": mom }))
        .await;
    app.ok(&provider, ADD_GUARDIAN, json!({ "p": kid, "g": aunt }))
        .await;
    // The aunt is reported as someone else's guardian too: data about her as well.
    app.ok(&provider, ADD_GUARDIAN, json!({ "p": nephew, "g": aunt }))
        .await;
    app.record_dose(&provider, &kid, "20", "2016-03-03").await;
    app.ok(
        &provider,
        "mutation($i: ContraindicationInput!) { recordContraindication(input: $i) { id } }",
        json!({ "i": { "personId": kid, "kind": "PRECAUTION", "reason": "latex" } }),
    )
    .await;
    let year = policies::school_year_of(app.today());
    app.ok(
        &admin,
        "mutation($p: ID!, $o: ID!, $y: String!) { enroll(personId: $p, organizationId: $o, schoolYear: $y, grade: \"3\") { grade } }",
        json!({ "p": kid, "o": school, "y": year }),
    )
    .await;
    app.ok(
        &admin,
        "mutation($p: ID!, $o: ID!) { addMembership(personId: $p, organizationId: $o) { person { id } } }",
        json!({ "p": kid, "o": plan }),
    )
    .await;
    for p in [&kid, &aunt] {
        app.ok(
            &provider,
            SET,
            json!({ "p": p, "i": { "participation": "OPTED_OUT", "channel": "FORM" } }),
        )
        .await;
    }
    let all = "query($id: ID!) { person(id: $id) { firstName lastName dateOfBirth gender contact { city phone }
        guardians { person { id } } doses { id } contraindications { kind } enrollments { grade } memberships { person { id } }
        consent { participation history { participation } } } }";
    let data = app.ok(&admin, all, json!({ "id": kid })).await;
    let p = &data["person"];
    assert_eq!(p["firstName"], "Lia");
    assert_eq!(p["dateOfBirth"], "2016-01-01");
    assert_eq!(p["gender"], "FEMALE");
    assert_eq!(p["consent"]["participation"], "OPTED_OUT");
    assert_eq!(
        p["consent"]["history"].as_array().map(Vec::len),
        Some(1),
        "{p:#}"
    );
    assert!(
        p["contact"].is_null() || p["contact"] == json!({ "city": null, "phone": null }),
        "{p:#}"
    );
    for gone in ["doses", "contraindications", "enrollments", "memberships"] {
        assert_eq!(p[gone], json!([]), "{gone}: {p:#}");
    }
    // The reported aunt is gone; the verified mother stays, and may still see the record
    // (to opt her child back in).
    assert_eq!(
        p["guardians"],
        json!([{ "person": { "id": mom } }]),
        "{p:#}"
    );
    let guardian = app.token(TokenRequest::new(Role::Guardian).person(uuid(&mom)));
    let data = app.ok(&guardian, READ, json!({ "id": kid })).await;
    assert_eq!(data["person"]["firstName"], "Lia");
    // The opted-out aunt's reported link to her nephew went with her opt-out.
    let data = app
        .ok(
            &admin,
            "query($id: ID!) { person(id: $id) { guardians { person { id } } } }",
            json!({ "id": nephew }),
        )
        .await;
    assert_eq!(data["person"]["guardians"], json!([]));
}
