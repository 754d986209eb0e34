//! Seeding as benchmarks and first starts use it: which rows a seed writes (the PostgreSQL
//! bulk path must write exactly what SQLite's INSERTs write), and, on PostgreSQL, that the
//! indexes and foreign keys a load sets aside come back as they were: after a load, after a
//! failed load, and never touched when the tables hold data or the role does not own them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entities::model::{
    dose, enrollment, guardian_link, membership, organization, person, person_blocking_key,
};
use entities::seed::{SeedOptions, SeedSummary};
use entities::Store;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Statement};
use sha2::{Digest, Sha256};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

fn options(persons: u64, seed: u64) -> SeedOptions {
    SeedOptions {
        persons,
        seed,
        today: today(),
    }
}

/// A fresh, migrated database: PostgreSQL when `DATABASE_URL` names a server (created here,
/// dropped on drop), else SQLite in a temporary directory.
struct TestDb {
    store: Store,
    url: String,
    admin: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

fn postgres_admin() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

fn with_database(admin: &str, name: &str) -> String {
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    format!("{base}/{name}")
}

impl TestDb {
    async fn new() -> TestDb {
        match postgres_admin() {
            Some(admin) => {
                let name = format!("izgraph_seed_{}", uuid::Uuid::new_v4().simple());
                execute(&admin, &format!("CREATE DATABASE {name}")).await;
                let url = with_database(&admin, &name);
                let mut db = TestDb::open(url).await;
                db.admin = Some((admin, name));
                db
            }
            None => TestDb::sqlite().await,
        }
    }

    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}/seed.db?mode=rwc", dir.path().display());
        let mut db = TestDb::open(url).await;
        db._dir = dir;
        db
    }

    async fn open(url: String) -> TestDb {
        let store = Store::connect(&url, 4).await.expect("connect");
        store.migrate().await.expect("migrate");
        TestDb {
            store,
            url,
            admin: None,
            _dir: tempfile::tempdir().expect("dir"),
        }
    }

    fn is_postgres(&self) -> bool {
        self.admin.is_some()
    }

    fn conn(&self) -> &DatabaseConnection {
        self.store.connection()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.admin.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(execute(
                        &admin,
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ));
                }
            })
            .join();
        }
    }
}

async fn execute(url: &str, sql: &str) {
    let db = sea_orm::Database::connect(url).await.expect("connect");
    db.execute_unprepared(sql).await.expect(sql);
    db.close().await.ok();
}

/// Every seeded row, timestamps aside (they record when the load ran), hashed per table in
/// id order.
async fn content(db: &DatabaseConnection) -> BTreeMap<&'static str, (usize, String)> {
    let at = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
    fn digest<T: std::fmt::Debug>(mut rows: Vec<(uuid::Uuid, T)>) -> (usize, String) {
        rows.sort_by_key(|(id, _)| *id);
        let mut hash = Sha256::new();
        for (_, row) in &rows {
            hash.update(format!("{row:?}\n"));
        }
        (rows.len(), hex::encode(hash.finalize()))
    }
    let mut out = BTreeMap::new();
    let orgs = organization::Entity::find().all(db).await.expect("orgs");
    out.insert(
        "organizations",
        digest(
            orgs.into_iter()
                .map(|o| {
                    (
                        o.id,
                        organization::Model {
                            created_at: at,
                            ..o
                        },
                    )
                })
                .collect(),
        ),
    );
    let persons = person::Entity::find().all(db).await.expect("persons");
    out.insert(
        "persons",
        digest(
            persons
                .into_iter()
                .map(|p| {
                    (
                        p.id,
                        person::Model {
                            created_at: at,
                            updated_at: at,
                            ..p
                        },
                    )
                })
                .collect(),
        ),
    );
    let links = guardian_link::Entity::find().all(db).await.expect("links");
    out.insert(
        "guardian_links",
        digest(
            links
                .into_iter()
                .map(|l| {
                    (
                        l.id,
                        guardian_link::Model {
                            created_at: at,
                            verified_at: l.verified_at.map(|_| at),
                            ..l
                        },
                    )
                })
                .collect(),
        ),
    );
    let doses = dose::Entity::find().all(db).await.expect("doses");
    out.insert(
        "doses",
        digest(
            doses
                .into_iter()
                .map(|d| {
                    (
                        d.id,
                        dose::Model {
                            recorded_at: at,
                            ..d
                        },
                    )
                })
                .collect(),
        ),
    );
    let enrollments = enrollment::Entity::find()
        .all(db)
        .await
        .expect("enrollments");
    out.insert(
        "enrollments",
        digest(
            enrollments
                .into_iter()
                .map(|e| {
                    (
                        e.id,
                        enrollment::Model {
                            created_at: at,
                            ..e
                        },
                    )
                })
                .collect(),
        ),
    );
    let memberships = membership::Entity::find()
        .all(db)
        .await
        .expect("memberships");
    out.insert(
        "memberships",
        digest(
            memberships
                .into_iter()
                .map(|m| {
                    (
                        m.id,
                        membership::Model {
                            created_at: at,
                            ..m
                        },
                    )
                })
                .collect(),
        ),
    );
    // Seeded persons are found by candidate searches: their blocking keys are seeded too.
    let keys = person_blocking_key::Entity::find()
        .order_by_asc(person_blocking_key::Column::Key)
        .all(db)
        .await
        .expect("keys");
    out.insert(
        "person_blocking_keys",
        digest(keys.into_iter().map(|k| (k.person_id, k.key)).collect()),
    );
    out
}

