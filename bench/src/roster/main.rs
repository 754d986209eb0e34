//! `roster`: the whole-school roster query on the real gateway, over HTTP.
//!
//! Starts the gateway in-process (the `Application` that `izgraph serve` runs) on its own
//! database — a fresh PostgreSQL database when `DATABASE_URL` is set (dropped afterwards),
//! SQLite in a temporary directory otherwise — seeds a school of 100 and one of 1,000
//! enrolled students, and prints for each: the database round trips of one roster read, and
//! p50/p99 latency cold (the first read of a freshly started gateway, repeated over
//! restarts) and warm (repeated reads of a running one).
//!
//! `cargo run --release -p izgraph-bench --bin roster [-- --cold N --warm N]`

/// The allocator `izgraph` ships with (see `gateway/src/main.rs`), so figures measured here are
/// the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../args.rs"]
mod args;
mod seed;
mod stats;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use args::arg;
use gateway::auth::{mint, TokenRequest};
use gateway::config::Secret;
use gateway::{Application, Settings};
use policies::Role;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use stats::{ms, percentile};
use uuid::Uuid;

const ROSTER: &str = "query($org: ID!) { roster(organizationId: $org) {
  totals { compliant inProgress exempt notCompliant } hiddenCount
  edges { node { grade person { id firstName lastName dateOfBirth }
    compliance { status requirements { vaccineGroup dosesCounted dosesRequired status exemption nextDueDate } } } }
} }";

/// A running gateway and what talks to it.
struct Running {
    base: String,
    store: entities::Store,
    keys: gateway::keys::DevKeys,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(settings: &Settings) -> anyhow::Result<Running> {
    let app = Application::build(settings.clone())
        .await
        .context("gateway start")?;
    let base = format!("http://{}", app.address()?);
    let store = app.store().clone();
    let keys = app.keys().clone();
    let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    Ok(Running {
        base,
        store,
        keys,
        shutdown,
        task,
    })
}

impl Running {
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await??;
        Ok(())
    }

    fn token(&self, role: Role, org: Option<Uuid>) -> anyhow::Result<String> {
        let mut req = TokenRequest::new(role);
        if let Some(o) = org {
            req = req.org(o);
        }
        Ok(mint(&self.keys, &req)?)
    }

