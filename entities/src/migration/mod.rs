//! Forward-only schema migrations, run on PostgreSQL and SQLite alike.

use sea_orm_migration::prelude::*;

mod m20261125_000001_core;
pub use m20261125_000001_core::GENESIS_HASH;
mod m20261125_000002_cvx_codes;
mod m20261125_000003_oauth_clients;
mod m20261201_000004_subject_length;
mod m20261203_000001_p14a_access_log_detail;
mod m20261203_000001_p14b_write_path;
mod m20261203_000001_s22_immunity_evidence;
pub(crate) use m20261203_000001_p14a_access_log_detail::CLIENT_REQUEST_ID_CHARS;
mod m20261203_000005_r23_person_versions;
mod m20261204_000001_identity;
mod m20261204_000010_h16b_hl7;
mod m20261204_000020_population_jobs;
mod m20261204_000040_s20_search_keys;

/// The longest subject the schema holds (`policies::MAX_SUBJECT_CHARS`).
const SUBJECT_CHARS: u32 = policies::MAX_SUBJECT_CHARS as u32;

/// The registry's migrator; `izgraph migrate` and `izgraph serve` both run it.
#[derive(Debug)]
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_core::Migration),
            Box::new(m20261125_000002_cvx_codes::Migration),
            Box::new(m20261125_000003_oauth_clients::Migration),
            Box::new(m20261201_000004_subject_length::Migration),
            Box::new(m20261203_000001_p14b_write_path::Migration),
            Box::new(m20261203_000001_s22_immunity_evidence::Migration),
            Box::new(m20261203_000001_p14a_access_log_detail::Migration),
            Box::new(m20261203_000005_r23_person_versions::Migration),
            Box::new(m20261204_000001_identity::Migration),
            Box::new(m20261204_000010_h16b_hl7::Migration),
            Box::new(m20261204_000020_population_jobs::Migration),
            Box::new(m20261204_000040_s20_search_keys::Migration),
        ]
    }
}
