//! The `izgraph` binary as automation drives it: `serve` (random port, restart on the same
//! data, SIGTERM), `migrate`, `seed`, `schema`, `token` and `audit verify`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_izgraph");

/// A fresh database for one test: a PostgreSQL database when `DATABASE_URL` names a server,
/// else SQLite in the data directory.
struct Db {
    url: Option<String>,
    admin: Option<(String, String)>,
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
        let name = format!("izgraph_cli_{}", uuid::Uuid::new_v4().simple());
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Db {
            url: Some(format!("{base}/{name}")),
            admin: Some((admin.clone(), name)),
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

/// Runs one statement on its own thread and runtime, so it works from sync and async tests.
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

fn izgraph(dir: &std::path::Path, db: &Db) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IZGRAPH_DATA_DIR", dir)
        .env("IZGRAPH_LISTEN", "127.0.0.1:0")
        .env("IZGRAPH_LOG", "warn");
    if let Some(url) = &db.url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run izgraph");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `izgraph serve` and the URL from its start-up line.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &std::path::Path, db: &Db, seed_demo: bool) -> Server {
        let mut child = izgraph(dir, db)
            .arg("serve")
            .env("IZGRAPH_SEED_DEMO", seed_demo.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("start-up line");
        let url = line
            .trim()
            .strip_prefix("izgraph listening on ")
            .unwrap_or_else(|| panic!("unexpected start-up line {line:?}"))
            .to_owned();
        Server { child, url }
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "izgraph did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn token(dir: &std::path::Path, db: &Db, args: &[&str]) -> String {
    let (ok, out, err) = run(izgraph(dir, db).arg("token").args(args));
    assert!(ok, "token failed: {err}");
    out.trim().to_owned()
}

async fn query(url: &str, token: &str, q: &str) -> Value {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": q }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn serve_seeds_demo_data_once_and_reuses_it_after_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::new();
    let server = Server::start(dir.path(), &db, true);
    assert!(server.url.starts_with("http://127.0.0.1:") && server.url.ends_with("/graphql"));
    let admin = token(dir.path(), &db, &["--role", "registry_admin"]);
    let q = "{ persons(filter: { lastName: \"o\" }, first: 200) { edges { node { id } } } }";
    let before = query(&server.url, &admin, q).await;
    let n = before["data"]["persons"]["edges"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(n > 0, "demo data seeded: {before}");
    let created = query(
        &server.url,
        &admin,
        "mutation { createPerson(input: { firstName: \"Kept\", lastName: \"Across\", dateOfBirth: \"2001-01-01\", gender: MALE }) { id } }",
    )
    .await;
    let id = created["data"]["createPerson"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(server.stop().success(), "SIGTERM exits cleanly");

    let server = Server::start(dir.path(), &db, true);
    let after = query(&server.url, &admin, q).await;
    assert_eq!(
        after["data"]["persons"]["edges"]
            .as_array()
            .map_or(0, Vec::len),
        n,
        "no second seeding"
    );
    let kept = query(
        &server.url,
        &admin,
        &format!("{{ person(id: \"{id}\") {{ firstName }} }}"),
    )
    .await;
    assert_eq!(kept["data"]["person"]["firstName"], "Kept");
    assert!(server.stop().success());
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::new();
    let server = Server::start(dir.path(), &db, true);
    let admin = token(dir.path(), &db, &["--role", "registry_admin"]);
    // Wide reads over the demo data: slow enough to be in flight when the signal arrives.
    let q = "{ persons(filter: { lastName: \"o\" }, first: 200) { edges { node { id doses { id vaccine { cvx } } guardians { relationship } } } } }";
    let mut inflight = Vec::new();
    for _ in 0..4 {
        let (url, admin) = (server.url.clone(), admin.clone());
        inflight.push(tokio::spawn(async move { query(&url, &admin, q).await }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let status = tokio::task::spawn_blocking(move || server.stop())
        .await
        .expect("join");
    assert!(status.success(), "clean exit after draining");
    for request in inflight {
        let body = request
            .await
            .expect("an accepted request is answered in full");
        assert!(
            body["data"]["persons"]["edges"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
}

#[test]
fn migrate_is_idempotent() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::new();
    for _ in 0..2 {
        let (ok, out, err) = run(izgraph(dir.path(), &db).arg("migrate"));
        assert!(ok, "{err}");
        assert!(out.contains("0 pending"), "{out}");
    }
}

#[test]
fn seed_is_deterministic_for_a_seed() {
    let counts = |seed: &str| {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::new();
        let (ok, out, err) =
            run(izgraph(dir.path(), &db).args(["seed", "--persons", "300", "--seed", seed]));
        assert!(ok, "{err}");
        // Seeding the same seed again adds nothing.
        let (ok, again, err) =
            run(izgraph(dir.path(), &db).args(["seed", "--persons", "300", "--seed", seed]));
        assert!(ok, "{err}");
        let (ok, verify, _) = run(izgraph(dir.path(), &db).args(["audit", "verify"]));
        assert!(ok && verify.contains("intact"), "{verify}");
        (
            out.split(" in ").next().map(str::to_owned),
            again.split(" in ").next().map(str::to_owned),
        )
    };
    let (a1, a2) = counts("7");
    let (b1, _) = counts("7");
    assert_eq!(a1, b1, "the same seed makes the same data");
    assert_eq!(
        a2.as_deref(),
        Some("seeded 0 persons, 0 doses, 0 organizations"),
        "a second run adds nothing"
    );
    assert!(
        a1.as_deref()
            .is_some_and(|s| s.starts_with("seeded 300 persons")),
        "{a1:?}"
    );
}

#[test]
fn schema_prints_the_federated_sdl() {
    let (ok, out, _) = run(Command::new(BIN).arg("schema"));
    assert!(ok);
    assert!(out.contains("type Person @key(fields: \"id\")"), "{out}");
    assert!(out.contains("recordDose(input: DoseInput!): RecordDosePayload!"));
}

#[test]
fn token_refuses_bad_claims_and_external_issuers() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db {
        url: None,
        admin: None,
    };
    let (ok, _, err) = run(izgraph(dir.path(), &db).args(["token", "--role", "provider"]));
    assert!(!ok && err.contains("org"), "a provider needs an org: {err}");
    let (ok, _, err) = run(izgraph(dir.path(), &db).args(["token", "--role", "wizard"]));
    assert!(!ok && err.contains("wizard"), "{err}");
    let (ok, _, err) = run(izgraph(dir.path(), &db)
        .args(["token", "--role", "registry_admin"])
        .env("IZGRAPH_ISSUER", "https://id.example")
        .env("IZGRAPH_AUDIENCE", "izgraph")
        .env("IZGRAPH_JWKS_URL", "https://id.example/jwks"));
    assert!(!ok && err.contains("external issuer"), "{err}");
    let t = token(
        dir.path(),
        &db,
        &[
            "--role",
            "guardian",
            "--person",
            "6f1c1d2e-8b43-4e39-9f53-2a6b1d1c0f00",
            "--scope",
            "person:read",
            "--ttl",
            "60",
        ],
    );
    assert_eq!(t.split('.').count(), 3);
}

/// `client add` output: the client id and the secret, each on its own `name: value` line.
fn client_add(dir: &std::path::Path, db: &Db, args: &[&str]) -> (String, String) {
    let (ok, out, err) = run(izgraph(dir, db).args(["client", "add"]).args(args));
    assert!(ok, "client add failed: {err}");
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no `{name}` in {out:?}"))
    };
    assert!(err.contains("cannot be shown again"), "{err}");
    (field("client_id:"), field("client_secret:"))
}

#[tokio::test]
async fn client_add_registers_a_client_that_gets_tokens_from_the_token_endpoint() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::new();
    let server = Server::start(dir.path(), &db, false);
    let admin = token(dir.path(), &db, &["--role", "registry_admin"]);
    let created = query(
        &server.url,
        &admin,
        "mutation { createOrganization(input: { name: \"Lakeside Clinic\", kind: CLINIC }) { id } }",
    )
    .await;
    let org = created["data"]["createOrganization"]["id"]
        .as_str()
        .expect("org id")
        .to_owned();
    let (id, secret) = client_add(
        dir.path(),
        &db,
        &[
            "--org",
            &org,
            "--role",
            "provider",
            "--scope",
            "person:read dose:write",
            "--name",
            "Lakeside EHR",
        ],
    );
    assert!(secret.starts_with("izs_"), "{secret}");
    let token_url = server.url.replace("/graphql", "/oauth/token");
    let resp = reqwest::Client::new()
        .post(&token_url)
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "person:read dose:write");
    let access = body["access_token"].as_str().expect("token");
    let me = query(
        &server.url,
        access,
        "{ me { subject role organization { id } scopes } }",
    )
    .await;
    assert_eq!(me["data"]["me"]["subject"], id.as_str(), "{me}");
    assert_eq!(me["data"]["me"]["role"], "PROVIDER");
    assert_eq!(me["data"]["me"]["organization"]["id"], org.as_str());
    let resp = reqwest::Client::new()
        .post(&token_url)
        .basic_auth(&id, Some("izs_not-the-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 401);
    assert!(server.stop().success());
}

#[test]
fn client_add_refuses_clients_that_make_no_sense() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::new();
    let org = "6f1c1d2e-8b43-4e39-9f53-2a6b1d1c0f00";
    for (args, expected) in [
        (vec!["--role", "guardian"], "natural person"),
        (vec!["--role", "individual"], "natural person"),
        (vec!["--role", "provider"], "--org is required"),
        (vec!["--role", "provider", "--org", org], "was not found"),
        (vec!["--role", "auditor", "--org", org], "omit --org"),
        (vec!["--role", "wizard"], "wizard"),
        (
            vec!["--role", "registry_admin", "--scope", "person:read bogus"],
            "unknown scope `bogus`",
        ),
    ] {
        let (ok, out, err) = run(izgraph(dir.path(), &db).args(["client", "add"]).args(&args));
        assert!(!ok, "{args:?} was accepted: {out}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!out.contains("client_secret"), "{out}");
    }
    let (ok, _, err) = run(izgraph(dir.path(), &db)
        .args(["client", "add", "--role", "registry_admin"])
        .env("IZGRAPH_ISSUER", "https://id.example")
        .env("IZGRAPH_AUDIENCE", "izgraph")
        .env("IZGRAPH_JWKS_URL", "https://id.example/jwks"));
    assert!(!ok && err.contains("external issuer"), "{err}");
}

#[test]
fn cdsi_check_reports_failing_cases_and_a_tally() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/cdsi/cases/healthy-dev.json");
    let (ok, out, err) = run(Command::new(BIN).arg("cdsi-check").arg(&shared));
    assert!(ok, "{err}");
    let last = out.lines().last().unwrap_or_default();
    let (passed, failed) = last
        .strip_suffix(" failed")
        .and_then(|s| s.split_once(" passed, "))
        .map(|(p, f)| {
            (
                p.parse::<usize>().unwrap_or(0),
                f.parse::<usize>().unwrap_or(usize::MAX),
            )
        })
        .unwrap_or_else(|| panic!("no tally: {last}"));
    assert_eq!(passed + failed, 814);
    assert!(passed as f64 / 814.0 >= 0.995, "{last}");
    // Each failing case is one line naming its id.
    let failing_lines = out
        .lines()
        .filter(|l| l.starts_with("20") && l.contains(": "))
        .count();
    assert_eq!(failing_lines, failed);
    // A case that contradicts its expectation is reported, and the command still exits 0.
    let dir = tempfile::tempdir().expect("dir");
    let text = std::fs::read_to_string(&shared).expect("cases");
    let mut cases: Vec<Value> = serde_json::from_str(&text).expect("json");
    cases.truncate(1);
    cases[0]["expected"]["forecastNumber"] = json!("9");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_string(&cases).expect("json")).expect("write");
    let (ok, out, _) = run(Command::new(BIN).arg("cdsi-check").arg(&bad));
    assert!(ok);
    assert!(out.lines().last() == Some("0 passed, 1 failed"), "{out}");
    assert!(out.contains(cases[0]["id"].as_str().expect("id")));
}

#[test]
fn match_check_prints_a_decision_per_pair_and_a_tally() {
    let dir = tempfile::tempdir().expect("dir");
    // Latin-1 on purpose (0xE9 is é), as the test tool writes its files.
    let child = b"nameFirst=Ren\xe9e,nameLast=Dubois,birthDate=20110604,gender=F,addressStreet1=12 Main St,addressZip=48901,phone=(517)555-0142,motherMaidenName=Lind,";
    let twin = b"nameFirst=Claire,nameLast=Dubois,birthDate=20110604,gender=F,birthStatus=Y,birthType=2,birthOrder=2,addressStreet1=12 Main St,addressZip=48901,";
    let mut file = Vec::new();
    for (test, expect, b) in [
        ("S-1:SAME:IDEAL-IDEAL", "Match", &child[..]),
        ("D-1:TWIN:IDEAL-IDEAL", "Match", &twin[..]),
        ("D-2:TWIN:IDEAL-IDEAL", "Not Sure", &twin[..]),
    ] {
        file.extend_from_slice(format!("TEST: {test}\nEXPECT: {expect}\nPATIENT A: ").as_bytes());
        file.extend_from_slice(child);
        file.extend_from_slice(b"\nPATIENT B: ");
        file.extend_from_slice(b);
        file.push(b'\n');
    }
    let pairs = dir.path().join("pairs.txt");
    std::fs::write(&pairs, &file).expect("write");
    let (ok, out, err) = run(Command::new(BIN)
        .arg("match-check")
        .arg("--decisions")
        .arg(&pairs));
    assert!(ok, "{err}");
    let decisions: Vec<&str> = out.lines().filter(|l| l.contains('\t')).collect();
    assert_eq!(
        decisions,
        [
            "S-1:SAME:IDEAL-IDEAL\tMatch",
            "D-1:TWIN:IDEAL-IDEAL\tNot a Match",
            "D-2:TWIN:IDEAL-IDEAL\tNot a Match"
        ],
        "{out}"
    );
    assert!(out.contains("TWIN"), "per-scenario line: {out}");
    assert!(out.contains("agreement 50.00% (1/2)"), "{out}");
    // Not Sure is not scored; the twin pair labelled Match counts as failed.
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"), "{out}");

    // The shared files: one decision per pair, a tally over all of them.
    let shared =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/matching/MIIS-D.txt");
    let (ok, out, err) = run(Command::new(BIN)
        .arg("match-check")
        .arg("--decisions")
        .arg(&shared));
    assert!(ok, "{err}");
    // 2,841 TEST lines and one pair whose TEST line is blank.
    assert_eq!(out.lines().filter(|l| l.contains('\t')).count(), 2842);
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" failed") && last.contains(" passed, "),
        "{last}"
    );

    // A file that is not one is refused with its line.
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "TEST: x\nPATIENT B: a=b\n").expect("write");
    let (ok, _, err) = run(Command::new(BIN).arg("match-check").arg(&bad));
    assert!(!ok && err.contains("line 2"), "{err}");
}

/// `izgraph verify-card` on the conformance data of `shared/shc/`: the valid example card is
/// accepted, invalid ones are refused with their reason and exit 1; a card this registry
/// issued verifies with its own key, and not after one byte is changed.
#[test]
fn verify_card_accepts_the_valid_example_and_refuses_invalid_cards() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db {
        url: None,
        admin: None,
    };
    let shc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/shc");
    let jwks = format!(
        "https://spec.smarthealth.cards/examples/issuer={}",
        shc.join("example-issuer/jwks.json").display()
    );
    let check = |file: &str| {
        run(izgraph(dir.path(), &db)
            .args(["verify-card", "--issuer-jwks", &jwks])
            .arg(shc.join("testdata").join(file)))
    };
    let (ok, out, err) = check("test-example-00-fhirhealthcard.json");
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("valid card: issuer https://spec.smarthealth.cards/examples/issuer"),
        "{out}"
    );
    for (file, reason) in [
        (
            "test-example-00-d-jws-invalid-signature.txt",
            "signature does not verify",
        ),
        ("test-example-00-d-jws-no_deflate.txt", "zip"),
        ("test-example-00-d-jws-wrong_jws_header_kid.txt", "no key"),
        (
            "test-example-00-e-file-trailing_chars.smart-health-card",
            "characters",
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt",
            "shc:/",
        ),
        (
            "test-example-00-e-file.wrong-extension",
            ".smart-health-card",
        ),
    ] {
        let (ok, out, err) = check(file);
        assert!(!ok, "{file} accepted: {out}");
        assert!(
            err.contains("invalid card") && err.contains(reason),
            "{file}: {err}"
        );
    }

