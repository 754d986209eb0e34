//! Issue 18: the official immunization record. A guardian with an identity-proofed token
//! downloads a minor ward's PDF (every valid dose, the school-entry status; read back with
//! poppler) and SMART Health Card (verified with the key the gateway publishes); the download
//! is an `EXPORT` in the access log; an unproofed token, a provider and a stranger are refused.

use chrono::{Months, NaiveDate};
use gateway::auth::TokenRequest;
use policies::Role;
use serde_json::{json, Value};

use crate::support::TestApp;

struct Family {
    child: String,
    guardian: String,
    clinic: String,
    dob: NaiveDate,
}

async fn family(app: &TestApp) -> Family {
    let admin = app.admin();
    let clinic = app.create_org("Lakeside Pediatrics", "CLINIC").await;
    // Five years old: a kindergartner on the school-entry requirements.
    let dob = app.today() - Months::new(5 * 12 + 2);
    let child = app
        .create_person(&admin, "Ava", "Lindqvist", &dob.to_string())
        .await;
    let guardian = app
        .create_person(&admin, "Maja", "Lindqvist", "1990-02-03")
        .await;
    app.ok(
        &admin,
        "mutation($p: ID!, $g: ID!) { addGuardian(personId: $p, guardianId: $g, relationship: \"mother\") { id } }",
        json!({ "p": child, "g": guardian }),
    )
    .await;
    Family {
        child,
        guardian,
        clinic,
        dob,
    }
}

fn guardian_token(app: &TestApp, f: &Family, acr: Option<&str>) -> String {
    app.token(TokenRequest {
        acr: acr.map(str::to_owned),
        ..TokenRequest::new(Role::Guardian).person(f.guardian.parse().expect("id"))
    })
}

