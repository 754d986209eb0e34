//! `hl7`: VXU throughput through the CDC SOAP service (`POST /soap`) from `--senders S`
//! concurrent senders (default 16), each its own registered client and facility, each message a
//! new child with two doses; then `izgraph import hl7`'s path on a batch file of `--batch N`
//! such messages. Prints messages/s and p50/p99 per message.
//!
//! Starts the gateway in-process on a fresh PostgreSQL database (`DATABASE_URL`, dropped
//! afterwards; SQLite when unset), without demo data.
//!
//! `cargo run --release -p izgraph-bench --bin hl7 [-- --senders 16 --messages 4000 --batch 20000]`

#[path = "../args.rs"]
mod args;
#[path = "../roster/stats.rs"]
mod stats;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use args::arg;
use gateway::auth::clients::{register, ClientRegistration};
use gateway::auth::{mint, TokenRequest};
use gateway::config::Secret;
use gateway::{Application, Settings};
use policies::Role;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use stats::{ms, percentile};
use uuid::Uuid;

/// A VXU for child `n` of `facility`: two doses, VFC eligibility and a VIS.
fn vxu(facility: &str, n: usize) -> String {
    let family = format!("Bench{}", facility.trim_start_matches('F'));
    let given: String = format!("{n:06}")
        .bytes()
        .map(|b| char::from(b'A' + (b - b'0')))
        .collect();
    format!(
        "MSH|^~\\&|EHR|{facility}|IZGRAPH|IZGRAPH|20241001120000-0500||VXU^V04^VXU_V04|{facility}-{n}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
PID|1||{n}^^^EHR^MR||{family}^{given}^^^^^L|Maiden^Mother^^^^^M|20230115|F||2106-3^White^CDCREC|12 Main St^^Saint Paul^MN^55101^USA^L||^PRN^PH^^^651^5550100\r\
ORC|RE||{n}-1^EHR\r\
RXA|0|1|20240115||08^HepB peds^CVX|0.5|mL^^UCUM||00^New record^NIP001||||||LOT1|20300101|MSD^Merck^MVX|||CP|A\r\
RXR|C28161^Intramuscular^NCIT|LT^Left Thigh^HL70163\r\
OBX|1|CE|64994-7^Vaccine fund pgm elig cat^LN|1|V02^VFC eligible - Medicaid^HL70064||||||F|||20240115\r\
ORC|RE||{n}-2^EHR\r\
RXA|0|1|20240315||20^DTaP^CVX|0.5|mL^^UCUM||00^New record^NIP001||||||LOT2|20300101|PMC^Sanofi^MVX|||CP|A\r\
OBX|1|CE|69764-9^Document type^LN|1|253088698300003511070517^DTaP VIS^cdcgs1vis||||||F|||20240315\r"
    )
}

fn envelope(id: &str, secret: &str, facility: &str, message: &str) -> String {
    let message = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "&#13;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:c=\"urn:cdc:iisb:2011\"><soap:Body><c:submitSingleMessage><c:username>{id}</c:username><c:password>{secret}</c:password><c:facilityID>{facility}</c:facilityID><c:hl7Message>{message}</c:hl7Message></c:submitSingleMessage></soap:Body></soap:Envelope>"
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let senders = arg("--senders", 16);
    let messages = arg("--messages", 4000);
    let batch = arg("--batch", 20000);
    let data_dir = tempfile::tempdir()?;
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        max_connections: 16,
        seed_demo: false,
        ..Settings::default()
    };
    let admin_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    let mut pg = None;
    if let Some(admin) = &admin_url {
        let name = format!("izgraph_bench_{}", Uuid::new_v4().simple());
        let conn = sea_orm::Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        conn.close().await?;
        let prefix = admin.rsplit_once('/').map_or(admin.as_str(), |(p, _)| p);
        settings.database_url = Some(Secret::new(format!("{prefix}/{name}")));
        pg = Some((admin.clone(), name));
    }
    let result = run(settings, senders, messages, batch, pg.is_some()).await;
    if let Some((admin, name)) = pg {
        let conn = sea_orm::Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        conn.close().await?;
    }
    result
}

