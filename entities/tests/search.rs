//! Name search through the name index, on PostgreSQL (whatever the database's collation: the
//! test server's is `C.UTF-8`, under which a prefix `LIKE` could not use a b-tree) and on
//! SQLite; accent-free keys, and the migration that re-keys rows written before them.
#![allow(
    clippy::disallowed_methods,
    reason = "tests build principals and accesses without a token"
)]

#[allow(
    dead_code,
    reason = "the Redis helpers of the support module are not used here"
)]
mod support;

use chrono::{NaiveDate, Utc};
use entities::codes::Gender;
use entities::migration::Migrator;
use entities::repo::persons::{NewPerson, PersonSearch};
use entities::seed::SeedOptions;
use entities::{Access, CacheConfig, Store};
use policies::{Principal, Role};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use support::store::{database, instance};
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

fn access(role: Role, org: Option<Uuid>) -> Access {
    let p = Principal::from_claims("search-test", role, org, None, None, None).expect("claims");
    Access::new(p, today(), "t".into())
}

fn by_last(name: &str) -> PersonSearch {
    PersonSearch {
        last_name: Some(name.into()),
        ..PersonSearch::default()
    }
}

async fn first_clinic(store: &Store) -> Uuid {
    let db = store.connection();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM organizations WHERE kind = 'CLINIC' ORDER BY id LIMIT 1",
        ))
        .await
        .expect("clinic")
        .expect("a seeded clinic");
    row.try_get_by_index(0).expect("id")
}

/// A last-name search (as a registry administrator and as a provider, whose row scope adds
/// its own conditions) is a range of `ix_persons_name`, not a walk of it from its start.
#[tokio::test]
async fn a_last_name_search_is_a_range_of_the_name_index() {
    let db = database().await;
    let store = instance(&db, CacheConfig::disabled()).await;
    store
        .seed(
            SeedOptions {
                persons: 3000,
                seed: 11,
                today: today(),
            },
            |_| {},
        )
        .await
        .expect("seed");
    let conn = store.connection();
    conn.execute_unprepared("ANALYZE").await.expect("analyze");
    if conn.get_database_backend() == DbBackend::Postgres {
        // A range is the prefix match only where keys compare byte-wise.
        let rows = conn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT collation_name FROM information_schema.columns \
                 WHERE table_name = 'persons' AND column_name LIKE '%name_key' \
                 ORDER BY column_name",
            ))
            .await
            .expect("columns");
        let collations: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.try_get_by_index(0).expect("collation"))
            .collect();
        assert_eq!(collations, [Some("C".to_owned()), Some("C".to_owned())]);
    }
    let clinic = first_clinic(&store).await;
    for who in [
        access(Role::RegistryAdmin, None),
        access(Role::Provider, Some(clinic)),
    ] {
        let plan = store
            .search_plan(&who, &by_last("Ols"), 20)
            .await
            .expect("plan");
        println!("{plan}");
        match conn.get_database_backend() {
            DbBackend::Postgres => {
                assert!(plan.contains("ix_persons_name"), "{plan}");
                assert!(
                    plan.contains("Index Cond: (((last_name_key)::text >= 'OLS'::text)")
                        || plan.contains("Index Cond: ((last_name_key)::text >= 'OLS'::text)")
                        || plan.contains("Index Cond: (((last_name_key)::text >= 'OLS'"),
                    "the prefix is not an index condition:\n{plan}"
                );
                assert!(!plan.contains("Seq Scan"), "{plan}");
            }
            _ => assert!(
                plan.contains("USING INDEX ix_persons_name (last_name_key>? AND last_name_key<?)"),
                "{plan}"
            ),
        }
    }
}

/// Keys are accent-free and literal: `muller` and `MÜL` find Müller, `%` matches nothing, and
/// the page is in key order.
#[tokio::test]
async fn searches_ignore_accents_and_take_wildcards_literally() {
    let db = database().await;
    let store = instance(&db, CacheConfig::disabled()).await;
    store
        .seed(
            SeedOptions {
                persons: 10,
                seed: 2,
                today: today(),
            },
            |_| {},
        )
        .await
        .expect("seed");
    let admin = access(Role::RegistryAdmin, None);
    for (first, last) in [("Zoë", "Müller"), ("Ann", "Muller"), ("Bo", "Mullerova")] {
        store
            .create_person(
                &admin,
                NewPerson {
                    first_name: first.into(),
                    middle_name: None,
                    last_name: last.into(),
                    date_of_birth: NaiveDate::from_ymd_opt(2015, 3, 1).expect("date"),
                    gender: Gender::Female,
                    contact: None,
                },
            )
            .await
            .expect("create");
    }
    let names = |page: entities::repo::Page<entities::model::person::Model>| -> Vec<String> {
        page.items
            .into_iter()
            .map(|(_, p)| format!("{} {}", p.first_name, p.last_name))
            .collect()
    };
    let found = store
        .search_persons(&admin, &by_last("muller"), 10, None)
        .await
        .expect("search");
    assert_eq!(
        names(found),
        ["Ann Muller", "Zoë Müller", "Bo Mullerova"],
        "accent-free keys, ordered by last name key, first name key"
    );
    let found = store
        .search_persons(&admin, &by_last("MÜL"), 10, None)
        .await
        .expect("search");
    assert_eq!(found.items.len(), 3);
    let found = store
        .search_persons(&admin, &by_last("M%"), 10, None)
        .await
        .expect("search");
    assert!(
        found.items.is_empty(),
        "a % in a search is a plain character"
    );
}

/// Rows written before the accent-free keys get them from the migration, with a new record
/// version (so no cached copy keeps the old key).
#[tokio::test]
async fn the_migration_rekeys_existing_rows() {
    let db = database().await;
    let store = Store::connect(&db.url, 2).await.expect("connect");
    let conn = store.connection();
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name().contains("s20_search_keys"))
        .expect("the search-key migration is listed");
    Migrator::up(conn, Some(u32::try_from(position).expect("count")))
        .await
        .expect("migrations before it");
    let id = Uuid::now_v7();
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO persons (id, first_name, last_name, first_name_key, last_name_key, \
             date_of_birth, gender, participation, reminders, created_at, updated_at) \
             VALUES ($1, 'Zoë', 'Müller', 'ZOË', 'MÜLLER', $2, 'FEMALE', 'PARTICIPATING', true, $3, $3)"
        }
        _ => {
            "INSERT INTO persons (id, first_name, last_name, first_name_key, last_name_key, \
             date_of_birth, gender, participation, reminders, created_at, updated_at) \
             VALUES (?, 'Zoë', 'Müller', 'ZOË', 'MÜLLER', ?, 'FEMALE', 'PARTICIPATING', true, ?, ?)"
        }
    };
    let now = Utc::now();
    let dob = NaiveDate::from_ymd_opt(2015, 3, 1).expect("date");
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![id.into(), dob.into(), now.into()],
        _ => vec![id.into(), dob.into(), now.into(), now.into()],
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("a person keyed the old way");
    Migrator::up(conn, None).await.expect("the rest");
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT p.first_name_key, p.last_name_key, v.version FROM persons p \
             LEFT JOIN person_versions v ON v.person_id = p.id",
        ))
        .await
        .expect("query")
        .expect("the person");
    let first: String = row.try_get_by_index(0).expect("first");
    let last: String = row.try_get_by_index(1).expect("last");
    let version: Option<i64> = row.try_get_by_index(2).expect("version");
    assert_eq!((first.as_str(), last.as_str()), ("ZOE", "MULLER"));
    assert!(version.is_some_and(|v| v != 0), "a new record version");
}
