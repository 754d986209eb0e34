//! Traces and logs of the real `izgraph serve`: spans exported over OTLP/HTTP to a receiver
//! on loopback (configured by the standard `OTEL_*` variables only), the span tree of one
//! query, and no personal data in any span attribute; JSON log lines with the request id.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_izgraph");

/// A span as received, with its attributes and those of its events, flattened to strings.
#[derive(Debug, Clone)]
struct Received {
    trace: Vec<u8>,
    id: Vec<u8>,
    parent: Vec<u8>,
    name: String,
    attributes: HashMap<String, String>,
    /// Every attribute value of the span and of its events.
    values: Vec<String>,
    service: String,
}

fn text(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// An OTLP/HTTP trace receiver on loopback: a few lines of axum.
async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let sink = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut out = sink.lock().expect("lock");
                for resource in request.resource_spans {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|kv| kv.key == "service.name")
                        .map(text)
                        .unwrap_or_default();
                    for scope in resource.scope_spans {
                        for span in scope.spans {
                            let attributes: HashMap<String, String> = span
                                .attributes
                                .iter()
                                .map(|kv| (kv.key.clone(), text(kv)))
                                .collect();
                            let mut values: Vec<String> = attributes.values().cloned().collect();
                            for event in &span.events {
                                values.push(event.name.clone());
                                values.extend(event.attributes.iter().map(text));
                            }
                            out.push(Received {
                                trace: span.trace_id,
                                id: span.span_id,
                                parent: span.parent_span_id,
                                name: span.name,
                                attributes,
                                values,
                                service: service.clone(),
                            });
                        }
                    }
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), spans)
}

/// A database of its own: PostgreSQL when `DATABASE_URL` names a server, else SQLite.
struct Db {
    url: Option<String>,
    admin: Option<(String, String)>,
}

fn psql(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async {
            use sea_orm::ConnectionTrait;
            let db = sea_orm::Database::connect(&url).await.expect("connect");
            db.execute_unprepared(&sql).await.expect("statement");
            db.close().await.ok();
        });
    })
    .join()
    .expect("psql thread");
}

