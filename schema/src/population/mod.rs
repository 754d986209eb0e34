//! Population work as jobs (issue 17): reminder/recall, outbreak at-risk lists, coverage
//! assessment and lot recall over the whole registry, sharded by person-id ranges and run by
//! every instance's workers.

mod classify;
mod export;
mod graphql;
mod worker;

use std::time::Duration;

pub use export::{export, ExportFormat};
pub use graphql::{PopulationMutation, PopulationQuery};
pub use worker::decode;
pub use worker::run_workers;

/// The jobs settings, attached to the schema and handed to the workers.
#[derive(Debug, Clone)]
pub struct PopulationConfig {
    /// Claim loops this instance runs (0: it runs none, only serves the API).
    pub workers: usize,
    /// How long a claimed shard stays this instance's before another may take it.
    pub lease: Duration,
    pub poll: Duration,
    /// Persons per shard.
    pub shard_size: u32,
    /// Days within which a person reminded before is left out of a reminder run.
    pub frequency_cap_days: u32,
    /// Tests only: a pause between classifying a shard and committing it, so a test can stop
    /// an instance while it holds a shard.
    pub pause_before_commit: Option<Duration>,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            workers: 2,
            lease: Duration::from_secs(30),
            poll: worker::DEFAULT_POLL,
            shard_size: 5000,
            frequency_cap_days: 30,
            pause_before_commit: None,
        }
    }
}
