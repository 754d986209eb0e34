//! The population-job queue: jobs split into person-id ranges (shards) that any instance
//! claims under a lease.
//!
//! Claiming is PostgreSQL's `SELECT … FOR UPDATE SKIP LOCKED` (SeaORM's
//! `lock_with_behavior`), so instances never wait on each other's claims; on SQLite, which has
//! no row locks, one leased `UPDATE … RETURNING` picks and takes a shard in one statement. A
//! shard's output and its completion commit in one transaction that first checks the lease is
//! still the claimer's and the job still active: an instance that died (or was too slow and
//! lost its lease) commits nothing, another instance takes the shard once the lease runs out,
//! and the (job, person) key of the output makes a duplicate impossible anyway.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use policies::PopulationGrant;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::model::{
    population_job as job, population_job_result as result, population_job_shard as shard,
};
use crate::repo::{Cursor, CursorKind};
use crate::{Access, Store, StoreError};

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "QUEUED",
            JobStatus::Running => "RUNNING",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
            JobStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

const PENDING: &str = "PENDING";
const CLAIMED: &str = "CLAIMED";
const DONE: &str = "DONE";

/// Attempts at a shard (claims whose lease ran out or whose work failed) before the job fails.
pub const MAX_ATTEMPTS: i32 = 5;

/// A shard an instance holds, with its job.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub job: job::Model,
    pub shard: shard::Model,
    pub owner: String,
}

/// One output row for [`Store::finish_shard`].
#[derive(Debug, Clone)]
pub struct NewResult {
    pub person_id: Uuid,
    pub category: String,
    pub household: String,
    pub row: String,
}

/// How a shard's completion went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Output committed.
    Committed,
    /// Nothing committed: the lease was lost (another instance has the shard) or the job was
    /// cancelled or failed meanwhile.
    Discarded,
}

fn active_jobs() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(job::Column::Id)
        .from(job::Entity)
        .and_where(
            job::Column::Status.is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]),
        )
        .to_owned()
}

