//! The transports: `POST /hl7/v2` (token, content types), the CDC SOAP service (a `zeep`
//! client generated from the served WSDL, a plain `curl` envelope, the WSDL's faults), MLLP,
//! and the batch import with its ACK file.

use std::process::Command;

use gateway::auth::clients::{register, ClientRegistration};
use gateway::config::Secret;
use gateway::{Application, Settings};
use policies::Role;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{outcome, persons, pid, post, sender, vxu};
use crate::support::TestApp;

fn one_dose(control: &str, facility: &str, family: &str) -> String {
    vxu(
        control,
        facility,
        &pid(family, "Sam", "20230301"),
        &["ORC|RE||T-1^EHR\rRXA|0|1|20240301||08^HepB^CVX|0.5|mL^^UCUM||00^New^NIP001||||||LOT|20300101|MSD^Merck^MVX|||CP|A"],
    )
}

async fn client_for(app: &TestApp, org: &str) -> (String, String) {
    let issued = register(
        &app.store,
        ClientRegistration {
            name: Some("EHR interface".into()),
            role: Role::Provider,
            org: Some(org.parse().expect("uuid")),
            scope: None,
        },
    )
    .await
    .expect("register");
    (
        issued.client.id.to_string(),
        issued.secret.expose().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_needs_a_token_and_answers_in_the_request_content_type() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic H1", "H1").await;
    let resp = app
        .client
        .post(format!("{}/hl7/v2", app.base))
        .header("content-type", "x-application/hl7-v2+er7")
        .body(one_dose("H-0", "H1", "Httptest"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 401);
    let resp = app
        .client
        .post(format!("{}/hl7/v2", app.base))
        .bearer_auth(&s.token)
        .header("content-type", "text/plain")
        .body(one_dose("H-1", "H1", "Httptest"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain")));
    assert_eq!(outcome(&resp.text().await.expect("text")).0, "AA");
    let (status, ack) = post(&app, &s.token, &one_dose("H-2", "H1", "Httptest")).await;
    assert_eq!((status, outcome(&ack).0.as_str()), (200, "AA"));
    assert_eq!(
        persons(&app, "Httptest").await[0]["doses"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

fn envelope(operation: &str, params: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:cdc=\"urn:cdc:iisb:2011\"><soap:Body><cdc:{operation}>{params}</cdc:{operation}></soap:Body></soap:Envelope>"
    )
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "&#13;")
}

/// The text of the `return` element of a SOAP answer.
fn returned(body: &str) -> String {
    let start = body
        .find("<return>")
        .map(|i| i + "<return>".len())
        .unwrap_or(0);
    let end = body.find("</return>").unwrap_or(body.len());
    body[start..end]
        .replace("&#13;", "\r")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_service_answers_a_wsdl_client_and_a_plain_envelope() {
    let app = TestApp::spawn().await;
    let s = sender(&app, "Clinic S1", "S1").await;
    let (id, secret) = client_for(&app, &s.org).await;

    // A plain envelope, as `curl` sends it.
    let message = one_dose("S-1", "S1", "Soaptest");
    let body = envelope(
        "submitSingleMessage",
        &format!(
            "<cdc:username>{id}</cdc:username><cdc:password>{secret}</cdc:password><cdc:facilityID>S1</cdc:facilityID><cdc:hl7Message>{}</cdc:hl7Message>",
            xml(&message)
        ),
    );
    let out = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/soap+xml; charset=utf-8",
            "--data-binary",
            "@-",
        ])
        .arg(format!("{}/soap", app.base))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(body.as_bytes())?;
            child.wait_with_output()
        })
        .expect("curl runs");
    let answer = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(answer.contains("submitSingleMessageResponse"), "{answer}");
    assert_eq!(outcome(&returned(&answer)), ("AA".into(), vec![]));
    assert_eq!(
        persons(&app, "Soaptest").await[0]["doses"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Faults: bad credentials, another organization's facility, a message too large, an
    // operation the service does not have.
    let submit = |user: &str, pass: &str, facility: &str, message: &str| {
        envelope(
            "submitSingleMessage",
            &format!(
                "<cdc:username>{user}</cdc:username><cdc:password>{pass}</cdc:password><cdc:facilityID>{facility}</cdc:facilityID><cdc:hl7Message>{}</cdc:hl7Message>",
                xml(message)
            ),
        )
    };
    let faults = [
        (submit(&id, "izs_wrong", "S1", &message), "SecurityFault"),
        (
            submit("not-a-client", &secret, "S1", &message),
            "SecurityFault",
        ),
        (submit(&id, &secret, "OTHER", &message), "SecurityFault"),
        (
            submit(
                &id,
                &secret,
                "S1",
                &"X".repeat(gateway::hl7::soap::MAX_MESSAGE_BYTES + 1),
            ),
            "MessageTooLargeFault",
        ),
        (envelope("submitBatch", ""), "<fault "),
        ("<not-soap/>".to_owned(), "<fault "),
    ];
    for (body, expected) in faults {
        let resp = app
            .client
            .post(format!("{}/soap", app.base))
            .header("content-type", "application/soap+xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status().as_u16(), 500);
        let text = resp.text().await.expect("text");
        assert!(
            text.contains("<soap:Fault>") && text.contains(expected),
            "{expected}: {text}"
        );
    }

    // A client generated from the WSDL.
    let zeep = Command::new("python3").args(["-c", "import zeep"]).status();
    if !zeep.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("IZGRAPH_REQUIRE_ZEEP").is_err(),
            "python3 with zeep is required (IZGRAPH_REQUIRE_ZEEP)"
        );
        eprintln!("skipped the zeep client: python3 with zeep is not installed");
        return;
    }
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), one_dose("S-2", "S1", "Zeeptest")).expect("write");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/soap/cdc_client.py");
    let base = app.base.clone();
    let path = file.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(format!("{base}/soap?wsdl"))
            .arg(&id)
            .arg(&secret)
            .arg("S1")
            .arg(&path)
            .env("NO_PROXY", "*")
            .output()
    })
    .await
    .expect("join")
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(result["echo"], "are you there?");
    assert_eq!(
        result["operations"],
        serde_json::json!(["connectivityTest", "submitSingleMessage"])
    );
    let answer = result["answer"]
        .as_str()
        .expect("answer")
        .replace('\n', "\r");
    assert_eq!(outcome(&answer), ("AA".into(), vec![]));
    assert_eq!(
        result["bad_password"]["detail"],
        "{urn:cdc:iisb:2011}SecurityFault"
    );
    assert_eq!(
        persons(&app, "Zeeptest").await[0]["doses"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

/// A gateway, and the data directory and database URL a second one on its database needs.
async fn shared_app() -> (TestApp, tempfile::TempDir, Option<String>) {
    let shared = tempfile::tempdir().expect("dir");
    let mut url = None;
    let app = TestApp::spawn_with(|s| {
        s.data_dir = shared.path().to_owned();
        url = s.database_url.as_ref().map(|u| u.expose().to_owned());
    })
    .await;
    (app, shared, url)
}

/// A second gateway on the first one's database and data directory.
async fn second_instance(
    dir: &tempfile::TempDir,
    url: Option<String>,
    configure: impl FnOnce(&mut Settings),
) -> Application {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_owned(),
        seed_demo: false,
        max_connections: 5,
        ..Settings::default()
    };
    settings.database_url = url.map(Secret::new);
    configure(&mut settings);
    Application::build(settings).await.expect("second gateway")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mllp_frames_are_answered_and_batches_imported() {
    let (app, dir, url) = shared_app().await;
    let s = sender(&app, "Clinic P1", "P1").await;
    let (id, _) = client_for(&app, &s.org).await;
    let client: uuid::Uuid = id.parse().expect("uuid");

    let mllp = second_instance(&dir, url, |settings| {
        settings.mllp = Some(("127.0.0.1:0".parse().expect("addr"), client));
    })
    .await;
    let addr = mllp.mllp_address().expect("MLLP bound");
    let state = mllp.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mllp.run_until(async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    for (i, family) in ["Mllpone", "Mllptwo"].iter().enumerate() {
        let message = one_dose(&format!("M-{i}"), "P1", family);
        let mut frame = vec![0x0b];
        frame.extend_from_slice(message.as_bytes());
        frame.extend_from_slice(&[0x1c, 0x0d]);
        stream.write_all(&frame).await.expect("send");
        let mut answer = Vec::new();
        loop {
            let b = stream.read_u8().await.expect("read");
            answer.push(b);
            if answer.ends_with(&[0x1c, 0x0d]) {
                break;
            }
        }
        assert_eq!(answer[0], 0x0b);
        let text = String::from_utf8_lossy(&answer[1..answer.len() - 2]).into_owned();
        assert_eq!(outcome(&text), ("AA".into(), vec![]), "{family}");
        assert_eq!(
            persons(&app, family).await[0]["doses"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }

    // A batch file: FHS/BHS, three messages (one for another facility), BTS/FTS.
    let files = tempfile::tempdir().expect("dir");
    let file = files.path().join("batch.hl7");
    let batch = format!(
        "FHS|^~\\&|EHR|P1\rBHS|^~\\&|EHR|P1\r{}{}{}BTS|3\rFTS|1\r",
        one_dose("B-1", "P1", "Batchone"),
        one_dose("B-2", "P1", "Batchtwo"),
        one_dose("B-3", "ELSEWHERE", "Batchthree"),
    );
    std::fs::write(&file, batch).expect("write");
    let summary = gateway::hl7::import::import_file(&state, &file, client, |_, _| {})
        .await
        .expect("import");
    assert_eq!(
        (summary.messages, summary.accepted, summary.rejected),
        (3, 2, 1)
    );
    let acks = std::fs::read_to_string(&summary.ack_file).expect("ack file");
    let lines: Vec<&str> = acks.split('\r').filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("FHS|") && lines[1].starts_with("BHS|"));
    let msa: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("MSA|"))
        .copied()
        .collect();
    assert_eq!(msa, vec!["MSA|AA|B-1", "MSA|AA|B-2", "MSA|AR|B-3"]);
    assert_eq!(lines[lines.len() - 2..], ["BTS|3", "FTS|1"]);
    assert_eq!(
        persons(&app, "Batchone").await[0]["doses"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert!(persons(&app, "Batchthree").await.is_empty());
    let _ = stop.send(());
}
