//! The job worker every instance runs: claim a shard, read its persons, classify them with
//! the forecast engine, commit the output with the shard's completion, repeat.
//!
//! Any number of instances share the work through the queue in `entities::repo::jobs`; one
//! that is killed mid-shard commits nothing for it, and another takes the shard once its
//! lease runs out.

use std::time::Duration;

use chrono::Utc;
use entities::repo::jobs::{Claimed, Finish, NewResult};
use entities::repo::population::PopulationParams;
use entities::{Store, StoreError};
use policies::{PopulationGrant, PopulationKind};

use super::classify::{classify_shard, ADOLESCENT_SERIES, CHILD_SERIES};
use super::PopulationConfig;

/// Runs `config.workers` claim loops until the task is dropped.
pub async fn run_workers(store: Store, config: PopulationConfig) {
    let instance = uuid::Uuid::new_v4().simple().to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..config.workers {
        let store = store.clone();
        let config = config.clone();
        let owner = format!("{}-{i}", &instance[..12]);
        tasks.spawn(async move { claim_loop(store, config, owner).await });
    }
    while tasks.join_next().await.is_some() {}
}

async fn claim_loop(store: Store, config: PopulationConfig, owner: String) {
    loop {
        match store.claim_shard(&owner, config.lease).await {
            Ok(Some(claimed)) => {
                if let Err(e) = run_shard(&store, &config, &claimed).await {
                    handle_failure(&store, &claimed, e).await;
                }
            }
            Ok(None) => tokio::time::sleep(config.poll).await,
            Err(e) => {
                tracing::warn!(error = %e, "population job claim failed");
                tokio::time::sleep(config.poll).await;
            }
        }
    }
}

async fn handle_failure(store: &Store, claimed: &Claimed, e: StoreError) {
    match e {
        StoreError::Unavailable(_) => {
            tracing::warn!(job = %claimed.job.id, shard = claimed.shard.shard, error = %e, "population shard put back");
            let _ = store.release_shard(claimed).await;
        }
        other => {
            tracing::error!(job = %claimed.job.id, shard = claimed.shard.shard, error = %other, "population job failed");
            let _ = store
                .fail_population_job(
                    claimed.job.id,
                    "the job could not be completed; see the gateway's log",
                )
                .await;
        }
    }
}

/// The grant and parameters stored with a job.
pub fn decode(
    job: &entities::model::population_job::Model,
) -> Result<(PopulationGrant, PopulationParams), StoreError> {
    let grant: PopulationGrant = serde_json::from_str(&job.grant)
        .map_err(|e| StoreError::Corrupt(format!("job grant: {e}")))?;
    let params: PopulationParams = serde_json::from_str(&job.params)
        .map_err(|e| StoreError::Corrupt(format!("job params: {e}")))?;
    Ok((grant, params))
}

/// The series a coverage job measures: the adolescent one when its age band starts at 11
/// years or later, else the 24–35-month one.
pub fn series_of(params: &PopulationParams) -> &'static [(forecast::VaccineGroup, usize)] {
    if params.age_min_months.is_some_and(|m| m >= 132) {
        &ADOLESCENT_SERIES
    } else {
        &CHILD_SERIES
    }
}

async fn run_shard(
    store: &Store,
    config: &PopulationConfig,
    claimed: &Claimed,
) -> Result<(), StoreError> {
    let job = &claimed.job;
    let (grant, params) = decode(job)?;
    let reminded_since = (grant.kind == PopulationKind::ReminderRecall).then(|| {
        let days = params
            .frequency_cap_days
            .unwrap_or(config.frequency_cap_days);
        Utc::now() - chrono::Duration::days(i64::from(days))
    });
    let input = store
        .shard_input(
            &grant,
            &params,
            job.as_of,
            claimed.shard.lo,
            claimed.shard.hi,
            reminded_since,
        )
        .await?;
    let as_of = job.as_of;
    let results = tokio::task::spawn_blocking(move || -> Result<Vec<NewResult>, StoreError> {
        let schedule = forecast::Schedule::embedded()
            .map_err(|e| StoreError::Corrupt(format!("forecast schedule: {e}")))?;
        let series = series_of(&params);
        classify_shard(schedule, &grant, &params, series, as_of, &input)
            .into_iter()
            .map(|(person_id, c)| {
                Ok(NewResult {
                    person_id,
                    category: c.category.to_owned(),
                    household: c.household,
                    row: serde_json::to_string(&c.row)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("classification task: {e}")))??;
    if let Some(pause) = config.pause_before_commit {
        tokio::time::sleep(pause).await;
    }
    match store.finish_shard(claimed, results).await? {
        Finish::Committed => {}
        Finish::Discarded => {
            tracing::info!(job = %job.id, shard = claimed.shard.shard, "population shard output discarded (lease lost or job stopped)");
        }
    }
    Ok(())
}

/// How long a worker sleeps when there is nothing to claim.
pub const DEFAULT_POLL: Duration = Duration::from_millis(500);