impl Db {
    fn new() -> Db {
        let Some(admin) = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        else {
            return Db {
                url: None,
                admin: None,
            };
        };
        let name = format!("izgraph_otel_{}", uuid::Uuid::new_v4().simple());
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Db {
            url: Some(format!("{base}/{name}")),
            admin: Some((admin, name)),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            psql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn izgraph(dir: &std::path::Path, db: &Db) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IZGRAPH_DATA_DIR", dir)
        .env("IZGRAPH_LISTEN", "127.0.0.1:0")
        .env("IZGRAPH_SEED_DEMO", "false");
    if let Some(url) = &db.url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

fn stop(mut child: Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "izgraph did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn graphql(url: &str, token: &str, rid: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("x-request-id", rid)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_query_exports_its_span_tree_and_no_personal_data() {
    let (endpoint, spans) = receiver().await;
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::new();
    let log_path = dir.path().join("stderr.log");
    let mut child = izgraph(dir.path(), &db)
        .arg("serve")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("IZGRAPH_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).expect("log file"))
        .spawn()
        .expect("spawn serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("start-up line");
    let url = line
        .trim()
        .strip_prefix("izgraph listening on ")
        .unwrap_or_else(|| panic!("unexpected start-up line {line:?}"))
        .to_owned();
    let out = izgraph(dir.path(), &db)
        .args(["token", "--role", "registry_admin"])
        .output()
        .expect("token");
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    // Personal data that must never reach a span: a name and a date of birth.
    let created = graphql(
        &url,
        &admin,
        "otel-create",
        "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
        json!({ "i": { "firstName": "Zebulon", "lastName": "Quixotic", "dateOfBirth": "2019-04-30", "gender": "MALE" } }),
    )
    .await;
    let id = created["data"]["createPerson"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    graphql(
        &url,
        &admin,
        "otel-dose",
        "mutation($i: DoseInput!) { recordDose(input: $i) { stored } }",
        json!({ "i": { "personId": id, "cvx": "20", "dateGiven": "2019-07-01", "lotNumber": "LOT-77" } }),
    )
    .await;
    let found = graphql(
        &url,
        &admin,
        "otel-query",
        "query FindPerson($n: String!, $d: Date) { persons(filter: {lastName: $n, dateOfBirth: $d}) { edges { node { id firstName dateOfBirth doses { dateGiven lotNumber } } } } }",
        json!({ "n": "Quixotic", "d": "2019-04-30" }),
    )
    .await;
    assert_eq!(
        found["data"]["persons"]["edges"][0]["node"]["firstName"], "Zebulon",
        "{found}"
    );

    // Spans arrive in batches; wait for the query's access-log span, its last.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (root, trace) = loop {
        let all = spans.lock().expect("lock").clone();
        let root = all.iter().find(|s| {
            // The request id is the server's own (a caller's x-request-id only sits beside it
            // in the access log), so the query's request span is found by its operation.
            s.name == "graphql.request"
                && s.attributes
                    .get("graphql.operation.name")
                    .map(String::as_str)
                    == Some("FindPerson")
        });
        if let Some(root) = root {
            let trace: Vec<Received> = all
                .iter()
                .filter(|s| s.trace == root.trace)
                .cloned()
                .collect();
            if trace.iter().any(|s| s.name == "access_log.append") {
                break (root.clone(), trace);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no complete trace received: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The request span: who, what, how it ended.
    assert!(root.parent.is_empty(), "the request span is the root");
    assert_eq!(root.service, "izgraph");
    assert_eq!(root.attributes["graphql.operation.name"], "FindPerson");
    assert_eq!(root.attributes["graphql.operation.type"], "query");
    assert_eq!(root.attributes["enduser.role"], "registry_admin");
    assert_eq!(root.attributes["outcome"], "ok");
    assert_eq!(root.attributes["http.response.status_code"], "200");

    let by_id: HashMap<&[u8], &Received> = trace.iter().map(|s| (s.id.as_slice(), s)).collect();
    let parent_name = |s: &Received| by_id.get(s.parent.as_slice()).map(|p| p.name.as_str());
    let children = |name: &str| -> Vec<&Received> {
        trace
            .iter()
            .filter(|s| parent_name(s) == Some(name))
            .collect()
    };
    let under_root: Vec<&str> = children("graphql.request")
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    for phase in [
        "graphql.parse",
        "policy.row_scope",
        "graphql.limits",
        "graphql.validate",
        "graphql.execute",
        "access_log.append",
    ] {
        assert!(
            under_root.contains(&phase),
            "{phase} under the request: {under_root:?}"
        );
    }
    // The root field's resolver, its statement and its policy decisions.
    let resolve = trace
        .iter()
        .find(|s| s.name == "Query.persons")
        .unwrap_or_else(|| panic!("no resolver span: {trace:#?}"));
    assert_eq!(parent_name(resolve), Some("graphql.execute"));
    let db_system = if db.url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    let statements: Vec<&Received> = children("Query.persons")
        .into_iter()
        .filter(|s| s.attributes.get("db.system").map(String::as_str) == Some(db_system))
        .collect();
    assert!(
        !statements.is_empty(),
        "the search statement under its resolver"
    );
    assert!(statements
        .iter()
        .all(|s| s.attributes.contains_key("db.statement")));
    // The page's doses are batch-loaded under a load span, with their own statement.
    let ancestors = |s: &Received| -> Vec<String> {
        let mut names = Vec::new();
        let mut at = by_id.get(s.parent.as_slice());
        while let Some(p) = at {
            names.push(p.name.clone());
            at = by_id.get(p.parent.as_slice());
        }
        names
    };
    assert!(
        trace.iter().any(|s| s.attributes.contains_key("db.system")
            && ancestors(s).iter().any(|a| a.starts_with("graphql.load"))),
        "a batch statement under a load span: {:#?}",
        trace
            .iter()
            .map(|s| (s.name.as_str(), parent_name(s)))
            .collect::<Vec<_>>()
    );
    let decisions: Vec<&Received> = trace
        .iter()
        .filter(|s| s.name == "policy.decision")
        .collect();
    assert!(
        decisions
            .iter()
            .any(
                |d| d.attributes.get("policy.field").map(String::as_str) == Some("identity")
                    && d.attributes.get("policy.allowed").map(String::as_str) == Some("true")
            ),
        "{decisions:#?}"
    );

    // No attribute of any span of any trace carries the name, the date of birth or the lot.
    let all = spans.lock().expect("lock").clone();
    for span in &all {
        for value in &span.values {
            let upper = value.to_uppercase();
            for secret in ["ZEBULON", "QUIXOTIC", "2019-04-30", "LOT-77"] {
                assert!(
                    !upper.contains(secret),
                    "span {} carries personal data: {value}",
                    span.name
                );
            }
        }
    }
    stop(child);

    // One JSON log line per request, with the request id its trace carries.
    let rid = root.attributes["request.id"].clone();
    assert_ne!(
        rid, "otel-query",
        "the request id is the server's, not the caller's"
    );
    let logs = std::fs::read_to_string(&log_path).expect("logs");
    let line = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["request_id"] == rid.as_str())
        .unwrap_or_else(|| panic!("no request log line:\n{logs}"));
    assert_eq!(line["fields"]["message"], "graphql request");
    assert_eq!(line["fields"]["operation"], "FindPerson");
    assert_eq!(line["fields"]["outcome"], "ok");
}
