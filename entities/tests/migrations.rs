//! Migrations as a rollout runs them: several instances starting at once on one empty
//! PostgreSQL database (or one SQLite file) each apply the pending migrations, and every one of
//! them must start.

use entities::Store;
use sea_orm::ConnectionTrait;

const INSTANCES: usize = 6;

fn postgres_admin() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

async fn execute(url: &str, sql: &str) {
    let db = sea_orm::Database::connect(url).await.expect("connect");
    db.execute_unprepared(sql).await.expect(sql);
    db.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_apply_each_migration_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, cleanup) = match postgres_admin() {
        Some(admin) => {
            let name = format!("izgraph_mig_{}", uuid::Uuid::new_v4().simple());
            execute(&admin, &format!("CREATE DATABASE {name}")).await;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            (format!("{base}/{name}"), Some((admin.clone(), name)))
        }
        None => (
            format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display()),
            None,
        ),
    };
    // Connect first, then migrate all at once: the race is in the migrations, not the connects.
    let mut stores = Vec::new();
    for _ in 0..INSTANCES {
        stores.push(Store::connect(&url, 2).await.expect("connect"));
    }
    let runs = futures::future::join_all(stores.iter().map(Store::migrate)).await;
    let failed: Vec<String> = runs
        .iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    assert!(
        failed.is_empty(),
        "concurrent migrations failed: {failed:?}"
    );
    for store in &stores {
        assert_eq!(store.pending_migrations().await.expect("pending"), 0);
    }
    // Each migration is recorded once.
    let applied = stores[0]
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            stores[0].connection().get_database_backend(),
            "SELECT version, COUNT(*) AS n FROM seaql_migrations GROUP BY version",
        ))
        .await
        .expect("migration records");
    assert!(!applied.is_empty());
    for row in applied {
        let n: i64 = row.try_get("", "n").expect("count");
        assert_eq!(n, 1, "a migration recorded twice");
    }
    drop(stores);
    if let Some((admin, name)) = cleanup {
        execute(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await;
    }
}
