//! `izgraph audit verify` against a database whose access log was edited behind its back, on
//! whichever backend `DATABASE_URL` names (PostgreSQL) or SQLite without it.
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use entities::codes::AccessAction;
use entities::model::{access_log, access_log_head, access_log_person};
use entities::repo::access_log::{entry_hash, ChainReport, NewEntry};
use entities::{Access, Store};
use gateway::checkpoints::Publisher;
use gateway::config::Secret;
use gateway::Settings;
use policies::{Principal, Role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

const BIN: &str = env!("CARGO_BIN_EXE_izgraph");

/// A log of five entries, each naming two persons, and a signed checkpoint of its head.
struct Fixture {
    dir: tempfile::TempDir,
    settings: Settings,
    store: Store,
    pg: Option<(DatabaseConnection, String)>,
}

impl Fixture {
    async fn new() -> Fixture {
        let fixture = Fixture::empty().await;
        fixture.append(5).await;
        let published = fixture.publisher().publish().await.expect("publish");
        assert_eq!(published.map(|c| c.seq), Some(5));
        fixture
    }

    async fn empty() -> Fixture {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = Settings {
            data_dir: dir.path().to_owned(),
            ..Settings::default()
        };
        let mut pg = None;
        if let Some(admin) = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            let name = format!("izgraph_audit_{}", uuid::Uuid::new_v4().simple());
            let db = sea_orm::Database::connect(&admin).await.expect("connect");
            db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create");
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(b, _)| b)
                .to_owned();
            settings.database_url = Some(Secret::new(format!("{base}/{name}")));
            pg = Some((db, name));
        }
        let store = gateway::app::open_store(&settings).await.expect("store");
        Fixture {
            dir,
            settings,
            store,
            pg,
        }
    }

    fn publisher(&self) -> Publisher {
        Publisher::new(
            self.store.clone(),
            &self.settings.checkpoint_key(),
            self.settings.checkpoint_file(),
        )
        .expect("publisher")
    }

    async fn append(&self, n: usize) {
        let principal =
            Principal::from_claims("auditee", Role::RegistryAdmin, None, None, None, None)
                .expect("claims");
        let access = Access::new(principal, chrono::Utc::now().date_naive(), "r1".into());
        for _ in 0..n {
            self.store
                .log_access(
                    &access,
                    NewEntry::allowed(
                        AccessAction::Read,
                        vec![uuid::Uuid::now_v7(), uuid::Uuid::now_v7()],
                        vec!["identity".into()],
                    ),
                )
                .await
                .expect("append");
        }
    }

    fn db(&self) -> &DatabaseConnection {
        self.store.connection()
    }

    async fn sql(&self, sql: &str) {
        self.db().execute_unprepared(sql).await.expect(sql);
    }

    /// `izgraph audit verify` with `args`: exit code and standard output.
    fn verify(&self, args: &[&str]) -> (Option<i32>, String) {
        let mut cmd = Command::new(BIN);
        cmd.args(["audit", "verify"])
            .args(args)
            .env("IZGRAPH_DATA_DIR", self.dir.path())
            .env("IZGRAPH_LOG", "warn")
            .env_remove("DATABASE_URL");
        if let Some(url) = &self.settings.database_url {
            cmd.env("DATABASE_URL", url.expose());
        }
        let out = cmd.output().expect("run");
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    async fn close(self) {
        self.store.connection().clone().close().await.ok();
        if let Some((admin, name)) = self.pg {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
        }
    }
}

#[tokio::test]
async fn audit_verify_passes_an_intact_log_and_names_the_tampered_row() {
    let f = Fixture::new().await;
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("intact: 5 entries"), "{out}");
    assert!(out.contains("1 signed checkpoints read"), "{out}");

    f.sql("UPDATE access_log SET fields = '[\"contact\"]' WHERE seq = 3")
        .await;
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BROKEN at entry 3"), "{out}");
    f.close().await;
}

