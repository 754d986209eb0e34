//! `population`: a statewide reminder/recall job over a seeded registry, on N gateway
//! instances sharing one PostgreSQL database.
//!
//! Seeds the database named by `DATABASE_URL` up to `--persons` (default 1,000,000; the
//! seeding is not timed and is skipped when the persons are already there), starts
//! `--instances` gateways (each with `--workers` claim loops) in this process, starts one
//! REMINDER_RECALL job over every vaccine group as registry staff, and prints the job's
//! run time (started → finished), its throughput, and this process's resident memory sampled
//! every 250 ms (peak and the samples' spread), so "memory flat" is a figure.
//!
//! `DATABASE_URL=postgres://… cargo run --release -p izgraph-bench --bin population -- --instances 2 --workers 1`

#[path = "../args.rs"]
mod args;

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use args::arg;
use gateway::auth::{mint, TokenRequest};
use gateway::config::Secret;
use gateway::{Application, Settings};
use policies::Role;
use serde_json::{json, Value};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL (PostgreSQL) is required")?;
    if !url.starts_with("postgres") {
        bail!("the benchmark runs on PostgreSQL");
    }
    let persons = u64::try_from(arg("--persons", 1_000_000))?;
    let instances = arg("--instances", 1).max(1);
    let workers = arg("--workers", 2);
    let shard_size = u32::try_from(arg("--shard-size", 5000))?;
    let data_dir = tempfile::tempdir()?;
    let settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        database_url: Some(Secret::new(url.clone())),
        seed_demo: false,
        max_connections: 8,
        jobs: schema::population::PopulationConfig {
            workers,
            shard_size,
            ..Default::default()
        },
        ..Settings::default()
    };
    let store = gateway::app::open_store(&settings).await?;
    let have = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entities::model::person::Entity::find()
            .count(store.connection())
            .await?
    };
    if have < persons {
        eprintln!("seeding {} persons (not timed)…", persons - have);
        let t = Instant::now();
        store
            .seed(
                entities::seed::SeedOptions {
                    persons,
                    seed: 17,
                    today: settings.today(),
                },
                |_| {},
            )
            .await?;
        eprintln!("seeded in {:.1} s", t.elapsed().as_secs_f64());
    }
    let mut running = Vec::new();
    for _ in 0..instances {
        let app = Application::build(settings.clone()).await?;
        let base = format!("http://{}", app.address()?);
        let keys = app.keys().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        running.push((base, keys, tx, task));
    }
    let (base, keys, _, _) = &running[0];
    let token = mint(keys, &TokenRequest::new(Role::RegistryAdmin))?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let gql = |query: &'static str, variables: Value| {
        let client = client.clone();
        let token = token.clone();
        let base = base.clone();
        async move {
            let body: Value = client
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await?
                .json()
                .await?;
            if body.get("errors").is_some() {
                bail!("GraphQL errors: {body}");
            }
            anyhow::Ok(body["data"].clone())
        }
    };
    let rss_before = rss_kib();
    let wall = Instant::now();
    let data = gql(
        "mutation { startPopulationJob(kind: REMINDER_RECALL) { id total shardsTotal } }",
        json!({}),
    )
    .await?;
    let job = data["startPopulationJob"]["id"]
        .as_str()
        .context("job id")?
        .to_owned();
    eprintln!(
        "job {job}: {} persons in {} shards, {instances} instance(s) × {workers} worker(s)",
        data["startPopulationJob"]["total"], data["startPopulationJob"]["shardsTotal"]
    );
    let mut samples = Vec::new();
    let finished = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        samples.push(rss_kib());
        let d = gql(
            "query($id: ID!) { populationJob(id: $id) { status done total results startedAt finishedAt } }",
            json!({ "id": job }),
        )
        .await?;
        let j = d["populationJob"].clone();
        if j["status"] != "QUEUED" && j["status"] != "RUNNING" {
            break j;
        }
    };
    let wall = wall.elapsed();
    let parse = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .context("timestamp")
    };
    let run = (parse(&finished["finishedAt"])? - parse(&finished["startedAt"])?)
        .to_std()
        .unwrap_or_default();
    samples.sort_unstable();
    let peak = samples.last().copied().unwrap_or(0);
    let median = samples.get(samples.len() / 2).copied().unwrap_or(0);
    let done = finished["done"].as_f64().unwrap_or(0.0);
    println!("status {}", finished["status"]);
    println!(
        "persons {} · listed (due or overdue) {} · run {:.1} s (wall, with planning and polling, {:.1} s) · {:.0} persons/s",
        finished["done"],
        finished["results"],
        run.as_secs_f64(),
        wall.as_secs_f64(),
        done / run.as_secs_f64().max(0.001)
    );
    println!(
        "resident memory: before {} MiB, during: median {} MiB, peak {} MiB ({} samples)",
        rss_before / 1024,
        median / 1024,
        peak / 1024,
        samples.len()
    );
    for (_, _, tx, task) in running {
        let _ = tx.send(());
        let _ = task.await;
    }
    Ok(())
}