async fn run(
    settings: Settings,
    senders: usize,
    messages: usize,
    batch: usize,
    postgres: bool,
) -> anyhow::Result<()> {
    let app = Application::build(settings)
        .await
        .context("gateway start")?;
    let base = format!("http://{}", app.address()?);
    let store = app.store().clone();
    let state = app.state().clone();
    let admin = mint(app.keys(), &TokenRequest::new(Role::RegistryAdmin))?;
    let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::new();
    // One clinic and one registered client per sender.
    let mut clients = Vec::new();
    for s in 0..=senders {
        let facility = format!("F{s:03}");
        let body: Value = http
            .post(format!("{base}/graphql"))
            .bearer_auth(&admin)
            .json(&json!({
                "query": "mutation($n: String!, $f: String) { createOrganization(input: {name: $n, kind: CLINIC, facilityId: $f}) { id } }",
                "variables": { "n": format!("Clinic {facility}"), "f": facility }
            }))
            .send()
            .await?
            .json()
            .await?;
        let org: Uuid = body["data"]["createOrganization"]["id"]
            .as_str()
            .context("organization")?
            .parse()?;
        let issued = register(
            &store,
            ClientRegistration {
                name: None,
                role: Role::Provider,
                org: Some(org),
                scope: None,
            },
        )
        .await?;
        clients.push((
            facility,
            issued.client.id.to_string(),
            issued.secret.expose().to_owned(),
        ));
    }
    let batch_client = clients.pop().context("batch client")?;
    // Warm-up: each sender's credentials verified once (Argon2id), a few messages.
    for (facility, id, secret) in &clients {
        let resp = http
            .post(format!("{base}/soap"))
            .header("content-type", "application/soap+xml; charset=utf-8")
            .body(envelope(id, secret, facility, &vxu(facility, 999_999)))
            .send()
            .await?
            .text()
            .await?;
        anyhow::ensure!(resp.contains("MSA|AA"), "warm-up answer: {resp}");
    }
    let per_sender = messages / senders.max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (facility, id, secret) in clients.clone() {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_sender);
            for n in 0..per_sender {
                let body = envelope(&id, &secret, &facility, &vxu(&facility, n));
                let t = Instant::now();
                let resp = http
                    .post(format!("{base}/soap"))
                    .header("content-type", "application/soap+xml; charset=utf-8")
                    .body(body)
                    .send()
                    .await?
                    .text()
                    .await?;
                anyhow::ensure!(resp.contains("MSA|AA"), "answer: {resp}");
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "SOAP VXU on {}: {} messages from {senders} senders in {secs:.2}s: {:.0} messages/s, p50 {:.1} ms, p99 {:.1} ms",
        if postgres { "PostgreSQL" } else { "SQLite" },
        all.len(),
        all.len() as f64 / secs,
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 99.0)),
    );

    // The batch import of `batch` messages from one sender.
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("batch.hl7");
    let (facility, id, _) = &batch_client;
    let mut text = String::from("FHS|^~\\&|EHR\rBHS|^~\\&|EHR\r");
    for n in 0..batch {
        text.push_str(&vxu(facility, n));
    }
    text.push_str(&format!("BTS|{batch}\rFTS|1\r"));
    std::fs::write(&file, text)?;
    let started = Instant::now();
    let summary = gateway::hl7::import::import_file(&state, &file, id.parse()?, |_, _| {}).await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        summary.accepted == batch,
        "batch: {} of {batch} accepted",
        summary.accepted
    );
    println!(
        "batch import: {batch} messages in {secs:.2}s: {:.0} messages/s",
        batch as f64 / secs
    );
    let _ = shutdown.send(());
    task.await??;
    Ok(())
}