/// Hole 2 of issue 14: deleting the newest entry and moving the head back verified intact.
#[tokio::test]
async fn audit_verify_finds_the_newest_entry_deleted_and_the_head_moved_back() {
    let f = Fixture::new().await;
    f.sql("DELETE FROM access_log_persons WHERE seq = 5").await;
    f.sql("DELETE FROM access_log WHERE seq = 5").await;
    f.sql("UPDATE access_log_head SET seq = 4, hash = (SELECT hash FROM access_log WHERE seq = 4) WHERE id = 1")
        .await;
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BROKEN at entry 5"), "{out}");
    assert!(out.contains("truncated"), "{out}");
    // The same with the file named explicitly (kept elsewhere, say).
    let copy = f.dir.path().join("elsewhere.jsonl");
    std::fs::copy(f.settings.checkpoint_file(), &copy).expect("copy");
    let (code, out) = f.verify(&["--checkpoints", copy.to_str().expect("path")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("truncated"), "{out}");
    f.close().await;
}

/// Hole 2 of issue 14: a deleted `access_log_persons` row (so "who read this record" misses
/// an entry) verified intact.
#[tokio::test]
async fn audit_verify_finds_a_deleted_person_index_row() {
    let f = Fixture::new().await;
    let row = access_log_person::Entity::find()
        .order_by_asc(access_log_person::Column::Seq)
        .all(f.db())
        .await
        .expect("index")
        .into_iter()
        .find(|r| r.seq == 2)
        .expect("entry 2 is indexed");
    let deleted = access_log_person::Entity::delete_many()
        .filter(access_log_person::Column::Seq.eq(2))
        .filter(access_log_person::Column::PersonId.eq(row.person_id))
        .exec(f.db())
        .await
        .expect("delete");
    assert_eq!(deleted.rows_affected, 1);
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BROKEN at entry 2"), "{out}");
    assert!(out.contains("person index"), "{out}");
    f.close().await;
}

/// Hole 2 of issue 14: the whole chain rebuilt without one entry is consistent in itself;
/// only the signed checkpoint shows it.
#[tokio::test]
async fn audit_verify_finds_the_chain_rewritten_without_one_entry() {
    let f = Fixture::new().await;
    let rows = access_log::Entity::find()
        .order_by_asc(access_log::Column::Seq)
        .all(f.db())
        .await
        .expect("rows");
    let index = access_log_person::Entity::find()
        .all(f.db())
        .await
        .expect("index");
    f.sql("DELETE FROM access_log_persons").await;
    f.sql("DELETE FROM access_log").await;
    let mut previous = entities::GENESIS_HASH.to_owned();
    let mut seq = 0;
    for row in rows.into_iter().filter(|r| r.seq != 3) {
        seq += 1;
        let mut m = access_log::Model {
            seq,
            previous_hash: previous.clone(),
            ..row.clone()
        };
        m.hash = entry_hash(&m);
        previous = m.hash.clone();
        access_log::ActiveModel::from(m)
            .insert(f.db())
            .await
            .expect("insert");
        for i in index.iter().filter(|i| i.seq == row.seq) {
            access_log_person::ActiveModel {
                person_id: Set(i.person_id),
                seq: Set(seq),
                co_subject: Set(i.co_subject),
            }
            .insert(f.db())
            .await
            .expect("index");
        }
    }
    access_log_head::ActiveModel {
        id: Set(1),
        seq: Set(seq),
        hash: Set(previous),
    }
    .update(f.db())
    .await
    .expect("head");
    // Consistent in itself: without the checkpoint nothing is wrong.
    assert_eq!(
        f.store
            .verify_access_log()
            .await
            .expect("verify without checkpoints"),
        ChainReport::Intact { entries: 4 }
    );
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BROKEN"), "{out}");
    assert!(
        out.contains("truncated") || out.contains("rewritten"),
        "{out}"
    );
    f.close().await;
}

#[tokio::test]
async fn a_checkpoint_not_signed_by_the_registry_key_is_refused() {
    let f = Fixture::new().await;
    let file = f.settings.checkpoint_file();
    let text = std::fs::read_to_string(&file).expect("file");
    // A checkpoint that claims another hash with the signature of the real one.
    let forged = text.replacen("\"hash\":\"", "\"hash\":\"00", 1);
    std::fs::write(&file, forged).expect("write");
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("differ from what is signed"), "{out}");
    // Signed by another key.
    std::fs::write(&file, text).expect("restore");
    std::fs::remove_file(f.settings.checkpoint_key()).expect("remove key");
    gateway::keys::DevKeys::load_or_create_file(&f.settings.checkpoint_key()).expect("new key");
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("signature does not verify"), "{out}");
    // An explicit file that is not there is an error, not a pass.
    let (code, out) = f.verify(&["--checkpoints", "/nonexistent/checkpoints.jsonl"]);
    assert_ne!(code, Some(0), "{out}");
    f.close().await;
}

