//! The record cache over `rediss://` (TLS) with an ACL user and password (issue 23: "`rediss://`
//! and authenticated Redis are supported"). A private `redis-server` listens on TLS only, with a
//! certificate from a CA generated here (rcgen) and the default user switched off; the gateway
//! trusts that CA through `IZGRAPH_REDIS_CA_FILE`. A wrong password, or a certificate the
//! gateway does not trust, stops start-up with an error that says so; a password changed on
//! Redis while the gateway runs shows in `/readyz` (the database keeps answering).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gateway::config::{CacheMode, Secret};
use gateway::{Application, Settings};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::{json, Value};

use crate::support::TestApp;

const USER: &str = "izgraph";
const PASSWORD: &str = "cache-pass-7f3a9c";
const ADMIN_PASSWORD: &str = "admin-pass-41be2d";

/// A CA, and a certificate for 127.0.0.1 it signed, written as PEM files into `dir`.
fn certificates(dir: &Path) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "izgraph test Redis CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::from_params(&ca, &ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server params");
    server
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write");
    std::fs::write(dir.join("redis.pem"), server_cert.pem()).expect("write");
    std::fs::write(dir.join("redis.key"), server_key.serialize_pem()).expect("write");
}

/// A private `redis-server` on TLS only, with an ACL user for the gateway and one for the test.
struct TlsRedis {
    port: u16,
    child: Child,
}

impl TlsRedis {
    fn start(dir: &Path) -> Option<TlsRedis> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            return None;
        }
        for _ in 0..10 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let file = |name: &str| dir.join(name).display().to_string();
            let mut child = Command::new("redis-server")
                .args(["--port", "0", "--tls-port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--tls-cert-file", &file("redis.pem")])
                .args(["--tls-key-file", &file("redis.key")])
                .args(["--tls-ca-cert-file", &file("ca.pem")])
                .args(["--tls-auth-clients", "no"])
                .args(["--user", "default", "off"])
                .args(["--user", USER, "on", &format!(">{PASSWORD}"), "~*", "+@all"])
                .args([
                    "--user",
                    "admin",
                    "on",
                    &format!(">{ADMIN_PASSWORD}"),
                    "~*",
                    "+@all",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(TlsRedis { port, child });
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server with TLS did not start on any of 10 free ports");
    }

    fn url(&self, user: &str, password: &str) -> String {
        format!("rediss://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// Runs a command as the test's admin user (over TLS, trusting the test CA).
    fn admin(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["--tls", "--cacert"])
            .arg(dir.join("ca.pem"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "--user",
                "admin",
                "--pass",
                ADMIN_PASSWORD,
                "--no-auth-warning",
            ])
            .args(args)
            .output()
            .expect("redis-cli");
        assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn through(redis_url: String, ca: Option<&Path>) -> impl FnOnce(&mut Settings) {
    let ca = ca.map(Path::to_owned);
    move |s: &mut Settings| {
        s.redis_url = Some(Secret::new(redis_url));
        s.cache.mode = Some(CacheMode::Redis);
        // Every read goes to Redis: what is served came through it.
        s.cache.near_cache = false;
        s.cache.redis_ca_file = ca;
    }
}

/// Start-up with these settings (SQLite in a fresh directory): the error's text, if any.
async fn start_error(configure: impl FnOnce(&mut Settings)) -> Option<String> {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_owned(),
        seed_demo: false,
        ..Settings::default()
    };
    configure(&mut settings);
    Application::build(settings)
        .await
        .err()
        .map(|e| e.to_string())
}

async fn readyz(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_runs_over_tls_with_an_acl_user_and_refuses_wrong_credentials() {
    let dir = tempfile::tempdir().expect("dir");
    certificates(dir.path());
    let Some(redis) = TlsRedis::start(dir.path()) else {
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    let ca = dir.path().join("ca.pem");

    let app = TestApp::spawn_with(through(redis.url(USER, PASSWORD), Some(&ca))).await;
    let ready = readyz(&app).await;
    assert_eq!(ready["cache"]["backend"], "redis", "{ready}");
    assert_eq!(ready["cache"]["status"], "ok", "{ready}");
    let admin = app.admin();
    let person = app
        .create_person(&admin, "Tess", "Layer", "2019-04-02")
        .await;
    let query = "query($id: ID!) { person(id: $id) { id lastName } }";
    for _ in 0..3 {
        let body = app.ok(&admin, query, json!({ "id": person })).await;
        assert_eq!(body["person"]["lastName"], "Layer", "{body}");
    }
    let status = app.store.cache_status();
    assert!(
        status.healthy && status.redis_hits >= 2,
        "reads were served through Redis: {status:?}"
    );
    let keys: u64 = redis.admin(dir.path(), &["DBSIZE"]).parse().expect("count");
    assert!(keys > 0, "the cache's values are in this Redis");

    // A wrong password, an unknown user, no credentials, or a CA that did not sign the
    // server's certificate: start-up fails and says why.
    for (url, ca, says) in [
        (redis.url(USER, "wrong-password"), Some(&ca), "auth"),
        (redis.url("nobody", PASSWORD), Some(&ca), "auth"),
        (
            format!("rediss://127.0.0.1:{}", redis.port),
            Some(&ca),
            "auth",
        ),
        (redis.url(USER, PASSWORD), None, "certificate"),
    ] {
        let error = start_error(through(url.clone(), ca.map(|p| p.as_path())))
            .await
            .unwrap_or_else(|| panic!("{url} (CA {ca:?}) started"));
        eprintln!("{url}: {error}");
        assert!(error.starts_with("Redis refused"), "{url}: {error}");
        assert!(error.to_lowercase().contains(says), "{url}: {error}");
        assert!(
            !error.contains(PASSWORD),
            "the error shows no password: {error}"
        );
    }
    // A CA file that holds no certificate is refused as configuration.
    std::fs::write(dir.path().join("empty.pem"), "not a certificate").expect("write");
    let error = start_error(through(
        redis.url(USER, PASSWORD),
        Some(&dir.path().join("empty.pem")),
    ))
    .await
    .expect("refused");
    assert!(error.contains("IZGRAPH_REDIS_CA_FILE"), "{error}");

    // The password changes on Redis while the gateway runs: reads go on from the database, and
    // `/readyz` says the cache is refused, not merely unreachable.
    redis.admin(
        dir.path(),
        &["ACL", "SETUSER", USER, "resetpass", ">a-new-password"],
    );
    redis.admin(dir.path(), &["CLIENT", "KILL", "USER", USER]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let ready = loop {
        let body = app.ok(&admin, query, json!({ "id": person })).await;
        assert_eq!(body["person"]["lastName"], "Layer", "{body}");
        let ready = readyz(&app).await;
        if ready["cache"]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("refused"))
        {
            break ready;
        }
        assert!(Instant::now() < deadline, "never reported: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready["status"], "ok", "the database still answers: {ready}");
    assert_ne!(ready["cache"]["status"], "ok", "{ready}");
    assert!(!ready.to_string().contains(PASSWORD), "{ready}");
}
