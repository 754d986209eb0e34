//! End-to-end tests: the real gateway (the same `Application` that `izgraph serve` runs) on a
//! random port, against a real database of its own — PostgreSQL when `DATABASE_URL` is set,
//! SQLite otherwise — driven over HTTP.

mod pg_cluster;
mod support;

mod access_history;
mod access_log;
mod audit;
mod auth;
mod batching;
mod consent;
mod contract;
mod db_restart;
mod doses;
mod edge;
mod federation;
mod forecast_cache;
mod forecasts;
mod graphql_http;
mod hl7;
mod limits;
mod matching;
mod metrics;
mod node_harness;
mod oauth_clients;
mod official_record;
mod organizations;
mod persisted;
mod persons;
mod policy_fixture;
mod policy_matrix;
mod policy_property;
mod population;
mod privacy_reads;
mod redis_tls;
mod replica;
mod roster;
mod write_path;