async fn download(app: &TestApp, token: &str, file: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/records/{file}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

async fn exports(app: &TestApp, person: &str) -> Vec<Value> {
    let data = app
        .ok(
            &app.token(TokenRequest::new(Role::Auditor)),
            "query($p: ID!) { accessLog(filter: {personId: $p}, first: 100) { edges { node { action subject outcome reason } } } }",
            json!({ "p": person }),
        )
        .await;
    data["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Where browsers and people look at what the tests made (PNG, PDF).
fn artefacts() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/artefacts");
    std::fs::create_dir_all(&dir).expect("artefacts dir");
    dir
}

#[tokio::test]
async fn the_official_record_has_every_valid_dose_and_the_school_status() {
    let app = TestApp::spawn().await;
    let f = family(&app).await;
    let provider = app.provider(&f.clinic);
    let at = |months: u32| (f.dob + Months::new(months)).to_string();
    // DTaP at 2, 4, 6 and 15 months, MMR at 12 months, and an MMR at 6 months (too early:
    // not valid, so not on the record).
    for (cvx, months) in [
        ("20", 2),
        ("20", 4),
        ("20", 6),
        ("20", 15),
        ("03", 12),
        ("03", 6),
    ] {
        let body = app.record_dose(&provider, &f.child, cvx, &at(months)).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let proofed = guardian_token(&app, &f, Some("IAL2"));
    // What GraphQL says is valid is what the record must list.
    let data = app
        .ok(
            &proofed,
            "query($p: ID!) { officialRecord(personId: $p) { pdfUrl cardUrl identityProofingRequired person { doses { dateGiven evaluation { status } } } schoolEntry { grade compliance { status } } } }",
            json!({ "p": f.child }),
        )
        .await;
    let rec = &data["officialRecord"];
    assert_eq!(rec["pdfUrl"], format!("/records/{}.pdf", f.child));
    assert_eq!(rec["identityProofingRequired"], true);
    assert_eq!(rec["schoolEntry"]["grade"], "K");
    let status = rec["schoolEntry"]["compliance"]["status"]
        .as_str()
        .expect("status")
        .to_owned();
    let (valid, not_valid): (Vec<&Value>, Vec<&Value>) = rec["person"]["doses"]
        .as_array()
        .expect("doses")
        .iter()
        .partition(|d| d["evaluation"]["status"] == "VALID");
    assert!(valid.len() >= 4, "{rec:#}");
    assert!(
        not_valid.iter().any(|d| d["dateGiven"] == at(6).as_str()),
        "the early MMR is not valid: {rec:#}"
    );

    let resp = download(&app, &proofed, &format!("{}.pdf", f.child)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().expect("type"),
        "application/pdf"
    );
    let pdf = resp.bytes().await.expect("body");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("record.pdf");
    std::fs::write(&path, &pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; .ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    for d in &valid {
        let date = d["dateGiven"].as_str().expect("date");
        assert!(text.contains(date), "valid dose {date} missing:\n{text}");
    }
    let words = {
        let lower = status.replace('_', " ").to_lowercase();
        let mut c = lower.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    assert!(text.contains(&format!("Grade K: {words}")), "{text}");
    assert!(text.contains("Ava Lindqvist"), "{text}");
    // The MMR at 6 months was evaluated not valid: the record lists one MMR dose only.
    assert_eq!(text.matches("(CVX 03)").count(), 1, "{text}");
    let png = artefacts().join("official-record-page1");
    let ok = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(&png)
        .status()
        .expect("pdftoppm");
    assert!(ok.success());
    let png_bytes = std::fs::read(png.with_extension("png")).expect("png");
    assert!(png_bytes.starts_with(b"\x89PNG"));

    // The download is an EXPORT by the guardian.
    let log = exports(&app, &f.child).await;
    assert!(
        log.iter()
            .any(|e| e["action"] == "EXPORT" && e["outcome"] == "ALLOWED"),
        "{log:#?}"
    );
}

#[tokio::test]
async fn downloads_need_identity_proofing_and_the_right_role() {
    let app = TestApp::spawn().await;
    let f = family(&app).await;
    let pdf = format!("{}.pdf", f.child);

    // No acr, or a level below IAL2: refused, and the refusal is logged.
    for acr in [None, Some("IAL1")] {
        let resp = download(&app, &guardian_token(&app, &f, acr), &pdf).await;
        assert_eq!(resp.status(), 403, "{acr:?}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    }
    let log = exports(&app, &f.child).await;
    assert!(
        log.iter().any(|e| e["reason"]
            .as_str()
            .is_some_and(|r| r.contains("identity_proofing_required"))),
        "{log:#?}"
    );
    assert!(!log.iter().any(|e| e["action"] == "EXPORT"), "{log:#?}");

    // A provider reads the record but is not given the official copy.
    let resp = download(&app, &app.provider(&f.clinic), &pdf).await;
    assert_eq!(resp.status(), 403);
    // A proofed guardian of someone else: no such person.
    let stranger = app
        .create_person(&app.admin(), "Other", "Parent", "1985-01-01")
        .await;
    let token = app.token(TokenRequest {
        acr: Some("IAL2".into()),
        ..TokenRequest::new(Role::Guardian).person(stranger.parse().expect("id"))
    });
    assert_eq!(download(&app, &token, &pdf).await.status(), 404);
    // Registry staff need no acr; no token at all is 401.
    assert_eq!(download(&app, &app.admin(), &pdf).await.status(), 200);
    let resp = app
        .client
        .get(format!("{}/records/{pdf}", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn the_card_verifies_with_the_published_key_and_not_after_a_change() {
    let app = TestApp::spawn().await;
    let f = family(&app).await;
    let provider = app.provider(&f.clinic);
    let at = |months: u32| (f.dob + Months::new(months)).to_string();
    for months in [2, 4, 6] {
        app.record_dose(&provider, &f.child, "20", &at(months))
            .await;
    }
    let resp = download(
        &app,
        &guardian_token(&app, &f, Some("IAL2")),
        &format!("{}.smart-health-card", f.child),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().expect("type"),
        "application/smart-health-card"
    );
    let file = resp.bytes().await.expect("body").to_vec();
    let jwks: Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let keys = |iss: &str| (iss == "https://izgraph.localhost").then(|| jwks.clone());
    let now = chrono::Utc::now().timestamp();
    let cards = record::shc::verify(&file, &keys, now).expect("verifies");
    let bundle = &cards[0].bundle;
    let entries = bundle["entry"].as_array().expect("entries");
    assert_eq!(entries.len(), 1 + 3, "the patient and three doses");
    assert_eq!(entries[0]["resource"]["birthDate"], f.dob.to_string());
    let text = bundle.to_string();
    for absent in [
        f.child.as_str(),
        f.guardian.as_str(),
        "FEMALE",
        "female",
        "\"id\"",
    ] {
        assert!(!text.contains(absent), "`{absent}` in the card: {text}");
    }
    // One byte of the JWS changed: refused.
    let v: Value = serde_json::from_slice(&file).expect("json");
    let jws = v["verifiableCredential"][0]
        .as_str()
        .expect("jws")
        .to_owned();
    let mut bytes = jws.into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    assert!(record::shc::verify(&bytes, &keys, now).is_err());
}
