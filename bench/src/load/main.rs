//! `load`: the deployment's load benchmark — two `izgraph serve` processes on one PostgreSQL
//! and one Redis, driven by a realistic mix of callers over many keep-alive connections.
//!
//! Creates a scratch PostgreSQL database (dropped afterwards), seeds it with
//! `izgraph seed --persons N`, starts the gateway instances on it with a fresh Redis cache
//! namespace and one shared dev signing key, mints tokens for providers, schools and an
//! auditor of the seeded organizations, then for `--warmup` and `--duration` seconds sends
//! the `--mix` of operations from `--connections` workers, each on its own HTTP/1.1
//! keep-alive connection, the connections spread round-robin over the instances. Prints
//! requests/s, p50/p99/p99.9/max and errors (a GraphQL `errors` entry counts, not only an HTTP
//! failure) per operation and in total, with the machine and its load average; exits 1 when
//! any request failed.
//!
//! ```sh
//! cargo build --release -p gateway -p izgraph-bench && target/release/load \
//!   [--persons 20000] [--connections 64] [--duration 30] [--warmup 5] [--instances 2]
//!   [--db-connections 16] [--mix read=55,search=15,write=15,roster=5,audit=5,compliance=3,consent=2]
//!   [--database-url postgres://…] [--izgraph PATH]
//! ```
//!
//! `DATABASE_URL` (an administrative connection: the scratch database is created through it)
//! and `REDIS_URL` default to the loopback servers.

#[path = "../args.rs"]
mod args;
mod fixtures;
mod gateways;
mod mix;
mod report;
#[path = "../roster/stats.rs"]
mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use args::arg;
use chrono::Utc;
use entities::codes::OrganizationKind;
use gateway::auth::{mint, TokenRequest};
use gateway::keys::DevKeys;
use policies::Role;
use rand::seq::SliceRandom;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use uuid::Uuid;

use fixtures::Fixtures;
use gateways::Gateways;
use mix::{Mix, Plan, Provider, Request, School, Zipf};
use report::{load_average, Machine, Recorder};

/// The text after `name` on the command line.
fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// What a run is asked to do.
struct Config {
    persons: usize,
    connections: usize,
    instances: usize,
    db_connections: usize,
    warmup: Duration,
    duration: Duration,
    mix: Mix,
    mix_text: String,
    admin_url: String,
    redis_url: String,
    izgraph: PathBuf,
}

impl Config {
    fn from_args() -> anyhow::Result<Config> {
        let mix_text = text_arg("--mix").unwrap_or_else(|| mix::DEFAULT_MIX.to_owned());
        let izgraph = match text_arg("--izgraph") {
            Some(p) => PathBuf::from(p),
            None => std::env::current_exe()?
                .parent()
                .context("the benchmark binary's directory")?
                .join("izgraph"),
        };
        let config = Config {
            persons: arg("--persons", 20_000),
            connections: arg("--connections", 64),
            instances: arg("--instances", 2),
            db_connections: arg("--db-connections", 16),
            warmup: Duration::from_secs(arg("--warmup", 5) as u64),
            duration: Duration::from_secs(arg("--duration", 30) as u64),
            mix: Mix::parse(&mix_text)?,
            mix_text,
            admin_url: text_arg("--database-url")
                .or_else(|| std::env::var("DATABASE_URL").ok())
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into()),
            redis_url: std::env::var("REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
            izgraph,
        };
        anyhow::ensure!(
            config.admin_url.starts_with("postgres"),
            "the load benchmark runs on PostgreSQL; give a postgres:// URL"
        );
        anyhow::ensure!(
            config.connections > 0 && config.instances > 0 && !config.duration.is_zero(),
            "--connections, --instances and --duration must be positive"
        );
        Ok(config)
    }
}