    // A card of this registry: signed with the data directory's card key.
    let issuer = gateway::keys::card_issuer(
        &dir.path().join("card-signing-key.pem"),
        "https://izgraph.localhost",
    )
    .expect("card key");
    let bundle = json!({ "resourceType": "Bundle", "type": "collection", "entry": [
        { "fullUrl": "resource:0", "resource": { "resourceType": "Patient", "name": [{ "family": "Doe", "given": ["Jo"] }], "birthDate": "2019-01-01" } }
    ] });
    let jws = issuer
        .issue(&bundle, chrono::Utc::now().timestamp())
        .expect("issue");
    let card = dir.path().join("mine.smart-health-card");
    std::fs::write(&card, record::shc::file(&jws)).expect("write");
    let (ok, out, err) = run(izgraph(dir.path(), &db).arg("verify-card").arg(&card));
    assert!(ok, "{out}{err}");
    let mut bytes = jws.into_bytes();
    let i = bytes.len() - 10;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let text = dir.path().join("changed.jws");
    std::fs::write(&text, &bytes).expect("write");
    let (ok, _, err) = run(izgraph(dir.path(), &db).arg("verify-card").arg(&text));
    assert!(!ok && err.contains("invalid card"), "{err}");
}

/// Reads one value from the test's database (PostgreSQL or the data directory's SQLite file).
fn query_strings(dir: &std::path::Path, db: &Db, sql: &str) -> Vec<String> {
    let url = db
        .url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rw", dir.join("izgraph.db").display()));
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async {
            use sea_orm::{ConnectionTrait, Statement};
            let conn = sea_orm::Database::connect(&url).await.expect("connect");
            let rows = conn
                .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .expect("query");
            let out = rows
                .iter()
                .map(|r| r.try_get_by_index::<String>(0).expect("text"))
                .collect();
            conn.close().await.ok();
            out
        })
    })
    .join()
    .expect("query thread")
}

