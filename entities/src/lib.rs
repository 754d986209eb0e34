//! The registry's storage: SeaORM entities, migrations, and the repositories that are the only
//! code allowed to build queries.
//!
//! Every repository method that reads person data takes an [`Access`], whose row scope (decided
//! by `policies`) becomes part of the SQL. A caller therefore cannot fetch a record it may not
//! see, and list pagination counts only visible rows.
#![cfg_attr(
    test,
    allow(
        clippy::disallowed_methods,
        reason = "unit tests build principals and accesses without a token"
    )
)]

pub mod access;
pub mod cache;
pub mod code_set;
pub mod codes;
mod db;
mod error;
mod health;
pub mod matching;
pub mod migration;
pub mod model;
mod replica;
pub mod repo;
mod scope_sql;
pub mod seed;

pub use access::Access;
pub use cache::{CacheBackend, CacheConfig, CacheStatus, PersonRecord, RecordCache};
pub use code_set::{CodeSet, CodeSetError, SameDay, Vaccine};
pub use db::{Backend, PoolStats, Store};
pub use error::StoreError;
pub use replica::ReadTarget;
pub use sea_orm::DatabaseConnection;

/// Hash the first access-log entry chains to.
pub use migration::GENESIS_HASH;
