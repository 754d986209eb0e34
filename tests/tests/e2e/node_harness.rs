//! The Node harness in `tests/federation/`, run against the real server: Apollo composition
//! and `@apollo/gateway` over izgraph plus a second subgraph (refusals must survive the hop),
//! and `graphql-http`'s server audits (no MUST may fail). Installed with `npm ci` from the
//! committed lock file when `node_modules` is missing. Skipped, with a message, only when
//! `node` is not installed.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::policy_fixture::{Fixture, State, Who};
use crate::support::TestApp;

fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("federation")
}

/// Whether `node` runs at all.
fn node_present() -> bool {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `npm ci` once per test process (both harness tests may ask at the same time).
async fn install() {
    static INSTALL: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    INSTALL
        .get_or_init(|| async {
            let dir = harness_dir();
            if dir.join("node_modules/.package-lock.json").exists() {
                return;
            }
            let out = tokio::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .output()
                .await
                .expect("run npm ci");
            assert!(
                out.status.success(),
                "npm ci failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        })
        .await;
}

/// Runs `node <script> <fixture.json>` and returns its exit success and output.
async fn run(script: &str, fixture: serde_json::Value) -> (bool, String) {
    install().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fixture.json");
    std::fs::write(&path, fixture.to_string()).expect("write fixture");
    let child = tokio::process::Command::new("node")
        .arg(script)
        .arg(&path)
        .current_dir(harness_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let out = tokio::time::timeout(Duration::from_secs(240), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("node {script} did not finish in 240 s"))
        .expect("node output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_survive_composition_behind_an_apollo_gateway() {
    if !node_present() {
        eprintln!("SKIPPED: `node` is not installed; the federation harness did not run");
        return;
    }
    let fx = Fixture::build().await;
    let fixture = json!({
        "url": fx.app.base,
        "tokens": {
            "admin": fx.token(Who::Admin, None),
            "providerA": fx.token(Who::ProviderA, None),
            "providerB": fx.token(Who::ProviderB, None),
            "school": fx.token(Who::SchoolS, None),
            "auditor": fx.token(Who::Auditor, None),
        },
        "persons": {
            "normal": fx.record(State::Normal),
            "locked": fx.record(State::LockedToClinicA),
        },
        "names": { "normal": "Normal", "locked": "LockedToClinicA" },
    });
    let (ok, output) = run("federation.mjs", fixture).await;
    println!("{output}");
    assert!(ok, "the federation harness failed:\n{output}");
    assert!(output.contains(", 0 failed"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_http_server_audits_pass_every_must() {
    if !node_present() {
        eprintln!("SKIPPED: `node` is not installed; the graphql-http audits did not run");
        return;
    }
    let app = TestApp::spawn().await;
    let fixture = json!({ "url": app.base, "tokens": { "admin": app.admin() } });
    let (ok, output) = run("audit.mjs", fixture).await;
    println!("{output}");
    assert!(ok, "graphql-http MUST audits failed:\n{output}");
    let must = output
        .lines()
        .find_map(|l| l.strip_prefix("graphql-http audits MUST: "))
        .unwrap_or_else(|| panic!("no MUST tally:\n{output}"));
    assert!(
        must.ends_with(", 0 failed") && !must.starts_with("0 "),
        "{must}"
    );
}