#[test]
fn vital_records_births_create_or_match_and_deaths_mark_the_deceased() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::new();
    let births = dir.path().join("births.csv");
    std::fs::write(
        &births,
        "child_first,child_middle,child_last,birth_date,sex,multiple_birth,birth_order,mother_first,mother_last,mother_maiden,mother_birth_date,street,city,state,zip,certificate\n\
         Ella,Rose,Vang,2025-07-01,F,Y,1,Mai,Vang,Xiong,1995-02-03,5 Pine St,Saint Paul,MN,55104,B-1\n\
         Emma,Rose,Vang,2025-07-01,F,Y,2,Mai,Vang,Xiong,1995-02-03,5 Pine St,Saint Paul,MN,55104,B-2\n\
         Ella,Rose,Vang,2025-07-01,F,Y,1,Mai,Vang,Xiong,1995-02-03,5 Pine St,Saint Paul,MN,55104,B-1\n\
         Bad,,Date,2025-13-01,F,,,Mai,Vang,Xiong,1995-02-03,5 Pine St,Saint Paul,MN,55104,B-3\n\
         Old,,Mother,2025-01-01,F,,,Ann,Lee,Kim,2026-01-01,1 A St,Duluth,MN,55802,B-4\n",
    )
    .expect("write births");
    let (ok, out, err) = run(izgraph(dir.path(), &db)
        .args(["import", "births"])
        .arg(&births));
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("line 5: rejected: birth_date `2025-13-01` is not a date"),
        "{out}"
    );
    assert!(
        out.contains("line 6: rejected: mother_birth_date is not before"),
        "{out}"
    );
    assert_eq!(
        out.lines().last(),
        Some("2 created, 1 matched, 0 sent to review, 2 rejected"),
        "{out}"
    );
    // Twins are two persons, the mother one, and she is each twin's verified guardian.
    let verified = query_strings(
        dir.path(),
        &db,
        "SELECT p.first_name FROM guardian_links g JOIN persons p ON p.id = g.person_id \
         WHERE g.verified_by = 'birth-record' ORDER BY p.first_name",
    );
    assert_eq!(verified, ["Ella", "Emma"]);
    let maiden = query_strings(
        dir.path(),
        &db,
        "SELECT mother_maiden_name FROM persons WHERE first_name = 'Emma'",
    );
    assert_eq!(maiden, ["Xiong"]);

    let deaths = dir.path().join("deaths.csv");
    std::fs::write(
        &deaths,
        "first,middle,last,birth_date,sex,death_date,certificate\n\
         Emma,Rose,Vang,2025-07-01,F,2025-09-09,B-2\n\
         Nobody,,Known,2001-01-01,M,2025-09-09,\n",
    )
    .expect("write deaths");
    let (ok, out, err) = run(izgraph(dir.path(), &db)
        .args(["import", "deaths"])
        .arg(&deaths));
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("line 3: rejected: no person in the registry matches"),
        "{out}"
    );
    assert_eq!(
        out.lines().last(),
        Some("0 created, 1 matched, 0 sent to review, 1 rejected"),
        "{out}"
    );
    let statuses = query_strings(
        dir.path(),
        &db,
        "SELECT first_name || ':' || status FROM persons WHERE last_name = 'Vang' ORDER BY first_name",
    );
    assert_eq!(statuses, ["Ella:ACTIVE", "Emma:DECEASED", "Mai:ACTIVE"]);
}
