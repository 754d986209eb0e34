//! `TestApp`: one gateway and one database per test, so tests run in parallel.

use std::sync::OnceLock;

use gateway::auth::{mint, TokenRequest};
use gateway::config::Secret;
use gateway::{Application, Settings};
use policies::Role;
use serde_json::{json, Value};
use uuid::Uuid;

/// A running gateway with its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    keys: gateway::keys::DevKeys,
    pub store: entities::Store,
    _data_dir: tempfile::TempDir,
    pg_database: Option<(String, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The database this gateway uses, for a second instance beside it.
    pub database_url: String,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Which database the tests run on.
pub fn postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

fn with_database(url: &str, db: &str) -> String {
    // Replace the path segment (the database name), keeping any query string.
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    if query.is_empty() {
        format!("{prefix}/{db}")
    } else {
        format!("{prefix}/{db}?{query}")
    }
}

async fn create_pg_database(admin_url: &str) -> String {
    use sea_orm::ConnectionTrait;
    let name = format!("izgraph_t_{}", Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect to DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    name
}

fn drop_pg_database(admin_url: String, name: String) {
    // Drop runs outside any runtime: use a short-lived one on its own thread.
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            rt.block_on(async {
                use sea_orm::ConnectionTrait;
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        }
    })
    .join();
}

impl TestApp {
    /// Spawns a gateway on an empty, migrated database (no demo data).
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: data_dir.path().to_owned(),
            seed_demo: false,
            max_connections: 5,
            ..Settings::default()
        };
        // No population workers unless a test asks for them: idle workers poll for shards, and
        // their statements would count in the tests that measure a request's statements.
        settings.jobs.workers = 0;
        let mut pg_database = None;
        if let Some(admin) = postgres_url() {
            let name = create_pg_database(&admin).await;
            settings.database_url = Some(Secret::new(with_database(&admin, &name)));
            pg_database = Some((admin, name));
        }
        configure(&mut settings);
        let database_url = settings.effective_database_url().expose().to_owned();
        let app = Application::build(settings).await.expect("gateway starts");
        let addr = app.address().expect("bound");
        let keys = app.keys().clone();
        let store = app.store().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            // Never a proxy from the environment: tests talk to loopback only.
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("reqwest client"),
            keys,
            store,
            _data_dir: data_dir,
            pg_database,
            shutdown: Some(tx),
            database_url,
            server: Some(server),
        }
    }

    /// A second gateway (its own data directory, keys and workers) on `other`'s database, as
    /// another instance of the same registry. Drop it before `other`, which owns the database.
    pub async fn spawn_beside(other: &TestApp, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let url = other.database_url.clone();
        let mut app = Self::spawn_with(|s| {
            s.database_url = Some(Secret::new(url));
            configure(s);
        })
        .await;
        // spawn_with made a database of its own on PostgreSQL: unused, dropped now.
        if let Some((admin, name)) = app.pg_database.take() {
            drop_pg_database(admin, name);
        }
        app
    }

    /// Stops this instance at once, as a killed process stops: the server task and its job
    /// workers are aborted wherever they are, without draining. The database stays.
    pub fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.shutdown.take();
    }

    /// The registry's date, as the gateway computes it.
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::America::Chicago)
            .date_naive()
    }

    /// A dev token for `req`.
    pub fn token(&self, req: TokenRequest) -> String {
        mint(&self.keys, &req).expect("mint token")
    }

    pub fn admin(&self) -> String {
        self.token(TokenRequest::new(Role::RegistryAdmin))
    }

    pub fn provider(&self, org: &str) -> String {
        self.token(TokenRequest::new(Role::Provider).org(org.parse().expect("org id")))
    }

    /// POSTs a GraphQL request and returns the JSON body (whatever the status).
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json body")
    }

    /// Like [`gql`](Self::gql) but fails the test on any error, returning `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    pub async fn create_org(&self, name: &str, kind: &str) -> String {
        let data = self
            .ok(
                &self.admin(),
                "mutation($i: OrganizationInput!) { createOrganization(input: $i) { id } }",
                json!({ "i": { "name": name, "kind": kind } }),
            )
            .await;
        data["createOrganization"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    pub async fn create_person(&self, token: &str, first: &str, last: &str, dob: &str) -> String {
        let data = self
            .ok(
                token,
                "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
                json!({ "i": { "firstName": first, "lastName": last, "dateOfBirth": dob, "gender": "FEMALE" } }),
            )
            .await;
        data["createPerson"]["id"].as_str().expect("id").to_owned()
    }

    pub async fn record_dose(&self, token: &str, person: &str, cvx: &str, date: &str) -> Value {
        self.gql(
            token,
            "mutation($i: DoseInput!) { recordDose(input: $i) { stored duplicateOf dose { id vaccine { cvx } dateGiven } } }",
            json!({ "i": { "personId": person, "cvx": cvx, "dateGiven": date } }),
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((admin, name)) = self.pg_database.take() {
            drop_pg_database(admin, name);
        }
    }
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The repository root's `shared/` folder (beside the project).
pub fn shared_dir() -> std::path::PathBuf {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared")
            .canonicalize()
            .expect("shared/ beside the project")
    })
    .clone()
}