impl Store {
    /// Creates a job for `access`'s principal with what the policy granted, splitting the
    /// person-id space into ranges of `shard_size` persons (one scan of the primary key's
    /// index, numbered by a window function on both engines).
    pub async fn create_population_job(
        &self,
        access: &Access,
        grant: &PopulationGrant,
        params: String,
        as_of: NaiveDate,
        shard_size: u32,
    ) -> Result<job::Model, StoreError> {
        let shard_size = i64::from(std::cmp::max(shard_size, 1));
        let backend = self.db.get_database_backend();
        let placeholder = if backend == DbBackend::Postgres {
            "$1"
        } else {
            "?"
        };
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id, rn FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM persons) t \
                     WHERE (t.rn - 1) % {placeholder} = 0 ORDER BY id"
                ),
                [shard_size.into()],
            ))
            .await?;
        let total: i64 = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM persons",
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        let mut bounds: Vec<Uuid> = Vec::with_capacity(rows.len());
        for r in rows {
            bounds.push(r.try_get::<Uuid>("", "id")?);
        }
        let grant_json =
            serde_json::to_string(grant).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = Utc::now();
        let id = Uuid::now_v7();
        let shards = bounds.len().max(1);
        let txn = self.begin_write().await?;
        let model = job::ActiveModel {
            id: Set(id),
            kind: Set(grant.kind.as_str().to_owned()),
            status: Set(JobStatus::Queued.as_str().to_owned()),
            params: Set(params),
            grant: Set(grant_json),
            owner_subject: Set(access.principal.subject.clone()),
            owner_role: Set(access.principal.role.as_str().to_owned()),
            owner_org_id: Set(access.principal.org),
            as_of: Set(as_of),
            total: Set(total),
            done: Set(0),
            shards_total: Set(i32::try_from(shards).unwrap_or(i32::MAX)),
            shards_done: Set(0),
            results: Set(0),
            error: Set(None),
            created_at: Set(now),
            started_at: Set(None),
            finished_at: Set(None),
        }
        .insert(&*txn)
        .await?;
        let mut new_shards = Vec::with_capacity(shards);
        let per_shard = |i: usize| -> i64 {
            let before = i64::try_from(i)
                .unwrap_or(i64::MAX)
                .saturating_mul(shard_size);
            (total - before).clamp(0, shard_size)
        };
        for i in 0..shards {
            // The first range is open below: persons created after planning with a smaller
            // id are still in some range.
            let lo = if i == 0 { None } else { bounds.get(i).copied() };
            let hi = bounds.get(i + 1).copied();
            new_shards.push(shard::ActiveModel {
                job_id: Set(id),
                shard: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                lo: Set(lo),
                hi: Set(hi),
                status: Set(PENDING.to_owned()),
                lease_owner: Set(None),
                lease_until: Set(None),
                persons: Set(per_shard(i)),
                attempts: Set(0),
            });
        }
        for chunk in new_shards.chunks(500) {
            shard::Entity::insert_many(chunk.to_vec())
                .exec(&*txn)
                .await?;
        }
        txn.commit().await?;
        Ok(model)
    }

    /// A job by id (the caller decides whether its principal may see it).
    pub async fn population_job(&self, id: Uuid) -> Result<Option<job::Model>, StoreError> {
        Ok(job::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Cancels a queued or running job: no shard is claimed for it any more and no shard's
    /// output commits after this. Returns the job as it now is.
    pub async fn cancel_population_job(&self, id: Uuid) -> Result<job::Model, StoreError> {
        job::Entity::update_many()
            .col_expr(
                job::Column::Status,
                Expr::val(JobStatus::Cancelled.as_str()),
            )
            .col_expr(job::Column::FinishedAt, Expr::val(Utc::now()))
            .filter(job::Column::Id.eq(id))
            .filter(
                job::Column::Status
                    .is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]),
            )
            .exec(&self.db)
            .await?;
        self.population_job(id)
            .await?
            .ok_or(StoreError::NotFound { entity: "job", id })
    }

    /// Whether a job is still queued or running (workers ask between batches).
    pub async fn population_job_active(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(job::Entity::find_by_id(id)
            .filter(
                job::Column::Status
                    .is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]),
            )
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Claims the next shard of an active job that is pending or whose lease ran out, for
    /// `owner` until `lease` from now.
    pub async fn claim_shard(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<Claimed>, StoreError> {
        let now = Utc::now();
        let until =
            now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        let claimable = Condition::all()
            .add(shard::Column::JobId.in_subquery(active_jobs()))
            .add(
                Condition::any().add(shard::Column::Status.eq(PENDING)).add(
                    Condition::all()
                        .add(shard::Column::Status.eq(CLAIMED))
                        .add(shard::Column::LeaseUntil.lt(now)),
                ),
            );
        let taken = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                use sea_orm::sea_query::{LockBehavior, LockType};
                let txn = self.db.begin().await?;
                let found = shard::Entity::find()
                    .filter(claimable)
                    .order_by_asc(shard::Column::JobId)
                    .order_by_asc(shard::Column::Shard)
                    .limit(1)
                    .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                    .one(&txn)
                    .await?;
                let Some(found) = found else {
                    txn.commit().await?;
                    return Ok(None);
                };
                let attempts = found.attempts + 1;
                let mut m: shard::ActiveModel = found.into();
                m.status = Set(CLAIMED.to_owned());
                m.lease_owner = Set(Some(owner.to_owned()));
                m.lease_until = Set(Some(until));
                m.attempts = Set(attempts);
                let taken = m.update(&txn).await?;
                txn.commit().await?;
                taken
            }
            _ => {
                let pick = Query::select()
                    .expr(Expr::cust("rowid"))
                    .from(shard::Entity)
                    .cond_where(claimable)
                    .order_by(shard::Column::JobId, sea_orm::Order::Asc)
                    .order_by(shard::Column::Shard, sea_orm::Order::Asc)
                    .limit(1)
                    .to_owned();
                let mut taken = shard::Entity::update_many()
                    .col_expr(shard::Column::Status, Expr::val(CLAIMED))
                    .col_expr(shard::Column::LeaseOwner, Expr::val(owner))
                    .col_expr(shard::Column::LeaseUntil, Expr::val(until))
                    .col_expr(
                        shard::Column::Attempts,
                        Expr::col(shard::Column::Attempts).add(1),
                    )
                    .filter(Expr::cust("rowid").in_subquery(pick))
                    .exec_with_returning(&self.db)
                    .await?;
                match taken.pop() {
                    Some(t) => t,
                    None => return Ok(None),
                }
            }
        };
        let Some(job) = job::Entity::find_by_id(taken.job_id).one(&self.db).await? else {
            return Ok(None);
        };
        if taken.attempts > MAX_ATTEMPTS {
            self.fail_population_job(job.id, "a shard failed too many times")
                .await?;
            return Ok(None);
        }
        if job.status == JobStatus::Queued.as_str() {
            job::Entity::update_many()
                .col_expr(job::Column::Status, Expr::val(JobStatus::Running.as_str()))
                .col_expr(job::Column::StartedAt, Expr::val(now))
                .filter(job::Column::Id.eq(job.id))
                .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
                .exec(&self.db)
                .await?;
        }
        Ok(Some(Claimed {
            job,
            shard: taken,
            owner: owner.to_owned(),
        }))
    }

    /// Commits a shard's output and progress, if the claim still holds and the job is still
    /// active; otherwise commits nothing.
    pub async fn finish_shard(
        &self,
        claimed: &Claimed,
        results: Vec<NewResult>,
    ) -> Result<Finish, StoreError> {
        let txn = self.begin_write().await?;
        let now = Utc::now();
        // The fence: still ours, still within the lease.
        let persons = claimed.shard.persons;
        let mine = shard::Entity::update_many()
            .col_expr(shard::Column::Status, Expr::val(DONE))
            .filter(shard::Column::JobId.eq(claimed.shard.job_id))
            .filter(shard::Column::Shard.eq(claimed.shard.shard))
            .filter(shard::Column::Status.eq(CLAIMED))
            .filter(shard::Column::LeaseOwner.eq(claimed.owner.as_str()))
            .filter(shard::Column::LeaseUntil.gte(now))
            .exec(&*txn)
            .await?;
        if mine.rows_affected != 1 {
            return Ok(Finish::Discarded);
        }
        let n = i64::try_from(results.len()).unwrap_or(i64::MAX);
        let progressed = job::Entity::update_many()
            .col_expr(job::Column::Done, Expr::col(job::Column::Done).add(persons))
            .col_expr(
                job::Column::ShardsDone,
                Expr::col(job::Column::ShardsDone).add(1),
            )
            .col_expr(job::Column::Results, Expr::col(job::Column::Results).add(n))
            .filter(job::Column::Id.eq(claimed.job.id))
            .filter(
                job::Column::Status
                    .is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]),
            )
            .exec(&*txn)
            .await?;
        if progressed.rows_affected != 1 {
            return Ok(Finish::Discarded);
        }
        let rows: Vec<result::ActiveModel> = results
            .into_iter()
            .map(|r| result::ActiveModel {
                job_id: Set(claimed.job.id),
                person_id: Set(r.person_id),
                shard: Set(claimed.shard.shard),
                category: Set(r.category),
                household: Set(r.household),
                row: Set(r.row),
            })
            .collect();
        for chunk in rows.chunks(1000) {
            result::Entity::insert_many(chunk.to_vec())
                .exec(&*txn)
                .await?;
        }
        job::Entity::update_many()
            .col_expr(
                job::Column::Status,
                Expr::val(JobStatus::Succeeded.as_str()),
            )
            .col_expr(job::Column::FinishedAt, Expr::val(now))
            .col_expr(
                job::Column::Total,
                Expr::cust("CASE WHEN done > total THEN done ELSE total END"),
            )
            .filter(job::Column::Id.eq(claimed.job.id))
            .filter(Expr::col(job::Column::ShardsDone).eq(Expr::col(job::Column::ShardsTotal)))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(Finish::Committed)
    }

    /// Gives a claimed shard back (its work failed for a passing reason): another claim may
    /// take it at once.
    pub async fn release_shard(&self, claimed: &Claimed) -> Result<(), StoreError> {
        shard::Entity::update_many()
            .col_expr(shard::Column::Status, Expr::val(PENDING))
            .col_expr(shard::Column::LeaseOwner, Expr::val(Option::<String>::None))
            .filter(shard::Column::JobId.eq(claimed.shard.job_id))
            .filter(shard::Column::Shard.eq(claimed.shard.shard))
            .filter(shard::Column::LeaseOwner.eq(claimed.owner.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Marks a job failed with `error` (kept for its owner to read).
    pub async fn fail_population_job(&self, id: Uuid, error: &str) -> Result<(), StoreError> {
        job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::val(JobStatus::Failed.as_str()))
            .col_expr(job::Column::Error, Expr::val(error))
            .col_expr(job::Column::FinishedAt, Expr::val(Utc::now()))
            .filter(job::Column::Id.eq(id))
            .filter(
                job::Column::Status
                    .is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]),
            )
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// A page of a job's output for `access` in person-id order: up to `first` rows after the
    /// sealed `after` cursor (bound to the principal and the job), and whether more follow.
    pub async fn population_results_page(
        &self,
        access: &Access,
        job_id: Uuid,
        category: Option<&str>,
        after: Option<&Cursor>,
        first: u64,
    ) -> Result<(Vec<(Cursor, result::Model)>, bool), StoreError> {
        let job = job_id.to_string();
        let after = match after {
            None => None,
            Some(c) => {
                let parts = self
                    .cursor_key
                    .open(access, CursorKind::PopulationResults, c, 2)
                    .filter(|p| p[0] == job)
                    .ok_or_else(|| {
                        StoreError::Invalid("after is not a cursor of this list".into())
                    })?;
                Some(parts[1].parse::<Uuid>().map_err(|_| {
                    StoreError::Invalid("after is not a cursor of this list".into())
                })?)
            }
        };
        let mut rows = self
            .population_results(job_id, category, after, first + 1)
            .await?;
        let more = rows.len() as u64 > first;
        rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok((
            rows.into_iter()
                .map(|r| {
                    let person = r.person_id.to_string();
                    let c = self.cursor_key.seal(
                        access,
                        CursorKind::PopulationResults,
                        &[job.as_str(), person.as_str()],
                    );
                    (c, r)
                })
                .collect(),
            more,
        ))
    }

    /// Counts of a job's output by grouping key and category (coverage's table).
    pub async fn population_summary(
        &self,
        job_id: Uuid,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(result::Entity::find()
            .select_only()
            .column(result::Column::Household)
            .column(result::Column::Category)
            .column_as(Expr::col(result::Column::PersonId).count(), "n")
            .filter(result::Column::JobId.eq(job_id))
            .group_by(result::Column::Household)
            .group_by(result::Column::Category)
            .order_by_asc(result::Column::Household)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// A page of a job's output in person-id order, after `after`, optionally of one category.
    pub async fn population_results(
        &self,
        job_id: Uuid,
        category: Option<&str>,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<result::Model>, StoreError> {
        let mut q = result::Entity::find().filter(result::Column::JobId.eq(job_id));
        if let Some(c) = category {
            q = q.filter(result::Column::Category.eq(c));
        }
        if let Some(a) = after {
            q = q.filter(result::Column::PersonId.gt(a));
        }
        Ok(q.order_by_asc(result::Column::PersonId)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}
