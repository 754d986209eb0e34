//! A coverage-free fuzzer for the HTTP request path: one real gateway (the `Application`
//! `izgraph serve` runs, on its own database — PostgreSQL when `DATABASE_URL` is set, SQLite
//! otherwise; Redis when `REDIS_URL` is set) seeded with real data, driven over loopback HTTP
//! with generated requests, several at a time, until `IZGRAPH_FUZZ_SECONDS` (default 60)
//! have passed.
//!
//! Inputs come from proptest strategies ([`generators`]); each response is judged by
//! [`oracle`]; after each case `/healthz` must still answer, no panic may have happened in
//! the server's threads and the gateway must not have logged an error. At the end, the growth
//! of the process's resident memory since the warm-up must stay under a bound. A failing case
//! is shrunk by proptest and printed (and written in full under `CARGO_TARGET_TMPDIR`).
//!
//! `IZGRAPH_FUZZ_SEED` (decimal or `0x…`) replays a run's inputs; the seed in use is printed
//! at the start. (The server's state also depends on timing — eight requests run at once — so
//! a replay is close to, not exactly, the original run.) `IZGRAPH_FUZZ_VERBOSE=1` adds the
//! most frequent error messages and codes per request kind to the summary, to see what the
//! inputs reach.
//!
//! It is a plain test target, so CI's `cargo test --workspace` (`.ci/run`, once per backend)
//! runs it for the default minute; for a longer run:
//!
//! ```text
//! IZGRAPH_FUZZ_SECONDS=300 cargo test -p izgraph-tests --test fuzz -- --nocapture
//! ```

#[allow(dead_code)]
#[path = "../e2e/support.rs"]
mod support;

mod generators;
mod graphql_gen;
mod http;
mod model;
mod oracle;
mod world;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use sha2::{Digest, Sha256};

use crate::generators::Ctx;
use crate::http::{HttpRequest, Outcome};
use crate::support::TestApp;

/// The default seed: runs are reproducible unless `IZGRAPH_FUZZ_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x1a9_2026;
/// Resident-memory growth allowed between the end of the warm-up and the end of the run.
const MAX_RSS_GROWTH_KIB: u64 = 256 * 1024;

// ---------------------------------------------------------------------------------------
// What the server's threads report: panics (from a panic hook) and warnings/errors (from a
// tracing layer installed like the gateway's own telemetry).

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static LOGGED: Mutex<Vec<(tracing::Level, String)>> = Mutex::new(Vec::new());

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_owned();
        let message = format!("thread `{thread}`: {info}");
        if let Ok(mut p) = PANICS.lock() {
            p.push(message);
        }
        previous(info);
    }));
}

/// Keeps every WARN and ERROR event with its fields.
struct Recorder;

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push_str(", ");
        }
        self.0.push_str(&format!("{}={value:?}", field.name()));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let level = *event.metadata().level();
        if level > tracing::Level::WARN {
            return;
        }
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let line = format!("{} {}: {}", level, event.metadata().target(), fields.0);
        if let Ok(mut l) = LOGGED.lock() {
            l.push((level, line));
        }
    }
}

/// Logs and traces as `izgraph serve` has them (JSON lines — into a sink here — and spans
/// joined to a caller's `traceparent` by the W3C propagator), plus the recorder.
fn install_telemetry() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let traces = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("izgraph-fuzz"))
        .with_filter(tracing_subscriber::EnvFilter::new(
            "info,hyper=off,hyper_util=off,h2=off,reqwest=off,tower=off,sqlx=warn,sea_orm=warn",
        ));
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(std::io::sink)
        .with_filter(tracing_subscriber::EnvFilter::new(
            "info,sqlx=warn,sea_orm=warn",
        ));
    let recorder = Recorder.with_filter(tracing_subscriber::filter::LevelFilter::WARN);
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .with(recorder)
        .try_init()
        .expect("no other subscriber in this test binary");
}

// ---------------------------------------------------------------------------------------
// Memory

/// `(VmRSS, VmHWM)` of this process, in KiB (the gateway runs in it).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