/// PostgreSQL: every index and constraint of the schema, by name, with its definition (and
/// whether a constraint is validated), and separately each one's object id: a rebuilt index
/// or re-added constraint has the same definition under a new id.
async fn catalog(db: &DatabaseConnection) -> (BTreeMap<String, String>, BTreeMap<String, i64>) {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT 'index ' || indexrelid::regclass::text AS name,
                    pg_get_indexdef(indexrelid) AS def, indexrelid::bigint AS id
             FROM pg_index JOIN pg_class t ON t.oid = indrelid
             WHERE t.relnamespace = current_schema()::regnamespace
             UNION ALL
             SELECT 'constraint ' || conrelid::regclass::text || '.' || conname,
                    pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' (not validated)' END,
                    oid::bigint
             FROM pg_constraint WHERE connamespace = current_schema()::regnamespace",
        ))
        .await
        .expect("catalog");
    let (mut defs, mut ids) = (BTreeMap::new(), BTreeMap::new());
    for row in rows {
        let name: String = row.try_get("", "name").expect("name");
        defs.insert(name.clone(), row.try_get("", "def").expect("def"));
        ids.insert(name, row.try_get("", "id").expect("id"));
    }
    (defs, ids)
}

/// `url` with `user` in place of its user (and no password: the test server trusts loopback).
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("row");
    row.try_get("", "n").expect("n")
}

#[tokio::test]
async fn one_seed_writes_the_same_rows_on_every_backend_and_a_second_run_adds_nothing() {
    // Two batches of families (2,500 and 1) on the database under test, and the same seed
    // through SQLite's INSERTs as the reference.
    let db = TestDb::new().await;
    let reference = TestDb::sqlite().await;
    let loaded = db
        .store
        .seed(options(5_002, 11), |_| {})
        .await
        .expect("seed");
    let expected = reference
        .store
        .seed(options(5_002, 11), |_| {})
        .await
        .expect("reference seed");
    assert_eq!(loaded, expected, "the same rows added");
    assert_eq!(loaded.persons, 5_002);
    assert_eq!(loaded.organizations, 13);
    assert!(loaded.doses > 20_000, "{loaded:?}");
    let written = content(db.conn()).await;
    assert_eq!(written, content(reference.conn()).await, "the same rows");
    assert_eq!(written["doses"].0 as u64, loaded.doses);

    let again = db
        .store
        .seed(options(5_002, 11), |_| {})
        .await
        .expect("again");
    assert_eq!(again, SeedSummary::default(), "a second run adds nothing");
    assert_eq!(content(db.conn()).await, written, "and changes nothing");

    let other = TestDb::sqlite().await;
    other
        .store
        .seed(options(5_002, 12), |_| {})
        .await
        .expect("seed 12");
    let other = content(other.conn()).await;
    for table in ["persons", "doses", "guardian_links"] {
        assert_ne!(other[table], written[table], "another seed, other {table}");
    }
}