    async fn gql(
        &self,
        client: &reqwest::Client,
        token: &str,
        query: &str,
        vars: Value,
    ) -> anyhow::Result<Value> {
        let body: Value = client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": vars }))
            .send()
            .await?
            .json()
            .await?;
        if let Some(errors) = body.get("errors") {
            anyhow::bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    /// One roster read: its latency, statements and number of students listed.
    async fn roster(
        &self,
        client: &reqwest::Client,
        token: &str,
        org: Uuid,
    ) -> anyhow::Result<(Duration, u64, usize)> {
        let before = self.store.statements_executed();
        // Timed to the last byte of the response, not through this client's own parse of the
        // 1 MB body into a JSON tree (which is checked afterwards).
        let started = Instant::now();
        let bytes = client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": ROSTER, "variables": { "org": org } }))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let took = started.elapsed();
        let statements = self.store.statements_executed() - before;
        let body: Value = serde_json::from_slice(&bytes)?;
        if let Some(errors) = body.get("errors") {
            anyhow::bail!("GraphQL errors: {errors}");
        }
        let students = body["data"]["roster"]["edges"]
            .as_array()
            .map_or(0, Vec::len);
        Ok((took, statements, students))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `--trace`: every span's busy and idle time on stderr, to see where a read's time goes.
    if std::env::args().any(|a| a == "--trace") {
        tracing_subscriber::fmt()
            .with_env_filter(
                std::env::var("IZGRAPH_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
            )
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_writer(std::io::stderr)
            .init();
    }
    let cold_runs = arg("--cold", 10);
    let warm_runs = arg("--warm", 50);
    let data_dir = tempfile::tempdir()?;
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        seed_demo: false,
        max_connections: 16,
        ..Settings::default()
    };
    let admin_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    let pg_database = match &admin_url {
        Some(admin) => {
            let name = format!("izgraph_bench_{}", Uuid::new_v4().simple());
            let conn = sea_orm::Database::connect(admin.as_str()).await?;
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            conn.close().await?;
            let (base, query) = admin.split_once('?').unwrap_or((admin.as_str(), ""));
            let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
            let url = if query.is_empty() {
                format!("{prefix}/{name}")
            } else {
                format!("{prefix}/{name}?{query}")
            };
            settings.database_url = Some(Secret::new(url));
            Some((admin.clone(), name))
        }
        None => None,
    };
    let result = run(&settings, cold_runs, warm_runs).await;
    if let Some((admin, name)) = pg_database {
        let conn = sea_orm::Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        conn.close().await?;
    }
    result
}

async fn run(settings: &Settings, cold_runs: usize, warm_runs: usize) -> anyhow::Result<()> {
    let backend = if settings.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let client = reqwest::Client::new();
    let gateway = start(settings).await?;
    let admin = gateway.token(Role::RegistryAdmin, None)?;
    let today = settings.today();
    let year = policies::school_year_of(today);
    let mut schools = Vec::new();
    for size in [100usize, 1000] {
        let data = gateway
            .gql(
                &client,
                &admin,
                "mutation($n: String!) { createOrganization(input: { name: $n, kind: SCHOOL }) { id } }",
                json!({ "n": format!("School of {size}") }),
            )
            .await?;
        let org: Uuid = data["createOrganization"]["id"]
            .as_str()
            .context("organization id")?
            .parse()?;
        let started = Instant::now();
        let doses = seed::students(
            gateway.store.connection(),
            org,
            &year,
            today,
            size,
            &format!("S{size}x"),
        )
        .await?;
        println!(
            "seeded {size} students ({doses} doses) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        schools.push((size, org));
    }
    // As on any database in service, the planner has statistics (autovacuum would gather
    // them within a minute or so; the benchmark does not wait for it).
    gateway
        .store
        .connection()
        .execute_unprepared("ANALYZE")
        .await?;
    gateway.stop().await?;

    println!(
        "\nroster of a whole school on {backend}, school token, over HTTP ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:>9} | {:>11} | {:>13} | {:>13} | {:>13} | {:>13}",
        "students", "round trips", "cold p50 ms", "cold p99 ms", "warm p50 ms", "warm p99 ms"
    );
    for (size, org) in schools {
        let mut cold = Vec::with_capacity(cold_runs);
        let mut statements = 0;
        for _ in 0..cold_runs {
            let gateway = start(settings).await?;
            let token = gateway.token(Role::School, Some(org))?;
            let (took, n, listed) = gateway.roster(&client, &token, org).await?;
            anyhow::ensure!(listed == size, "listed {listed} of {size}");
            cold.push(took);
            statements = n;
            gateway.stop().await?;
        }
        let gateway = start(settings).await?;
        let token = gateway.token(Role::School, Some(org))?;
        for _ in 0..3 {
            gateway.roster(&client, &token, org).await?;
        }
        let mut warm = Vec::with_capacity(warm_runs);
        let mut warm_statements = Vec::new();
        for _ in 0..warm_runs {
            let (took, n, _) = gateway.roster(&client, &token, org).await?;
            warm.push(took);
            warm_statements.push(n);
        }
        gateway.stop().await?;
        warm_statements.sort_unstable();
        warm_statements.dedup();
        println!(
            "{:>9} | {:>11} | {:>13.1} | {:>13.1} | {:>13.1} | {:>13.1}",
            size,
            format!(
                "{statements} / {}",
                warm_statements
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ms(percentile(&cold, 50.0)),
            ms(percentile(&cold, 99.0)),
            ms(percentile(&warm, 50.0)),
            ms(percentile(&warm, 99.0)),
        );
    }
    println!("(round trips: cold / warm statements per roster read, access-log append included; cold: first read after a gateway start, {cold_runs} starts; warm: {warm_runs} reads after 3 warm-up reads)");
    Ok(())
}