// ---------------------------------------------------------------------------------------
// Statistics

#[derive(Default)]
struct Stats {
    cases: u64,
    requests: u64,
    statuses: BTreeMap<String, u64>,
    by_kind: BTreeMap<(&'static str, String), u64>,
    codes: BTreeMap<String, u64>,
    /// Per kind: answers, total and slowest time to answer.
    latency: BTreeMap<&'static str, (u64, Duration, Duration)>,
    executed: u64,
    slowest: Duration,
    messages: BTreeMap<String, u64>,
}

impl Stats {
    fn record(&mut self, req: &HttpRequest, outcome: &Outcome, seen: Option<&oracle::Seen>) {
        self.requests += 1;
        let status = match outcome {
            Outcome::Answered(r) => {
                self.slowest = self.slowest.max(r.elapsed);
                let l = self.latency.entry(req.kind.as_str()).or_default();
                l.0 += 1;
                l.1 += r.elapsed;
                l.2 = l.2.max(r.elapsed);
                r.status.to_string()
            }
            Outcome::TimedOut => "timeout".into(),
            Outcome::Failed(_) => "connection failed".into(),
            Outcome::ClosedWithoutResponse => "closed".into(),
            Outcome::NotSent(why) => format!("not sent ({})", why.split(':').next().unwrap_or("")),
        };
        *self.statuses.entry(status.clone()).or_default() += 1;
        *self.by_kind.entry((req.kind.as_str(), status)).or_default() += 1;
        if let Some(seen) = seen {
            for code in &seen.codes {
                *self.codes.entry(code.clone()).or_default() += 1;
                if std::env::var_os("IZGRAPH_FUZZ_VERBOSE").is_some() {
                    *self
                        .codes
                        .entry(format!("{}:{code}", req.kind.as_str()))
                        .or_default() += 1;
                }
            }
            if seen.executed {
                self.executed += 1;
            }
            if std::env::var_os("IZGRAPH_FUZZ_VERBOSE").is_some() {
                for m in &seen.messages {
                    *self.messages.entry(m.clone()).or_default() += 1;
                }
            }
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| {
        let v = v.trim();
        v.strip_prefix("0x")
            .map_or_else(|| v.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
    })
}

async fn healthz(client: &reqwest::Client, base: &str) -> Result<(), String> {
    let resp = tokio::time::timeout(
        http::REQUEST_TIMEOUT,
        client.get(format!("{base}/healthz")).send(),
    )
    .await
    .map_err(|_| "/healthz did not answer within the timeout".to_owned())?
    .map_err(|e| format!("/healthz: {e:?}"))?;
    if resp.status() != 200 {
        return Err(format!("/healthz answered {}", resp.status()));
    }
    Ok(())
}

#[test]
fn the_http_request_path_survives_fuzzing() {
    let seconds = env_number("IZGRAPH_FUZZ_SECONDS").unwrap_or(60);
    let seed = env_number("IZGRAPH_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let backend = match (support::postgres_url(), std::env::var("REDIS_URL").ok()) {
        (Some(_), Some(_)) => "PostgreSQL + Redis",
        (Some(_), None) => "PostgreSQL",
        (None, Some(_)) => "SQLite + Redis",
        (None, None) => "SQLite",
    };
    println!("fuzz: seed {seed:#x} (IZGRAPH_FUZZ_SEED), {seconds} s (IZGRAPH_FUZZ_SECONDS), backend {backend}");

    install_panic_hook();
    install_telemetry();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .thread_name("izgraph-server")
        .enable_all()
        .build()
        .expect("runtime");

    let mut data_dir = None;
    let redis = std::env::var("REDIS_URL").ok();
    let app: TestApp = rt.block_on(TestApp::spawn_with(|s| {
        data_dir = Some(s.data_dir.clone());
        if let Some(url) = redis {
            s.redis_url = Some(gateway::config::Secret::new(url));
            s.cache.namespace = Some(format!("fuzz-{}", uuid::Uuid::new_v4().simple()));
        }
        // Requests run at once against one pool: as many connections as `izgraph serve`
        // would have by default.
        s.max_connections = 16;
    }));
    let data_dir = data_dir.expect("data dir");
    let world = rt.block_on(world::World::seed(&app, &data_dir));
    println!(
        "fuzz: gateway at {} seeded with {} organizations, {} persons, {} doses; tokens: {}",
        world.base,
        world.org_ids.len(),
        world.person_ids.len(),
        world.dose_ids.len(),
        world
            .tokens
            .iter()
            .map(|t| t.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let base = world.base.clone();
    let ctx = Arc::new(Ctx {
        world,
        model: model::Model::served(),
    });
    let strategy = generators::case(ctx.clone());
    let client = world::loopback_client();

    let config = Config {
        failure_persistence: None,
        max_shrink_iters: 2_000,
        max_shrink_time: 180_000,
        ..Config::default()
    };
    let seed_bytes: [u8; 32] = Sha256::digest(seed.to_le_bytes()).into();
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );

    let stats = Mutex::new(Stats::default());
    let shrinking = AtomicBool::new(false);
    let first_failure: Mutex<Option<(String, Vec<HttpRequest>)>> = Mutex::new(None);
    let test = |requests: Vec<HttpRequest>| -> Result<(), TestCaseError> {
        let panics_before = PANICS.lock().map(|p| p.len()).unwrap_or(0);
        let logged_before = LOGGED.lock().map(|l| l.len()).unwrap_or(0);
        let outcomes: Vec<Outcome> = rt.block_on(futures::future::join_all(
            requests.iter().map(|r| http::send(&client, &ctx.world, r)),
        ));
        let mut failures = Vec::new();
        {
            let mut st = stats.lock().expect("stats");
            if !shrinking.load(Ordering::Relaxed) {
                st.cases += 1;
            }
            for (req, outcome) in requests.iter().zip(&outcomes) {
                match oracle::check(req, outcome) {
                    Ok(seen) => st.record(req, outcome, Some(&seen)),
                    Err(why) => {
                        st.record(req, outcome, None);
                        failures.push(format!("{why}\n  request: {req:?}"));
                    }
                }
            }
        }
        if let Err(e) = rt.block_on(healthz(&client, &base)) {
            failures.push(format!("the server is not healthy after the case: {e}"));
        }
        let panics: Vec<String> = PANICS
            .lock()
            .map(|p| p[panics_before.min(p.len())..].to_vec())
            .unwrap_or_default();
        if !panics.is_empty() {
            failures.push(format!("the server panicked: {panics:#?}"));
        }
        let logged: Vec<(tracing::Level, String)> = LOGGED
            .lock()
            .map(|l| l[logged_before.min(l.len())..].to_vec())
            .unwrap_or_default();
        let errors: Vec<&String> = logged
            .iter()
            .filter(|(level, _)| *level == tracing::Level::ERROR)
            .map(|(_, line)| line)
            .collect();
        if !errors.is_empty() {
            failures.push(format!("the gateway logged errors: {errors:#?}"));
        }
        if failures.is_empty() {
            return Ok(());
        }
        if !logged.is_empty() {
            let lines: Vec<&String> = logged.iter().map(|(_, line)| line).collect();
            failures.push(format!("logged by the gateway during the case: {lines:#?}"));
        }
        let why = failures.join("\n");
        // The server keeps state (data written, a database marked down…): what shrinking
        // converges to may fail for a reason set up by the original case, so that is kept too.
        if !shrinking.swap(true, Ordering::Relaxed) {
            if let Ok(mut first) = first_failure.lock() {
                *first = Some((why.clone(), requests.clone()));
            }
        }
        Err(TestCaseError::fail(why))
    };

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let warm_up = started + Duration::from_secs((seconds / 4).clamp(10, 60).min(seconds));
    let mut rss_warm = None;
    let mut last_report = started;
    while Instant::now() < deadline {
        if rss_warm.is_none() && Instant::now() >= warm_up {
            rss_warm = Some(rss_kib());
        }
        if last_report.elapsed() >= Duration::from_secs(15) {
            last_report = Instant::now();
            let (cases, requests) = stats
                .lock()
                .map(|s| (s.cases, s.requests))
                .unwrap_or_default();
            println!(
                "fuzz: {:>4.0} s: {cases} cases, {requests} requests, resident {}",
                started.elapsed().as_secs_f64(),
                mib(rss_kib().0)
            );
        }
        let tree = strategy
            .new_tree(&mut runner)
            .expect("the strategy generates a case");
        match runner.run_one(tree, test) {
            Ok(_) => {}
            Err(TestError::Fail(why, minimal)) => {
                let dump = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                    .join(format!("fuzz-failure-{seed:x}.txt"));
                let (first_why, first_case) = first_failure
                    .lock()
                    .ok()
                    .and_then(|mut f| f.take())
                    .unwrap_or_default();
                let first_full: String = first_case
                    .iter()
                    .map(HttpRequest::full)
                    .collect::<Vec<_>>()
                    .join("\n----\n");
                let full: String = minimal
                    .iter()
                    .map(HttpRequest::full)
                    .collect::<Vec<_>>()
                    .join("\n----\n");
                let _ = std::fs::write(
                    &dump,
                    format!(
                        "SHRUNK CASE\n{why}\n\n{full}\n\n\nORIGINAL FAILING CASE\n{first_why}\n\n{first_full}"
                    ),
                );
                panic!(
                    "the fuzzer found a failure (seed {seed:#x}; both cases, in full, are in {}).\n\n\
                     As first seen:\n{}\n\nfirst failing case: {first_case:#?}\n\n\
                     Shrunk:\n{}\n\nshrunk case: {minimal:#?}",
                    dump.display(),
                    http::shorten(&first_why, 8000),
                    http::shorten(why.message(), 8000),
                );
            }
            Err(TestError::Abort(why)) => panic!("the fuzzer aborted: {why}"),
        }
    }
    let elapsed = started.elapsed();
    let rss_end = rss_kib();
    let rss_warm = rss_warm.unwrap_or(rss_end);

    let st = stats.lock().expect("stats");
    println!(
        "fuzz: {} cases, {} requests in {:.1} s: {:.0} requests/s; slowest answer {} ms; {} answers with data",
        st.cases,
        st.requests,
        elapsed.as_secs_f64(),
        st.requests as f64 / elapsed.as_secs_f64(),
        st.slowest.as_millis(),
        st.executed,
    );
    println!("fuzz: statuses {:?}", st.statuses);
    let mut kinds: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for ((kind, status), n) in &st.by_kind {
        kinds.entry(kind).or_default().push(format!("{status}×{n}"));
    }
    for (kind, statuses) in kinds {
        let (n, total, max) = st.latency.get(kind).copied().unwrap_or_default();
        println!(
            "fuzz:   {kind:<12} {} (mean {} ms, slowest {} ms)",
            statuses.join(" "),
            total.as_millis() / u128::from(n.max(1)),
            max.as_millis()
        );
    }
    println!("fuzz: error codes {:?}", st.codes);
    if !st.messages.is_empty() {
        let mut top: Vec<_> = st.messages.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        for (m, n) in top.into_iter().take(60) {
            println!("fuzz:   {n:>5} {m}");
        }
    }
    let warnings: BTreeMap<String, u64> = LOGGED
        .lock()
        .map(|l| {
            let mut m = BTreeMap::new();
            for (_, line) in l.iter() {
                let key: String = line.chars().take(160).collect();
                *m.entry(key).or_default() += 1;
            }
            m
        })
        .unwrap_or_default();
    println!("fuzz: warnings logged by the gateway: {warnings:#?}");
    println!(
        "fuzz: resident memory {} after warm-up, {} at the end (peak {})",
        mib(rss_warm.0),
        mib(rss_end.0),
        mib(rss_end.1)
    );
    let growth = rss_end.0.saturating_sub(rss_warm.0);
    assert!(
        growth < MAX_RSS_GROWTH_KIB,
        "resident memory grew by {} during the run (bound {})",
        mib(growth),
        mib(MAX_RSS_GROWTH_KIB)
    );
    drop(st);
    drop(app);
    drop(rt);
}
