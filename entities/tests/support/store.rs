//! Stores for the cache tests: a database of their own and instances sharing it, as a
//! registry's gateways share one database and one Redis.

use entities::cache::{CacheKey, CacheKeys};
use entities::{CacheConfig, RecordCache, Store};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// A database of its own: a fresh PostgreSQL database when `DATABASE_URL` names one, a SQLite
/// file otherwise.
pub struct Db {
    pub url: String,
    _dir: tempfile::TempDir,
}

pub async fn database() -> Db {
    let dir = tempfile::tempdir().expect("dir");
    let url = match std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    {
        Some(admin) => {
            let name = format!("izgraph_cache_{}", Uuid::new_v4().simple());
            let db = sea_orm::Database::connect(&admin).await.expect("connect");
            db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            db.close().await.ok();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            format!("{base}/{name}")
        }
        None => format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
    };
    Db { url, _dir: dir }
}

/// One instance on `db`: its own pool and record cache.
pub async fn instance(db: &Db, cache: CacheConfig) -> Store {
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.with_cache(RecordCache::new(cache).await.expect("cache"))
}

/// The cache key every instance of this test binary shares, as a registry's instances do.
pub fn keys() -> CacheKeys {
    static KEYS: std::sync::LazyLock<CacheKeys> =
        std::sync::LazyLock::new(|| CacheKeys::new(CacheKey::generate()));
    KEYS.clone()
}
