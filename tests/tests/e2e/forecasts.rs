//! Recommendations and dose evaluations come from the forecasting engine, on the stored
//! history, and change when a dose is recorded.

use serde_json::{json, Value};

use crate::support::TestApp;

const Q: &str = "query($id: ID!) { person(id: $id) { doses { id dateGiven evaluation { status reason } }
    recommendations { vaccineGroup status doseNumber earliestDate recommendedDate pastDueDate latestDate vaccines { cvx } reason } } }";

fn group<'a>(data: &'a Value, name: &str) -> &'a Value {
    data["person"]["recommendations"]
        .as_array()
        .and_then(|r| r.iter().find(|g| g["vaccineGroup"] == name))
        .unwrap_or(&Value::Null)
}

/// The engine's own answer for the same history, to compare the API with.
fn engine(
    dob: chrono::NaiveDate,
    doses: &[(&str, chrono::NaiveDate)],
    today: chrono::NaiveDate,
) -> forecast::PatientForecast {
    let schedule = forecast::Schedule::embedded().expect("schedule");
    let patient = forecast::Patient {
        date_of_birth: dob,
        gender: forecast::Gender::Female,
        doses: doses
            .iter()
            .map(|(cvx, d)| forecast::PatientDose {
                date_given: *d,
                cvx: (*cvx).into(),
                mvx: None,
            })
            .collect(),
        observations: vec![],
    };
    forecast::forecast(schedule, &patient, today)
}

#[tokio::test]
async fn a_seeded_childs_forecast_is_the_engines_and_changes_after_a_dose() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let today = app.today();
    let dob = today - chrono::Duration::days(75);
    let kid = app
        .create_person(&token, "Fia", "Forecast", &dob.to_string())
        .await;
    let hepb = dob;
    app.record_dose(&token, &kid, "08", &hepb.to_string()).await;

    let before = app.ok(&token, Q, json!({ "id": kid })).await;
    assert_eq!(
        before["person"]["doses"][0]["evaluation"]["status"],
        "VALID"
    );
    let expected = engine(dob, &[("08", hepb)], today);
    let dtap = expected
        .group(forecast::VaccineGroup::DtapTdapTd)
        .expect("dtap");
    let got = group(&before, "DTaP/Tdap/Td");
    assert_eq!(got["status"], "NOT_COMPLETE");
    assert_eq!(got["doseNumber"], json!(dtap.dose_number));
    assert_eq!(
        got["recommendedDate"],
        json!(dtap.recommended_date.map(|d| d.to_string()))
    );
    assert_eq!(
        got["pastDueDate"],
        json!(dtap.past_due_date.map(|d| d.to_string()))
    );
    assert_eq!(group(&before, "HepB")["doseNumber"], 2);
    assert!(
        group(&before, "Yellow Fever").is_null(),
        "groups not recommended are left out"
    );

    let dtap_day = dob + chrono::Duration::days(61);
    let recorded = app
        .record_dose(&token, &kid, "20", &dtap_day.to_string())
        .await;
    assert_eq!(recorded["data"]["recordDose"]["stored"], true);
    let after = app.ok(&token, Q, json!({ "id": kid })).await;
    assert_eq!(
        group(&after, "DTaP/Tdap/Td")["doseNumber"],
        2,
        "the next DTaP dose moved on"
    );
    let expected = engine(dob, &[("08", hepb), ("20", dtap_day)], today);
    let dtap = expected
        .group(forecast::VaccineGroup::DtapTdapTd)
        .expect("dtap");
    assert_eq!(
        group(&after, "DTaP/Tdap/Td")["earliestDate"],
        json!(dtap.earliest_date.map(|d| d.to_string()))
    );

    // A dose given too early does not count.
    let early = app
        .create_person(
            &token,
            "Eli",
            "Early",
            &(today - chrono::Duration::days(40)).to_string(),
        )
        .await;
    let early_day = today - chrono::Duration::days(30);
    app.record_dose(&token, &early, "20", &early_day.to_string())
        .await;
    let data = app.ok(&token, Q, json!({ "id": early })).await;
    assert_eq!(
        data["person"]["doses"][0]["evaluation"]["status"],
        "NOT_VALID"
    );
}

#[tokio::test]
async fn recorded_immunity_closes_the_group() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let kid = app
        .create_person(&token, "Ivy", "Immune", "2019-05-05")
        .await;
    app.ok(
        &token,
        "mutation($p: ID!) { recordContraindication(input: { personId: $p, kind: IMMUNITY, vaccineGroup: \"Varicella\" }) { id } }",
        json!({ "p": kid }),
    )
    .await;
    let data = app.ok(&token, Q, json!({ "id": kid })).await;
    assert_eq!(group(&data, "Varicella")["status"], "IMMUNE");
    assert_eq!(group(&data, "MMR")["status"], "NOT_COMPLETE");
}

#[tokio::test]
async fn recommendations_take_an_as_of_date() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let kid = app.create_person(&admin, "Asa", "Asof", "2024-01-01").await;
    let data = app
        .ok(&admin, "query($id: ID!) { person(id: $id) { recommendations(asOf: \"2024-01-02\") { vaccineGroup doseNumber recommendedDate } } }", json!({ "id": kid }))
        .await;
    let hepb = data["person"]["recommendations"]
        .as_array()
        .and_then(|r| r.iter().find(|g| g["vaccineGroup"] == "HepB"))
        .cloned()
        .expect("HepB");
    assert_eq!(hepb["doseNumber"], 1);
    assert_eq!(hepb["recommendedDate"], "2024-01-01");
}