/// `admin`'s URL with its database name replaced by `name` (query string kept).
fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    if query.is_empty() {
        format!("{prefix}/{name}")
    } else {
        format!("{prefix}/{name}?{query}")
    }
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> anyhow::Result<String> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index(0)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_args()?;
    let machine = Machine::read();
    println!(
        "machine: {} CPUs ({}), {:.1} GiB memory; load average {} (1, 5, 15 min) at start",
        machine.cpus,
        machine.model,
        machine.memory_gib,
        load_average()
    );
    let name = format!("izgraph_load_{}", Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(config.admin_url.as_str())
        .await
        .context("connecting to PostgreSQL (--database-url or DATABASE_URL)")?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let url = database_url(&config.admin_url, &name);
    // ctrl-c drops the run (and with it the gateways) and still drops the database.
    let result = tokio::select! {
        r = run(&config, &url, &admin) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin.close().await?;
    let errors = result?;
    anyhow::ensure!(errors == 0, "{errors} requests failed");
    Ok(())
}

/// Runs the benchmark on the scratch database `url`; returns the number of failed requests.
async fn run(config: &Config, url: &str, admin: &DatabaseConnection) -> anyhow::Result<u64> {
    let pg_version = scalar(admin, "SHOW server_version").await?;
    let pg_max: String = scalar(admin, "SHOW max_connections").await?;
    let data_dir = tempfile::tempdir()?;
    let namespace = format!("load-{}", Uuid::new_v4().simple());

    let started = Instant::now();
    let seeded = tokio::process::Command::new(&config.izgraph)
        .args(["seed", "--persons", &config.persons.to_string()])
        .env("DATABASE_URL", url)
        .env("IZGRAPH_DATA_DIR", data_dir.path())
        .env("IZGRAPH_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} seed", config.izgraph.display()))?;
    anyhow::ensure!(
        seeded.status.success(),
        "izgraph seed failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    println!(
        "{} ({:.1} s)",
        String::from_utf8_lossy(&seeded.stdout).trim(),
        started.elapsed().as_secs_f64()
    );

    // The key exists before any instance starts, so all of them load this one rather than
    // racing to create their own.
    let keys = DevKeys::load_or_create(data_dir.path())?;
    let latest_dose_date = Utc::now().date_naive().pred_opt().context("yesterday")?;
    let db = sea_orm::Database::connect(url).await?;
    let fixtures = Fixtures::read(&db, latest_dose_date).await?;
    db.close().await?;
    let plan = Arc::new(plan(config, &keys, fixtures, latest_dose_date)?);

    let env = [
        ("DATABASE_URL", url.to_owned()),
        ("REDIS_URL", config.redis_url.clone()),
        ("IZGRAPH_CACHE", "redis".to_owned()),
        ("IZGRAPH_CACHE_NAMESPACE", namespace.clone()),
        ("IZGRAPH_DATA_DIR", data_dir.path().display().to_string()),
        ("IZGRAPH_SEED_DEMO", "false".to_owned()),
        (
            "IZGRAPH_DB_MAX_CONNECTIONS",
            config.db_connections.to_string(),
        ),
        (
            "IZGRAPH_LOG",
            std::env::var("IZGRAPH_LOG").unwrap_or_else(|_| "warn".into()),
        ),
    ];
    let gateways = Gateways::start(&config.izgraph, &env, config.instances, data_dir.path())
        .await
        .context("starting the gateways")?;
    let bases = gateways.bases();
    println!(
        "{} gateway instances ({}), each with a pool of {} PostgreSQL connections (PostgreSQL {pg_version}, max_connections {pg_max}); Redis {} namespace {namespace}",
        config.instances,
        bases.join(", "),
        config.db_connections,
        config.redis_url,
    );
    println!(
        "{} connections (HTTP/1.1 keep-alive, round-robin over the instances), {} s warm-up, {} s measured; mix {}",
        config.connections,
        config.warmup.as_secs(),
        config.duration.as_secs(),
        config.mix_text
    );
    for op in mix::Op::ALL {
        if config.mix.percent(op) > 0.0 {
            println!(
                "  {:<11} {:>5.1}%  {}",
                op.key(),
                config.mix.percent(op),
                op.describe()
            );
        }
    }

    let (warm, measured) = drive(config, &plan, &bases).await?;
    let load_after = load_average();
    let metrics = scrape(&bases).await;
    let log_lines = gateway_log_lines(&gateways);
    gateways.stop().await;

    println!(
        "\nwarm-up: {} requests, {} errors",
        warm.requests(),
        warm.errors()
    );
    println!(
        "measured {} s, {} connections over {} instances, {} persons:",
        config.duration.as_secs(),
        config.connections,
        config.instances,
        config.persons
    );
    measured.print(config.duration.as_secs_f64());
    println!("load average at the end: {load_after} (1, 5, 15 min)");
    for (base, lines) in bases.iter().zip(metrics) {
        println!("{base}/metrics:");
        for l in lines {
            println!("  {l}");
        }
    }
    if !log_lines.is_empty() {
        println!(
            "gateway log lines at warn or above (first {}):",
            log_lines.len()
        );
        for l in &log_lines {
            println!("  {l}");
        }
    }
    Ok(warm.errors() + measured.errors())
}

