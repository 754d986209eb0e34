//! QBP^Q11 → RSP^K11: Z34 answered Z32 with what a VXU stored, Z44 answered Z42 with the
//! forecast `Person.recommendations` gives, Z31 candidates and Z33 NF / TM, locked and opted-out
//! persons NF for another organization, and every answer in the access log.

use serde_json::json;

use super::{outcome, persons, pid, post, segments, sender, vxu};
use crate::support::TestApp;

fn qbp(
    control: &str,
    facility: &str,
    profile: &str,
    family: &str,
    given: &str,
    dob: &str,
    limit: u32,
) -> String {
    let name = if profile == "Z44" {
        "Z44^Request Evaluated History and Forecast^CDCPHINVS"
    } else {
        "Z34^Request Immunization History^CDCPHINVS"
    };
    format!(
        "MSH|^~\\&|EHR|{facility}|IZGRAPH|IZGRAPH|20241001120000-0500||QBP^Q11^QBP_Q11|{control}|P|2.5.1|||ER|AL|||||{profile}^CDCPHINVS\rQPD|{name}|Q-{control}|MRN-1^^^EHR^MR|{family}^{given}^^^^^L||{dob}|F\rRCP|I|{limit}^RD&Records&HL70126\r"
    )
}

async fn store_history(app: &TestApp, token: &str, facility: &str, family: &str, given: &str) {
    let message = vxu(
        &format!("V-{family}-{given}"),
        facility,
        &pid(family, given, "20240105"),
        &[
            "ORC|RE||Q-1^EHR\rRXA|0|1|20240105||08^HepB^CVX|0.5|mL^^UCUM||00^New^NIP001||||||HB1|20300101|MSD^Merck^MVX|||CP|A\rRXR|C28161^IM^NCIT|LT^Left Thigh^HL70163",
            "ORC|RE||Q-2^EHR\rRXA|0|1|20240305||20^DTaP^CVX|0.5|mL^^UCUM||00^New^NIP001||||||DT1|20300101|PMC^Sanofi^MVX|||CP|A",
        ],
    );
    let (_, ack) = post(app, token, &message).await;
    assert_eq!(outcome(&ack).0, "AA", "{ack}");
}

fn qak(answer: &str) -> (String, String) {
    let q = &segments(answer, "QAK")[0];
    (q.value(1).to_owned(), q.value(2).to_owned())
}

