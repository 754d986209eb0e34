//! `person_cache`: `person(id){ doses { vaccine { cvx } } }` on the real gateway over HTTP,
//! with the record cache off, cold, warm in Redis (no near cache) and warm in process.
//!
//! Starts the gateway in-process on a fresh PostgreSQL database (`DATABASE_URL`, dropped
//! afterwards; SQLite when unset) with the demo data (400 persons), then for each mode reads
//! every person once (cold: a fresh cache namespace) and then `--requests N` more reads over
//! the same persons from `--clients C` concurrent clients (warm). Redis modes need
//! `REDIS_URL`. Prints requests/s, p50, p99 and database statements per read per mode.
//!
//! `cargo run --release -p izgraph-bench --bin person_cache [-- --requests N --clients C]`

/// The allocator `izgraph` ships with (see `gateway/src/main.rs`), so figures measured here are
/// the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../args.rs"]
mod args;
#[path = "../roster/stats.rs"]
mod stats;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use args::arg;
use gateway::auth::{mint, TokenRequest};
use gateway::config::{CacheMode, Secret};
use gateway::{Application, Settings};
use policies::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use stats::{ms, percentile};
use uuid::Uuid;

const QUERY: &str = "query($id: ID!) { person(id: $id) { doses { vaccine { cvx } } } }";

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Reads `ids` round-robin, `requests` times in all, from `clients` concurrent clients.
async fn drive(
    base: &str,
    token: &str,
    ids: &[String],
    requests: usize,
    clients: usize,
) -> anyhow::Result<Figures> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, token) = (client.clone(), base.to_owned(), token.to_owned());
        let mine: Vec<String> = ids
            .iter()
            .cycle()
            .skip(c)
            .step_by(clients)
            .take(requests / clients)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(mine.len());
            for id in mine {
                let t = Instant::now();
                let body: Value = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": QUERY, "variables": { "id": id } }))
                    .send()
                    .await?
                    .json()
                    .await?;
                anyhow::ensure!(body.get("errors").is_none(), "errors: {body}");
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(Figures {
        per_second: all.len() as f64 / secs,
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
    })
}

async fn mode(
    settings: &Settings,
    name: &str,
    requests: usize,
    clients: usize,
) -> anyhow::Result<()> {
    let app = Application::build(settings.clone())
        .await
        .context("gateway start")?;
    let base = format!("http://{}", app.address()?);
    let store = app.store().clone();
    let token = mint(app.keys(), &TokenRequest::new(Role::RegistryAdmin))?;
    let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let db = store.connection();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT DISTINCT person_id FROM doses",
        ))
        .await?;
    let ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<Uuid>(0).ok())
        .map(|u| u.to_string())
        .collect();
    let before = store.statements_executed();
    let cold = drive(&base, &token, &ids, ids.len(), 1).await?;
    let between = store.statements_executed();
    let warm = drive(&base, &token, &ids, requests, clients).await?;
    let after = store.statements_executed();
    // Statements per read, access-log appends included (a writer batches several reads'
    // entries into one statement under load, so warm figures can be fractional).
    let per_read = |n: u64, reads: usize| n as f64 / reads.max(1) as f64;
    let cold_statements = per_read(between - before, ids.len());
    let warm_statements = per_read(after - between, requests / clients * clients);
    let _ = shutdown.send(());
    task.await??;
    println!(
        "{name:<22} | {:>8.0} | {:>8.2} | {:>8.2} | {:>6.2} | {:>8.0} | {:>8.2} | {:>8.2} | {:>6.2}",
        cold.per_second,
        ms(cold.p50),
        ms(cold.p99),
        cold_statements,
        warm.per_second,
        ms(warm.p50),
        ms(warm.p99),
        warm_statements
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let requests = arg("--requests", 4000);
    let clients = arg("--clients", 8);
    let data_dir = tempfile::tempdir()?;
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        max_connections: 16,
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
    let redis = std::env::var("REDIS_URL").ok();
    println!(
        "person(id){{doses{{vaccine{{cvx}}}}}} on {}; cold: every person once, 1 client; warm: {requests} reads, {clients} clients",
        if pg.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    println!(
        "{:<22} | {:>8} | {:>8} | {:>8} | {:>6} | {:>8} | {:>8} | {:>8} | {:>6}",
        "cache", "cold r/s", "p50 ms", "p99 ms", "stmts", "warm r/s", "p50 ms", "p99 ms", "stmts"
    );
    let result = async {
        let mut s = settings.clone();
        s.cache.mode = Some(CacheMode::None);
        mode(&s, "none", requests, clients).await?;
        let mut s = settings.clone();
        s.cache.mode = Some(CacheMode::Memory);
        mode(&s, "in-process", requests, clients).await?;
        if let Some(url) = &redis {
            for (near, name) in [
                (false, "Redis (no near cache)"),
                (true, "Redis + near cache"),
            ] {
                let mut s = settings.clone();
                s.redis_url = Some(Secret::new(url.clone()));
                s.cache.mode = Some(CacheMode::Redis);
                s.cache.near_cache = near;
                s.cache.namespace = Some(format!("bench-{}", Uuid::new_v4().simple()));
                mode(&s, name, requests, clients).await?;
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if let Some((admin, name)) = pg {
        let conn = sea_orm::Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        conn.close().await?;
    }
    result
}
