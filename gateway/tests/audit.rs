//! `izgraph audit verify` against a database whose access log was edited behind its back.
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

use std::process::Command;

use entities::codes::AccessAction;
use entities::repo::access_log::NewEntry;
use entities::Access;
use gateway::config::Secret;
use gateway::Settings;
use policies::{Principal, Role};
use sea_orm::ConnectionTrait;

const BIN: &str = env!("CARGO_BIN_EXE_izgraph");

#[tokio::test]
async fn audit_verify_passes_an_intact_log_and_names_the_tampered_row() {
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
    let principal = Principal::from_claims("auditee", Role::RegistryAdmin, None, None, None, None)
        .expect("claims");
    let access = Access::new(principal, chrono::Utc::now().date_naive(), "r1".into());
    for _ in 0..5 {
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
    }
    let verify = || {
        let mut cmd = Command::new(BIN);
        cmd.args(["audit", "verify"])
            .env("IZGRAPH_DATA_DIR", dir.path())
            .env("IZGRAPH_LOG", "warn")
            .env_remove("DATABASE_URL");
        if let Some(url) = &settings.database_url {
            cmd.env("DATABASE_URL", url.expose());
        }
        let out = cmd.output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = verify();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("intact: 5 entries"), "{out}");

    store
        .connection()
        .execute_unprepared("UPDATE access_log SET fields = '[\"contact\"]' WHERE seq = 3")
        .await
        .expect("tamper");
    let (code, out) = verify();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BROKEN at entry 3"), "{out}");

    store.connection().clone().close().await.ok();
    if let Some((admin, name)) = pg {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
    }
}