fn profile(answer: &str) -> String {
    segments(answer, "MSH")[0].get(21, 1).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn z34_and_z44_return_what_was_stored_and_the_forecast() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic Z1", "Z1").await;
    store_history(&app, &s.token, "Z1", "Roundtrip", "Rosa").await;

    let (status, rsp) = post(
        &app,
        &s.token,
        &qbp("Q-1", "Z1", "Z34", "Roundtrip", "Rosa", "20240105", 10),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(outcome(&rsp), ("AA".into(), vec![]));
    assert_eq!(profile(&rsp), "Z32");
    assert_eq!(qak(&rsp), ("Q-Q-1".into(), "OK".into()));
    let pids = segments(&rsp, "PID");
    assert_eq!(pids.len(), 1);
    assert_eq!(
        (pids[0].get(5, 1), pids[0].get(5, 2), pids[0].value(7)),
        ("Roundtrip", "Rosa", "20240105")
    );
    let id = persons(&app, "Roundtrip").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(pids[0].value(3), id);
    let rxa: Vec<(String, String, String, String)> = segments(&rsp, "RXA")
        .iter()
        .map(|r| {
            (
                r.value(3).to_owned(),
                r.get(5, 1).to_owned(),
                r.value(15).to_owned(),
                r.get(17, 1).to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rxa,
        vec![
            ("20240105".into(), "08".into(), "HB1".into(), "MSD".into()),
            ("20240305".into(), "20".into(), "DT1".into(), "PMC".into()),
        ]
    );
    assert_eq!(segments(&rsp, "RXR")[0].get(2, 1), "LT");

    // Z44: the same history, evaluated, and the forecast of Person.recommendations.
    let (_, rsp) = post(
        &app,
        &s.token,
        &qbp("Q-2", "Z1", "Z44", "Roundtrip", "Rosa", "20240105", 10),
    )
    .await;
    assert_eq!(outcome(&rsp), ("AA".into(), vec![]));
    assert_eq!(profile(&rsp), "Z42");
    let recs = app
        .ok(
            &s.token,
            "query($p: ID!) { person(id: $p) { recommendations { vaccineGroup status recommendedDate pastDueDate } } }",
            json!({ "p": id }),
        )
        .await;
    let expected: Vec<(String, String, String)> = recs["person"]["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .map(|r| {
            (
                r["vaccineGroup"].as_str().unwrap_or("").to_owned(),
                r["status"].as_str().unwrap_or("").to_owned(),
                r["recommendedDate"].as_str().unwrap_or("").replace('-', ""),
            )
        })
        .collect();
    assert!(!expected.is_empty());
    let obx = segments(&rsp, "OBX");
    let mut forecast: Vec<(String, String, String)> = Vec::new();
    for o in &obx {
        let sub = o.value(4).to_owned();
        match o.get(3, 1) {
            "30956-7" => forecast.push((o.get(5, 4).to_owned(), String::new(), sub)),
            "59783-1" => {
                if let Some(f) = forecast.iter_mut().find(|f| f.2 == sub) {
                    f.1 = o.get(5, 1).to_owned();
                }
            }
            _ => {}
        }
    }
    let mut recommended: Vec<(String, String, String)> = forecast
        .iter()
        .map(|(group, status, sub)| {
            let date = obx
                .iter()
                .find(|o| o.get(3, 1) == "30980-7" && o.value(4) == sub)
                .map(|o| o.value(5).to_owned())
                .unwrap_or_default();
            (group.clone(), status.clone(), date)
        })
        .collect();
    let mut expected = expected;
    expected.sort();
    recommended.sort();
    assert_eq!(recommended, expected);
    // Each dose of Z42 carries its evaluation.
    assert_eq!(obx.iter().filter(|o| o.get(3, 1) == "59781-5").count(), 2);

    // Both queries are in the access log, naming the person.
    let log = app
        .ok(
            &app.admin(),
            "query($p: ID!) { accessLog(filter: {personId: $p}, first: 50) { edges { node { subject action fields } } } }",
            json!({ "p": id }),
        )
        .await;
    let reads = log["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["action"] == "SEARCH" || e["node"]["action"] == "READ")
        .count();
    assert!(reads >= 2, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_no_match_too_many_and_hidden_persons() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic Z2", "Z2").await;
    let other = sender(&app, "Clinic Z3", "Z3").await;
    // No such patient.
    let (_, rsp) = post(
        &app,
        &s.token,
        &qbp("N-1", "Z2", "Z34", "Nobody", "Nils", "20240105", 10),
    )
    .await;
    assert_eq!(profile(&rsp), "Z33");
    assert_eq!(qak(&rsp).1, "NF");
    assert!(segments(&rsp, "PID").is_empty());

    // Two persons with one name and birth date: candidates (Z31), or too many for RCP-2 = 1.
    app.create_person(&app.admin(), "Tess", "Same", "2024-01-05")
        .await;
    app.create_person(&app.admin(), "Tess", "Same", "2024-01-05")
        .await;
    let (_, rsp) = post(
        &app,
        &s.token,
        &qbp("T-1", "Z2", "Z34", "Same", "Tess", "20240105", 10),
    )
    .await;
    assert_eq!(profile(&rsp), "Z31");
    assert_eq!(segments(&rsp, "PID").len(), 2);
    assert!(segments(&rsp, "RXA").is_empty());
    let (_, rsp) = post(
        &app,
        &s.token,
        &qbp("T-2", "Z2", "Z34", "Same", "Tess", "20240105", 1),
    )
    .await;
    assert_eq!(profile(&rsp), "Z33");
    assert_eq!(qak(&rsp).1, "TM");
    assert!(segments(&rsp, "PID").is_empty());

    // Locked to another organization, or opted out: no match for this sender.
    store_history(&app, &s.token, "Z2", "Hidden", "Lock").await;
    store_history(&app, &s.token, "Z2", "Hidden", "Out").await;
    let found = persons(&app, "Hidden").await;
    let id_of = |given: &str| {
        found
            .iter()
            .find(|p| p["firstName"] == given)
            .and_then(|p| p["id"].as_str())
            .expect("person")
            .to_owned()
    };
    app.ok(
        &app.admin(),
        "mutation($p: ID!, $o: ID!) { setConsent(personId: $p, input: {lockedToId: $o, channel: \"FORM\"}) { participation } }",
        json!({ "p": id_of("Lock"), "o": other.org }),
    )
    .await;
    app.ok(
        &app.admin(),
        "mutation($p: ID!) { setConsent(personId: $p, input: {participation: OPTED_OUT, channel: \"FORM\"}) { participation } }",
        json!({ "p": id_of("Out") }),
    )
    .await;
    for given in ["Lock", "Out"] {
        let (_, rsp) = post(
            &app,
            &s.token,
            &qbp("H-1", "Z2", "Z34", "Hidden", given, "20240105", 10),
        )
        .await;
        assert_eq!(
            (profile(&rsp), qak(&rsp).1),
            ("Z33".into(), "NF".into()),
            "{given}"
        );
        assert!(segments(&rsp, "PID").is_empty());
        let (_, rsp) = post(
            &app,
            &s.token,
            &qbp("H-2", "Z2", "Z44", "Hidden", given, "20240105", 10),
        )
        .await;
        assert_eq!(
            (profile(&rsp), qak(&rsp).1),
            ("Z33".into(), "NF".into()),
            "{given}"
        );
    }
    // The organization the record is locked to finds it.
    let (_, rsp) = post(
        &app,
        &other.token,
        &qbp("H-3", "Z3", "Z34", "Hidden", "Lock", "20240105", 10),
    )
    .await;
    assert_eq!((profile(&rsp), qak(&rsp).1), ("Z32".into(), "OK".into()));
}