/// The callers: a token per provider (its patients ranked in a random order, so the hot
/// records are not the seed's first ids), per school and for the auditor.
fn plan(
    config: &Config,
    keys: &DevKeys,
    fixtures: Fixtures,
    latest_dose_date: chrono::NaiveDate,
) -> anyhow::Result<Plan> {
    let mut rng = Plan::rng(0x10ad);
    let token = |role: Role, org: Option<Uuid>, subject: String| {
        let mut req = TokenRequest::new(role);
        req.org = org;
        req.subject = Some(subject);
        // Longer than any run, warm-up and start-up included.
        req.ttl_seconds = 24 * 3600;
        mint(keys, &req)
    };
    let mut providers = Vec::new();
    for (org, mut patients) in fixtures.patients.clone() {
        let Some(o) = fixtures.organization(org) else {
            continue;
        };
        let role = match o.kind {
            OrganizationKind::PublicHealthAgency => Role::PublicHealth,
            _ => Role::Provider,
        };
        patients.shuffle(&mut rng);
        providers.push(Provider {
            org,
            token: token(role, Some(org), format!("load {}", o.name))?,
            zipf: Zipf::new(patients.len()),
            patients,
        });
    }
    let mut schools = Vec::new();
    for (&org, enrolled) in &fixtures.enrolled {
        let name = fixtures
            .organization(org)
            .map_or_else(|| org.to_string(), |o| o.name.clone());
        schools.push(School {
            org,
            token: token(Role::School, Some(org), format!("load {name}"))?,
            grades: enrolled.grades.iter().cloned().collect(),
            students: enrolled.students.clone(),
        });
    }
    println!(
        "callers: {} providers ({} patients), {} schools ({} readable students), 1 auditor",
        providers.len(),
        providers.iter().map(|p| p.patients.len()).sum::<usize>(),
        schools.len(),
        schools.iter().map(|s| s.students.len()).sum::<usize>(),
    );
    Ok(Plan {
        mix: config.mix.clone(),
        providers,
        schools,
        auditor: token(Role::Auditor, None, "load auditor".into())?,
        latest_dose_date,
    })
}

/// Sends the mix from every worker until the end of the measured period; returns what the
/// warm-up and the measured period recorded.
async fn drive(
    config: &Config,
    plan: &Arc<Plan>,
    bases: &[String],
) -> anyhow::Result<(Recorder, Recorder)> {
    let warm_until = Instant::now() + config.warmup;
    let until = warm_until + config.duration;
    let mut workers = Vec::with_capacity(config.connections);
    for index in 0..config.connections {
        // One idle connection per worker: the worker's requests follow each other on it, so
        // `--connections` is the number of open connections.
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()?;
        let url = format!("{}/graphql", bases[index % bases.len()]);
        let plan = plan.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = Plan::rng(index as u64);
            let (mut warm, mut measured) = (Recorder::default(), Recorder::default());
            while Instant::now() < until {
                let request = plan.next(&mut rng);
                let op = request.op;
                let sent = Instant::now();
                let outcome = send(&client, &url, request).await.err();
                let recorder = if sent < warm_until {
                    &mut warm
                } else {
                    &mut measured
                };
                recorder.record(op, sent.elapsed(), outcome);
            }
            (warm, measured)
        }));
    }
    let (mut warm, mut measured) = (Recorder::default(), Recorder::default());
    for w in workers {
        let (a, b) = w.await?;
        warm.merge(a);
        measured.merge(b);
    }
    Ok((warm, measured))
}

/// Sends one request; any transport failure, HTTP error status, GraphQL error or missing root
/// field is an error, described by its code, path and message.
async fn send(client: &reqwest::Client, url: &str, request: Request<'_>) -> Result<(), String> {
    let response = client
        .post(url)
        .bearer_auth(request.token)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&request.body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("HTTP {status}, unreadable body: {e}"))?;
    if let Some(e) = body["errors"].as_array().and_then(|e| e.first()) {
        return Err(format!(
            "{} at {}: {}",
            e["extensions"]["code"].as_str().unwrap_or("no code"),
            e["path"],
            e["message"].as_str().unwrap_or("no message")
        ));
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    match body["data"].as_object() {
        Some(data) if data.values().all(|v| !v.is_null()) => Ok(()),
        _ => Err(format!("no data: {body}")),
    }
}

/// The instances' record-cache, pool and policy-denial figures, from `/metrics`.
async fn scrape(bases: &[String]) -> Vec<Vec<String>> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for base in bases {
        let text = match client.get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(e) => format!("unreachable: {e}"),
        };
        out.push(
            text.lines()
                .filter(|l| {
                    l.starts_with("izgraph_record_cache")
                        || l.starts_with("izgraph_policy_denials_total")
                        || l.starts_with("izgraph_db_pool_connections")
                        || l.starts_with("unreachable")
                })
                .map(str::to_owned)
                .collect(),
        );
    }
    out
}

/// The first lines the instances logged at warn or above (they log nothing else at the
/// default `IZGRAPH_LOG=warn`): each is worth reading.
fn gateway_log_lines(gateways: &Gateways) -> Vec<String> {
    gateways
        .instances
        .iter()
        .flat_map(|i| {
            std::fs::read_to_string(&i.log)
                .unwrap_or_default()
                .lines()
                .take(5)
                .map(|l| format!("{}: {l}", i.base))
                .collect::<Vec<_>>()
        })
        .collect()
}
