//! VXU^V04 → ACK: the NIST examples, every RXA-20 and RXA-21 code, each OBX kind, historical
//! doses, updates and deletes, repeated submission, malformed messages, opted-out and locked
//! persons — each with the exact MSA and ERR segments and the stored result.

use serde_json::json;

use super::{outcome, persons, pid, post, sender, vxu};
use crate::support::{error_code, shared_dir, TestApp};

/// The profile findings every NIST example has (the county in XAD.9-11, see hl7/tests).
const COUNTY: [&str; 2] = ["PID^1^11^1^11 102 W 4", "PID^1^11^1^11 103 W 5"];

fn example(name: &str) -> String {
    std::fs::read_to_string(shared_dir().join("hl7/examples").join(name)).expect("example")
}

#[allow(
    clippy::disallowed_methods,
    reason = "a test reads refusals as registry staff"
)]
fn staff_access(app: &TestApp) -> entities::Access {
    let p = policies::Principal::from_claims(
        "test",
        policies::Role::RegistryAdmin,
        None,
        None,
        None,
        None,
    )
    .expect("principal");
    entities::Access::new(p, app.today(), "test".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nist_examples_are_accepted_and_stored() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Test EHR clinic", "X68").await;

    let (status, ack) = post(
        &app,
        &s.token,
        &example("NIST-Adult-z22-New-Covid-vaccine.hl7"),
    )
    .await;
    assert_eq!(status, 200);
    let mut expected: Vec<String> = COUNTY.iter().map(|s| s.to_string()).collect();
    expected.extend([
        "RXA^1^11^1^6 103 W 5".into(),
        "RXA^1^11^1^14 102 W 4".into(),
        // CVX 24 is anthrax vaccine, made by Emergent (EMB), not Sanofi Pasteur (PMC).
        "RXA^1^17^1 0 W 3".into(),
    ]);
    assert_eq!(outcome(&ack), ("AA".into(), expected));
    let msa = &super::segments(&ack, "MSA")[0];
    assert_eq!(msa.value(2), "NIST-IZ-001.00");

    let found = persons(&app, "Winchester").await;
    assert_eq!(found.len(), 1);
    let p = &found[0];
    assert_eq!(
        (
            p["firstName"].as_str(),
            p["dateOfBirth"].as_str(),
            p["gender"].as_str()
        ),
        (Some("Dorothy"), Some("1984-06-15"), Some("FEMALE"))
    );
    assert_eq!(p["contact"]["city"], "Allentown");
    assert_eq!(p["contact"]["phone"], "2155551213");
    let doses = p["doses"].as_array().expect("doses");
    assert_eq!(doses.len(), 1);
    let d = &doses[0];
    assert_eq!(d["vaccine"]["cvx"], "24");
    assert_eq!(d["dateGiven"], "2020-12-11");
    assert_eq!(d["lotNumber"], "8L7B3418");
    assert_eq!(d["manufacturer"], "PMC");
    assert_eq!(
        (d["site"].as_str(), d["route"].as_str()),
        (Some("RD"), Some("C28161"))
    );
    assert_eq!(d["administeredBy"]["id"], s.org.as_str());
    assert_eq!(d["reportedBy"]["id"], s.org.as_str());

    // The deferral: nothing administered, the contraindication recorded for the vaccine's group.
    let (_, ack) = post(
        &app,
        &s.token,
        &example("NIST-Adult-z22-non-vaccination-deferral.hl7"),
    )
    .await;
    assert_eq!(
        outcome(&ack),
        ("AA".into(), COUNTY.iter().map(|s| s.to_string()).collect())
    );
    // The missed appointment: a refusal (RXA-20 RE, reason 02), no dose.
    let (_, ack) = post(
        &app,
        &s.token,
        &example("NIST-Adult-z22-non-vaccination-missed-appointment.hl7"),
    )
    .await;
    assert_eq!(
        outcome(&ack),
        ("AA".into(), COUNTY.iter().map(|s| s.to_string()).collect())
    );
    // Serological evidence of COVID-19 immunity: laboratory evidence recorded as immunity.
    let (_, ack) = post(
        &app,
        &s.token,
        &example("NIST-Adult-z22-serologic-evidence-covid.hl7"),
    )
    .await;
    assert_eq!(
        outcome(&ack),
        ("AA".into(), COUNTY.iter().map(|s| s.to_string()).collect())
    );

    let found = persons(&app, "Winchester").await;
    assert_eq!(found.len(), 1, "the same patient every time");
    let p = &found[0];
    assert_eq!(p["doses"].as_array().map(Vec::len), Some(1));
    let mut findings: Vec<(String, String, String)> = p["contraindications"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap_or("").to_owned(),
                c["vaccineGroup"].as_str().unwrap_or("").to_owned(),
                c["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    findings.sort();
    assert_eq!(
        findings,
        vec![
            (
                "CONTRAINDICATION".into(),
                "Anthrax".into(),
                "VXC23^CDCPHINVS".into()
            ),
            ("IMMUNITY".into(), "COVID-19".into(), "840535000^SCT".into()),
        ]
    );
    let id = uuid::Uuid::parse_str(p["id"].as_str().expect("id")).expect("uuid");
    let refusals = app
        .store
        .refusals_for(&staff_access(&app), id)
        .await
        .expect("refusals");
    assert_eq!(refusals.len(), 1);
    assert_eq!(
        (refusals[0].cvx.as_str(), refusals[0].reason.as_deref()),
        ("24", Some("02"))
    );
    assert_eq!(refusals[0].refused_on.to_string(), "2020-12-15");
}

/// Seven ORDER groups: administered (CP, with VFC and VIS), partial (PA), historical, not
/// administered (NA), refused (RE), a contraindication and evidence of immunity.
fn full_history(control: &str, facility: &str) -> String {
    vxu(
        control,
        facility,
        &pid("Vxutest", "Alma", "20230115"),
        &[
            "ORC|RE||ORD-1^EHR\rRXA|0|1|20240115||08^HepB peds^CVX|0.5|mL^^UCUM||00^New record^NIP001||||||LOT1|20250101|MSD^Merck^MVX|||CP|A\rRXR|C28161^Intramuscular^NCIT|LT^Left Thigh^HL70163\rOBX|1|CE|64994-7^Vaccine fund pgm elig cat^LN|1|V02^VFC eligible - Medicaid^HL70064||||||F|||20240115\rOBX|2|CE|69764-9^Document type^LN|2|253088698300008611180402^HepB VIS^cdcgs1vis||||||F|||20240115\rOBX|3|TS|29769-7^VIS presentation date^LN|2|20240115||||||F|||20240115",
            "ORC|RE||ORD-2^EHR\rRXA|0|1|20240315||20^DTaP^CVX|0.3|mL^^UCUM||00^New record^NIP001||||||LOT2|20250601|PMC^Sanofi^MVX|||PA|A",
            "ORC|RE||ORD-3^EHR\rRXA|0|1|20230601||10^IPV^CVX|999|||01^Historical information - source unspecified^NIP001|||||||||||CP|A",
            "ORC|RE||ORD-4^EHR\rRXA|0|1|20240401||83^HepA^CVX|999||||||||||||||NA|A",
            "ORC|RE||ORD-5^EHR\rRXA|0|1|20240401||03^MMR^CVX|999||||||||||||00^Parental decision^NIP002||RE|A",
            "ORC|RE||ORD-6^EHR\rRXA|0|1|20240401||116^Rotavirus^CVX|999||||||||||||||NA|A\rOBX|1|CE|30945-0^Vaccination contraindication^LN|1|VXC30^History of intussusception^CDCPHINVS||||||F|||20240401",
            "ORC|RE||ORD-7^EHR\rRXA|0|1|20240401||21^Varicella^CVX|999||||||||||||||NA|A\rOBX|1|CE|59784-9^Disease with presumed immunity^LN|1|38907003^Varicella infection^SCT||||||F|||20240401",
        ],
    )
}

async fn history(app: &TestApp) -> (serde_json::Value, Vec<(String, String, String)>) {
    let found = persons(app, "Vxutest").await;
    assert_eq!(found.len(), 1);
    let p = found[0].clone();
    let mut doses: Vec<(String, String, String)> = p["doses"]
        .as_array()
        .expect("doses")
        .iter()
        .map(|d| {
            (
                d["vaccine"]["cvx"].as_str().unwrap_or("").to_owned(),
                d["dateGiven"].as_str().unwrap_or("").to_owned(),
                d["lotNumber"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    doses.sort();
    (p, doses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_completion_and_action_code_and_observation_kind() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic F100", "F100").await;
    let (status, ack) = post(&app, &s.token, &full_history("C-1", "F100")).await;
    assert_eq!(status, 200);
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    let (p, doses) = history(&app).await;
    // CP, PA and the historical dose are stored; NA and RE are not doses.
    assert_eq!(
        doses,
        vec![
            ("08".into(), "2024-01-15".into(), "LOT1".into()),
            ("10".into(), "2023-06-01".into(), "".into()),
            ("20".into(), "2024-03-15".into(), "LOT2".into()),
        ]
    );
    for d in p["doses"].as_array().expect("doses") {
        let historical = d["vaccine"]["cvx"] == "10";
        // A historical dose was not administered by the sender.
        assert_eq!(d["administeredBy"].is_null(), historical, "{d}");
        assert_eq!(d["reportedBy"]["id"], s.org.as_str());
    }
    let mut findings: Vec<String> = p["contraindications"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|c| format!("{} {} {}", c["kind"], c["vaccineGroup"], c["reason"]))
        .collect();
    findings.sort();
    assert_eq!(
        findings,
        vec![
            "\"CONTRAINDICATION\" \"Rotavirus\" \"VXC30^CDCPHINVS\"",
            "\"IMMUNITY\" \"Varicella\" \"38907003^SCT\"",
        ]
    );
    let id = uuid::Uuid::parse_str(p["id"].as_str().expect("id")).expect("uuid");
    let access = staff_access(&app);
    let refusals = app.store.refusals_for(&access, id).await.expect("refusals");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].cvx, "03");
    let details = app
        .store
        .hl7_dose_details_for(&access, id)
        .await
        .expect("details");
    let mut kinds: Vec<(String, bool, Option<String>, bool)> = details
        .values()
        .map(|d| {
            (
                d.completion_status.clone(),
                d.historical,
                d.vfc_eligibility.clone(),
                d.vis.is_some(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("CP".into(), false, Some("V02".into()), true),
            ("CP".into(), true, None, false),
            ("PA".into(), false, None, false),
        ]
    );

    // The same message again (a resend): nothing changes.
    let (_, ack) = post(&app, &s.token, &full_history("C-1", "F100")).await;
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    let (p2, doses2) = history(&app).await;
    assert_eq!(doses2, doses);
    assert_eq!(p2["contraindications"], p["contraindications"]);
    assert_eq!(
        app.store
            .refusals_for(&access, id)
            .await
            .expect("refusals")
            .len(),
        1
    );

    // An update of order 1 (RXA-21 U): the lot corrected.
    let update = vxu(
        "C-2",
        "F100",
        &pid("Vxutest", "Alma", "20230115"),
        &["ORC|RE||ORD-1^EHR\rRXA|0|1|20240115||08^HepB peds^CVX|0.5|mL^^UCUM||00^New record^NIP001||||||LOT1-FIXED|20250101|MSD^Merck^MVX|||CP|U"],
    );
    let (_, ack) = post(&app, &s.token, &update).await;
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    // A delete of order 2 (RXA-21 D).
    let delete = vxu(
        "C-3",
        "F100",
        &pid("Vxutest", "Alma", "20230115"),
        &["ORC|RE||ORD-2^EHR\rRXA|0|1|20240315||20^DTaP^CVX|0.3|mL^^UCUM||00^New record^NIP001||||||LOT2|20250601|PMC^Sanofi^MVX|||PA|D"],
    );
    let (_, ack) = post(&app, &s.token, &delete).await;
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    let (_, doses3) = history(&app).await;
    assert_eq!(
        doses3,
        vec![
            ("08".into(), "2024-01-15".into(), "LOT1-FIXED".into()),
            ("10".into(), "2023-06-01".into(), "".into()),
        ]
    );
    // A delete of an order this sender never reported: a warning, nothing touched.
    let unknown = vxu(
        "C-4",
        "F100",
        &pid("Vxutest", "Alma", "20230115"),
        &["ORC|RE||ORD-99^EHR\rRXA|0|1|20240115||08^HepB peds^CVX|0.5|mL^^UCUM||00^New record^NIP001||||||LOT1|20250101|MSD^Merck^MVX|||CP|D"],
    );
    let (_, ack) = post(&app, &s.token, &unknown).await;
    assert_eq!(
        outcome(&ack),
        ("AA".into(), vec!["ORC^1^3^1 204 W 8".to_owned()])
    );
    // Another sender deleting the same order id touches only what it reported: nothing.
    let other = sender(&app, "Clinic G200", "G200").await;
    let theirs = vxu(
        "G-1",
        "G200",
        &pid("Vxutest", "Alma", "20230115"),
        &["ORC|RE||ORD-1^EHR\rRXA|0|1|20240115||08^HepB peds^CVX|0.5|mL^^UCUM||00^New record^NIP001||||||LOT1|20250101|MSD^Merck^MVX|||CP|D"],
    );
    let (_, ack) = post(&app, &other.token, &theirs).await;
    assert_eq!(
        outcome(&ack),
        ("AA".into(), vec!["ORC^1^3^1 204 W 8".to_owned()])
    );
    let (_, doses4) = history(&app).await;
    assert_eq!(doses4, doses3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_answered_with_their_errors_and_store_nothing() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic M1", "M1").await;
    let good = |control: &str| {
        vxu(
            control,
            "M1",
            &pid("Broken", "Bea", "20220202"),
            &["ORC|RE||B-1^EHR\rRXA|0|1|20240115||08^HepB^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20250101|MSD^Merck^MVX|||CP|A"],
        )
    };
    let cases: Vec<(&str, String, &str, Vec<&str>)> = vec![
        (
            "missing MSH",
            good("X-1")
                .replacen("MSH|", "PID|", 1)
                .split_once('\r')
                .map(|(_, r)| r.to_owned())
                .unwrap_or_default(),
            "AR",
            vec!["MSH^1 100 E 7"],
        ),
        (
            "bad encoding characters",
            good("X-2").replacen("MSH|^~\\&|", "MSH|^^\\&|", 1),
            "AR",
            vec!["MSH^1^2^1 102 E 4"],
        ),
        (
            "wrong version",
            good("X-3").replacen("|P|2.5.1|", "|P|2.3.1|", 1),
            "AR",
            vec!["MSH^1^12^1 203 E 4"],
        ),
        (
            "unknown CVX",
            good("X-4").replacen("08^HepB^CVX", "9999^Nothing^CVX", 1),
            "AE",
            vec!["RXA^1^5^1^1 103 E 5"],
        ),
        (
            "missing required field (birth date)",
            good("X-5").replacen("|20220202|F|", "||F|", 1),
            "AE",
            vec!["PID^1^7^1 101 E 7"],
        ),
        (
            "facility of another organization",
            good("X-6").replacen("|EHR|M1|", "|EHR|OTHER|", 1),
            "AR",
            vec!["MSH^1^4^1 204 E 4"],
        ),
    ];
    for (what, message, msa, errs) in cases {
        let (status, ack) = post(&app, &s.token, &message).await;
        assert_eq!(status, 200, "{what}");
        let (code, found) = outcome(&ack);
        assert_eq!(code, msa, "{what}: {ack}");
        assert_eq!(found, errs, "{what}: {ack}");
        assert!(
            persons(&app, "Broken")
                .await
                .iter()
                .all(|p| p["doses"].as_array().is_none_or(|d| d.is_empty())),
            "{what} stored a dose"
        );
    }
    // Garbage is answered too, never a server error.
    for garbage in ["", "\u{0}\u{1}", "MSH", "MSH|", "MSH|^~\\&|\rPID|\u{7f}"] {
        let (status, ack) = post(&app, &s.token, garbage).await;
        assert_eq!(status, 200, "{garbage:?}");
        assert_eq!(outcome(&ack).0, "AR", "{garbage:?}");
    }

    // One ORDER group in error: the others are stored, the ACK names the one refused.
    let mixed = vxu(
        "X-7",
        "M1",
        &pid("Broken", "Bea", "20220202"),
        &[
            "ORC|RE||B-1^EHR\rRXA|0|1|20240115||08^HepB^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20250101|MSD^Merck^MVX|||CP|A",
            "ORC|RE||B-2^EHR\rRXA|0|1|20210101||20^DTaP^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20250101|PMC^Sanofi^MVX|||CP|A",
        ],
    );
    let (_, ack) = post(&app, &s.token, &mixed).await;
    assert_eq!(
        outcome(&ack),
        ("AE".into(), vec!["RXA^2^3^1 102 E 1".to_owned()])
    );
    let found = persons(&app, "Broken").await;
    let cvx: Vec<&str> = found[0]["doses"]
        .as_array()
        .expect("doses")
        .iter()
        .filter_map(|d| d["vaccine"]["cvx"].as_str())
        .collect();
    assert_eq!(cvx, vec!["08"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_quality_findings_are_warned_and_counted_per_sender() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic Q1", "Q1").await;
    let other = sender(&app, "Clinic Q2", "Q2").await;
    let today = app.today();
    let future = (today + chrono::Duration::days(3))
        .format("%Y%m%d")
        .to_string();
    let message = vxu(
        "DQ-1",
        "Q1",
        &format!("{}|||||||20240301|Y", pid("Quality", "Quin", "20230115")),
        &[
            // expired lot, CVX/MVX mismatch, after death (died 2024-03-01)
            "ORC|RE||Q-1^EHR\rRXA|0|1|20240315||08^HepB^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20240101|PFR^Pfizer^MVX|||CP|A",
            // a combination and its component the same day
            "ORC|RE||Q-2^EHR\rRXA|0|1|20240315||110^DTaP-HepB-IPV^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20250101|SKB^GSK^MVX|||CP|A",
            // in the future: refused
            &format!("ORC|RE||Q-3^EHR\rRXA|0|1|{future}||20^DTaP^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20290101|PMC^Sanofi^MVX|||CP|A"),
            // before birth: refused
            "ORC|RE||Q-4^EHR\rRXA|0|1|20221201||10^IPV^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20250101|PMC^Sanofi^MVX|||CP|A",
        ],
    );
    let (_, ack) = post(&app, &s.token, &message).await;
    assert_eq!(
        outcome(&ack),
        (
            "AE".into(),
            vec![
                "RXA^1^3^1 0 W 1".to_owned(),
                "RXA^1^16^1 0 W 1".to_owned(),
                "RXA^1^17^1 0 W 3".to_owned(),
                "RXA^2^3^1 0 W 1".to_owned(),
                "RXA^2^5^1 0 W 3".to_owned(),
                "RXA^3^3^1 102 E 1".to_owned(),
                "RXA^4^3^1 102 E 1".to_owned(),
            ]
        )
    );
    let q = "query($o: ID!) { dataQuality(organizationId: $o) { messages accepted withErrors rejected findings { severity code applicationCode location count } } }";
    let report = app.ok(&s.token, q, json!({ "o": s.org })).await;
    let r = &report["dataQuality"];
    assert_eq!(
        (r["messages"].as_u64(), r["withErrors"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["findings"].as_array().map(Vec::len), Some(7));
    assert!(r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["location"] == "RXA^1^16^1" && f["severity"] == "W" && f["count"] == 1));
    // Another sender may not read it; registry staff may.
    let denied = app.gql(&other.token, q, json!({ "o": s.org })).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"));
    let staff = app.ok(&app.admin(), q, json!({ "o": s.org })).await;
    assert_eq!(staff["dataQuality"]["messages"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opted_out_persons_are_acknowledged_and_locked_ones_stored_without_access() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic L1", "L1").await;
    let other = sender(&app, "Clinic L2", "L2").await;
    let dose = |control: &str, family: &str, cvx: &str, date: &str| {
        vxu(
            control,
            "L1",
            &pid(family, "Pat", "20200101"),
            &[&format!("ORC|RE||{control}^EHR\rRXA|0|1|{date}||{cvx}^x^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20300101|{mvx}^x^MVX|||CP|A", mvx = if cvx == "20" { "PMC" } else { "MSD" })],
        )
    };
    let (_, ack) = post(&app, &s.token, &dose("O-1", "Optout", "08", "20240101")).await;
    assert_eq!(outcome(&ack).0, "AA");
    let (_, ack) = post(&app, &s.token, &dose("K-1", "Locked", "08", "20240101")).await;
    assert_eq!(outcome(&ack).0, "AA");
    let opted = persons(&app, "Optout").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let locked = persons(&app, "Locked").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.ok(
        &app.admin(),
        "mutation($p: ID!) { setConsent(personId: $p, input: {participation: OPTED_OUT, channel: \"FORM\"}) { participation } }",
        json!({ "p": opted }),
    )
    .await;
    app.ok(
        &app.admin(),
        "mutation($p: ID!, $o: ID!) { setConsent(personId: $p, input: {lockedToId: $o, channel: \"FORM\"}) { participation } }",
        json!({ "p": locked, "o": other.org }),
    )
    .await;
    // Opted out: acknowledged exactly as a stored dose, nothing stored.
    let (_, ack) = post(&app, &s.token, &dose("O-2", "Optout", "20", "20240301")).await;
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    let p = &persons(&app, "Optout").await[0];
    assert_eq!(p["doses"].as_array().map(Vec::len), Some(0));
    // Locked to another organization: acknowledged the same, stored, and still not readable
    // by the sender.
    let (_, ack) = post(&app, &s.token, &dose("K-2", "Locked", "20", "20240301")).await;
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    let p = &persons(&app, "Locked").await[0];
    assert_eq!(p["doses"].as_array().map(Vec::len), Some(2));
    let read = app
        .gql(
            &s.token,
            "query($p: ID!) { person(id: $p) { id doses { id } } }",
            json!({ "p": locked }),
        )
        .await;
    assert_eq!(error_code(&read), Some("RECORD_LOCKED"));
    // A sender without dose:write is refused, and the refusal logged.
    let reader = app.token(
        gateway::auth::TokenRequest::new(policies::Role::Provider)
            .org(s.org.parse().expect("uuid"))
            .scope("person:read"),
    );
    let (_, ack) = post(&app, &reader, &dose("R-1", "Optout", "21", "20240401")).await;
    assert_eq!(
        outcome(&ack),
        ("AR".into(), vec!["MSH^1 207 E ".to_owned()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_matching_links_creates_or_holds_for_review() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic R1", "R1").await;
    let patient = |given: &str| {
        format!(
            "PID|1||7770001^^^EHR^MR||Review^{given}^^^^^L|Maiden^Mother^^^^^M|20230115|F||2106-3^White^CDCREC|12 Main St^^Saint Paul^MN^55101^USA^L||^PRN^PH^^^651^5550100|||||||||2186-5^Not Hispanic^CDCREC"
        )
    };
    let order = |n: &str, cvx: &str, mvx: &str| {
        format!("ORC|RE||{n}^EHR\rRXA|0|1|20240115||{cvx}^x^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20300101|{mvx}^x^MVX|||CP|A")
    };
    // No match: a new person.
    let (_, ack) = post(
        &app,
        &s.token,
        &vxu(
            "RV-1",
            "R1",
            &patient("Ruth"),
            &[&order("RV-1", "08", "MSD")],
        ),
    )
    .await;
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    // The same patient again (same MRN, name, birth date, address): linked, not duplicated.
    let (_, ack) = post(
        &app,
        &s.token,
        &vxu(
            "RV-2",
            "R1",
            &patient("Ruth"),
            &[&order("RV-2", "20", "PMC")],
        ),
    )
    .await;
    assert_eq!(outcome(&ack), ("AA".into(), vec![]));
    let found = persons(&app, "Review").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["doses"].as_array().map(Vec::len), Some(2));
    // The same record under another first name (a twin, or a mistake): never linked
    // automatically; a new record, held for review when the engine finds it possible (and the
    // ACK then says so).
    let (_, ack) = post(
        &app,
        &s.token,
        &vxu(
            "RV-3",
            "R1",
            &patient("Zelda"),
            &[&order("RV-3", "10", "PMC")],
        ),
    )
    .await;
    let (code, errs) = outcome(&ack);
    assert_eq!(code, "AA");
    assert!(
        errs.is_empty() || errs == vec!["PID^1 0 I ".to_owned()],
        "{errs:?}"
    );
    let found = persons(&app, "Review").await;
    assert_eq!(found.len(), 2);
    let zelda = found
        .iter()
        .find(|p| p["firstName"] == "Zelda")
        .expect("held record");
    assert_eq!(zelda["doses"].as_array().map(Vec::len), Some(1));
}