/// Issue 23, hole 5: verify read the entries and the head outside one snapshot, so appends
/// made while it ran were reported as a broken chain.
#[tokio::test]
async fn audit_verify_never_reports_a_healthy_log_broken_while_writers_append() {
    let f = Fixture::empty().await;
    f.append(200).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let store = f.store.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let principal =
                    Principal::from_claims("w", Role::RegistryAdmin, None, None, None, None)
                        .expect("claims");
                let access = Access::new(principal, chrono::Utc::now().date_naive(), "w".into());
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    store
                        .log_access(
                            &access,
                            NewEntry::allowed(
                                AccessAction::Read,
                                vec![uuid::Uuid::now_v7()],
                                vec!["identity".into()],
                            ),
                        )
                        .await
                        .expect("append");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut last = 0;
    for run in 0..20 {
        match f.store.verify_access_log().await.expect("verify") {
            ChainReport::Intact { entries } => {
                assert!(entries >= last, "run {run}: {entries} < {last}");
                last = entries;
            }
            broken => panic!("run {run}: a healthy log reported {broken:?}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut appended = 0;
    for w in writers {
        appended += w.await.expect("writer");
    }
    assert!(appended > 0, "the writers appended while verify ran");
    assert!(matches!(
        f.store.verify_access_log().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
    f.close().await;
}

/// The running gateway publishes checkpoints at its interval and once more on shutdown, to
/// the file and as a JSON log line; `audit verify` then checks the chain against them.
#[tokio::test]
async fn serve_publishes_signed_checkpoints_at_an_interval_and_on_shutdown() {
    let f = Fixture::empty().await;
    let log = f.dir.path().join("stderr.log");
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .env("IZGRAPH_DATA_DIR", f.dir.path())
        .env("IZGRAPH_LISTEN", "127.0.0.1:0")
        .env("IZGRAPH_SEED_DEMO", "false")
        .env("IZGRAPH_LOG", "info")
        .env("IZGRAPH_CHECKPOINT_INTERVAL_SECONDS", "1")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).expect("log")));
    if let Some(url) = &f.settings.database_url {
        cmd.env("DATABASE_URL", url.expose());
    }
    let mut child = cmd.spawn().expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("start-up line");
    assert!(line.contains("listening"), "{line}");
    // Entries written while it runs: the interval covers them within a couple of seconds.
    f.append(3).await;
    let file = f.settings.checkpoint_file();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains("\"seq\":3")) {
        assert!(Instant::now() < deadline, "no checkpoint of entry 3");
        std::thread::sleep(Duration::from_millis(100));
    }
    f.append(2).await;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = child.wait().expect("exit");
    assert!(status.success());
    let text = std::fs::read_to_string(&file).expect("checkpoints");
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).expect("json");
    assert_eq!(last["seq"], 5, "the shutdown checkpoint covers every entry");
    let logged = std::fs::read_to_string(&log).expect("log");
    let checkpoint_line = logged
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l.to_string().contains("access log checkpoint"))
        .unwrap_or_else(|| panic!("no checkpoint in the log stream: {logged}"));
    assert!(
        checkpoint_line.to_string().contains("checkpoint_jws"),
        "{checkpoint_line}"
    );
    let (code, out) = f.verify(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("intact: 5 entries"), "{out}");
    f.close().await;
}