#[tokio::test]
async fn progress_counts_up_to_every_person() {
    let db = TestDb::new().await;
    let seen = std::sync::Mutex::new(Vec::new());
    db.store
        .seed(options(600, 4), |n| seen.lock().expect("lock").push(n))
        .await
        .expect("seed");
    let seen = seen.into_inner().expect("lock");
    assert_eq!(seen.last(), Some(&600), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
}

#[tokio::test]
async fn a_load_into_empty_tables_rebuilds_every_index_and_constraint_as_it_was() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("PostgreSQL only: the bulk load path; set DATABASE_URL");
        return;
    }
    let (defs, ids) = catalog(db.conn()).await;
    db.store
        .seed(options(1_000, 5), |_| {})
        .await
        .expect("seed");
    let (after, after_ids) = catalog(db.conn()).await;
    assert_eq!(after, defs, "the same indexes and validated constraints");
    for name in [
        "index ix_doses_person_date",
        "constraint doses.fk_doses_person",
    ] {
        assert_ne!(
            after_ids[name], ids[name],
            "{name} was set aside and rebuilt"
        );
    }
    assert_eq!(
        after_ids["index persons_pkey"], ids["index persons_pkey"],
        "other tables' foreign keys depend on persons_pkey: it stays"
    );
    // The rebuilt foreign keys hold: a dose of an unknown person is refused.
    let orphan = db
        .conn()
        .execute_unprepared(
            "INSERT INTO doses (id, person_id, cvx, date_given, recorded_by, recorded_at)
             VALUES (gen_random_uuid(), gen_random_uuid(), '08', '2026-01-01', 't', now())",
        )
        .await;
    assert!(orphan.is_err(), "orphan dose accepted");
}

#[tokio::test]
async fn a_load_into_tables_that_hold_data_keeps_indexes_and_checks_in_place() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("PostgreSQL only: the bulk load path; set DATABASE_URL");
        return;
    }
    let first = db
        .store
        .seed(options(400, 5), |_| {})
        .await
        .expect("seed 5");
    let (defs, ids) = catalog(db.conn()).await;
    let second = db
        .store
        .seed(options(400, 6), |_| {})
        .await
        .expect("seed 6");
    assert_eq!(second.persons, 400);
    assert_eq!(
        count(db.conn(), "doses").await as u64,
        first.doses + second.doses
    );
    assert_eq!(
        catalog(db.conn()).await,
        (defs, ids),
        "nothing set aside while the tables hold data"
    );
}

#[tokio::test]
async fn a_load_that_fails_half_way_leaves_no_rows_and_every_index_and_constraint() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("PostgreSQL only: the bulk load path; set DATABASE_URL");
        return;
    }
    // Memberships are copied after persons and doses, so the load fails past the point where
    // indexes and foreign keys were set aside and rows were written.
    db.conn()
        .execute_unprepared(
            "CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
             CREATE TRIGGER refuse_memberships BEFORE INSERT ON memberships
                 FOR EACH ROW EXECUTE FUNCTION refuse_row();",
        )
        .await
        .expect("trigger");
    let before = catalog(db.conn()).await;
    let failed = db.store.seed(options(1_000, 5), |_| {}).await;
    let error = format!("{:?}", failed.expect_err("the trigger refuses the load"));
    assert!(error.contains("refused by the test"), "{error}");
    assert_eq!(catalog(db.conn()).await, before, "everything as it was");
    for table in ["persons", "doses", "guardian_links", "enrollments"] {
        assert_eq!(count(db.conn(), table).await, 0, "{table} rolled back");
    }

    db.conn()
        .execute_unprepared("DROP TRIGGER refuse_memberships ON memberships")
        .await
        .expect("drop trigger");
    let loaded = db
        .store
        .seed(options(1_000, 5), |_| {})
        .await
        .expect("seed");
    assert_eq!(
        loaded.persons, 1_000,
        "the failed run did not count as loaded"
    );
}

#[tokio::test]
async fn a_role_that_does_not_own_the_tables_seeds_with_everything_in_place() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("PostgreSQL only: the bulk load path; set DATABASE_URL");
        return;
    }
    let role = format!("izgraph_seeder_{}", uuid::Uuid::new_v4().simple());
    db.conn()
        .execute_unprepared(&format!(
            "CREATE ROLE {role} LOGIN;
             GRANT USAGE ON SCHEMA public TO {role};
             GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {role};"
        ))
        .await
        .expect("role");
    let before = catalog(db.conn()).await;
    let result = async {
        let seeder = Store::connect(&as_user(&db.url, &role), 2).await?;
        let loaded = seeder.seed(options(600, 8), |_| {}).await;
        seeder.connection().clone().close().await?;
        loaded
    }
    .await;
    let after = catalog(db.conn()).await;
    db.conn()
        .execute_unprepared(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await
        .expect("drop role");
    let loaded = result.expect("a role that may only insert still seeds");
    assert_eq!(loaded.persons, 600);
    assert_eq!(after, before, "nothing set aside without ownership");
}
