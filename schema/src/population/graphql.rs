//! The GraphQL side of population jobs: start, follow, cancel, read the output (each page one
//! access-log entry naming its persons), record returned mail, set the county tables.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use entities::model::population_job as job;
use entities::repo::jobs::JobStatus;
use entities::repo::population::{PopulationParams, ResultRow};
use entities::repo::Cursor;
use policies::{JobOwner, PopulationKind, Role, WriteAction};
use uuid::Uuid;

use super::PopulationConfig;
use crate::context::{request, store_err, RequestContext};
use crate::page::{page_size, PageInfo};
use crate::scalars::{Date, DateTime};
use crate::{guard, ids, ApiError};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PopulationJobKind")]
pub enum KindGql {
    ReminderRecall,
    OutbreakAtRisk,
    Coverage,
    LotRecall,
}

impl From<KindGql> for PopulationKind {
    fn from(k: KindGql) -> Self {
        match k {
            KindGql::ReminderRecall => PopulationKind::ReminderRecall,
            KindGql::OutbreakAtRisk => PopulationKind::OutbreakAtRisk,
            KindGql::Coverage => PopulationKind::Coverage,
            KindGql::LotRecall => PopulationKind::LotRecall,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "JobStatus")]
pub enum StatusGql {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// Coverage cohorts with their age band and series.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CoverageCohort {
    /// 24–35 months, the 4:3:1:3:3:1:4 series.
    Children24To35Months,
    /// 13–17 years: Tdap, MenACWY, HPV.
    Adolescents13To17Years,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CoverageGroupBy {
    County,
    Zip,
    Provider,
    School,
}

/// What a population job covers. Unused fields are ignored by kinds they do not apply to.
#[derive(InputObject, Debug, Default)]
pub struct PopulationJobInput {
    /// Vaccine groups as the forecast names them (`MMR`, `DTaP/Tdap/Td`…); empty: all.
    pub vaccine_groups: Option<Vec<String>>,
    pub age_min_months: Option<u32>,
    pub age_max_months: Option<u32>,
    pub counties: Option<Vec<String>>,
    pub postal_codes: Option<Vec<String>>,
    /// Patients of (a dose given by) or members of this organization.
    pub organization_id: Option<ID>,
    /// Schools or child-care centres (enrolled this school year).
    pub school_ids: Option<Vec<ID>>,
    /// A contact list (outbreak).
    pub person_ids: Option<Vec<ID>>,
    pub lot_number: Option<String>,
    pub cvx: Option<String>,
    pub mvx: Option<String>,
    pub given_from: Option<Date>,
    pub given_to: Option<Date>,
    pub cohort: Option<CoverageCohort>,
    pub group_by: Option<CoverageGroupBy>,
    /// The date due and overdue are judged on (default: today).
    pub as_of: Option<Date>,
    /// Reminder/recall: days within which a person reminded before is left out.
    pub frequency_cap_days: Option<u32>,
}

const MAX_LIST: usize = 10_000;

fn ids_of(list: Option<Vec<ID>>, what: &str) -> Result<Vec<Uuid>, ApiError> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_LIST {
        return Err(ApiError::BadInput(format!(
            "{what}: at most {MAX_LIST} ids"
        )));
    }
    list.iter().map(|i| ids::parse(i, what)).collect()
}

fn params_of(
    kind: PopulationKind,
    input: PopulationJobInput,
) -> Result<PopulationParams, ApiError> {
    let mut p = PopulationParams {
        vaccine_groups: input.vaccine_groups.unwrap_or_default(),
        age_min_months: input.age_min_months,
        age_max_months: input.age_max_months,
        counties: input.counties.unwrap_or_default(),
        postal_codes: input.postal_codes.unwrap_or_default(),
        organization_id: input
            .organization_id
            .as_ref()
            .map(|o| ids::parse(o, "organizationId"))
            .transpose()?,
        school_ids: ids_of(input.school_ids, "schoolIds")?,
        person_ids: ids_of(input.person_ids, "personIds")?,
        lot_number: input.lot_number,
        cvx: input.cvx,
        mvx: input.mvx,
        given_from: input.given_from.map(|d| d.0),
        given_to: input.given_to.map(|d| d.0),
        group_by: input.group_by.map(|g| {
            match g {
                CoverageGroupBy::County => "COUNTY",
                CoverageGroupBy::Zip => "ZIP",
                CoverageGroupBy::Provider => "PROVIDER",
                CoverageGroupBy::School => "SCHOOL",
            }
            .to_owned()
        }),
        frequency_cap_days: input.frequency_cap_days,
    };
    if let Some(bad) = p
        .vaccine_groups
        .iter()
        .find(|g| forecast::VaccineGroup::from_name(g).is_none())
    {
        return Err(ApiError::BadInput(format!(
            "`{bad}` is not a vaccine group"
        )));
    }
    match kind {
        PopulationKind::Coverage => {
            let (min, max) = match input.cohort.unwrap_or(CoverageCohort::Children24To35Months) {
                CoverageCohort::Children24To35Months => (24, 35),
                CoverageCohort::Adolescents13To17Years => (13 * 12, 18 * 12 - 1),
            };
            p.age_min_months = Some(min);
            p.age_max_months = Some(max);
        }
        PopulationKind::OutbreakAtRisk if p.vaccine_groups.is_empty() => {
            return Err(ApiError::BadInput(
                "an outbreak list needs its vaccine group".into(),
            ));
        }
        PopulationKind::OutbreakAtRisk
            if p.counties.is_empty()
                && p.postal_codes.is_empty()
                && p.school_ids.is_empty()
                && p.person_ids.is_empty() =>
        {
            return Err(ApiError::BadInput(
                "an outbreak list needs a place (counties, postal codes, schools) or a contact list".into(),
            ));
        }
        PopulationKind::LotRecall
            if p.lot_number.is_none() && p.cvx.is_none() && p.mvx.is_none() =>
        {
            return Err(ApiError::BadInput(
                "a lot recall needs a lot number, CVX or MVX".into(),
            ));
        }
        _ => {}
    }
    Ok(p)
}

/// A population job and its progress.
pub struct JobNode(pub job::Model);

#[derive(SimpleObject)]
pub struct CoverageRow {
    /// The county, ZIP, or organization id persons are grouped by (`UNKNOWN` when none).
    pub key: String,
    pub total: i64,
    pub up_to_date: i64,
    /// Share up to date, 0 to 1.
    pub share: f64,
}

#[Object(name = "Job")]
impl JobNode {
    async fn id(&self) -> ID {
        ids::to_id(self.0.id)
    }
    async fn kind(&self) -> Option<KindGql> {
        PopulationKind::parse(&self.0.kind).map(|k| match k {
            PopulationKind::ReminderRecall => KindGql::ReminderRecall,
            PopulationKind::OutbreakAtRisk => KindGql::OutbreakAtRisk,
            PopulationKind::Coverage => KindGql::Coverage,
            PopulationKind::LotRecall => KindGql::LotRecall,
        })
    }
    async fn status(&self) -> StatusGql {
        match JobStatus::parse(&self.0.status) {
            Some(JobStatus::Queued) => StatusGql::Queued,
            Some(JobStatus::Running) => StatusGql::Running,
            Some(JobStatus::Succeeded) => StatusGql::Succeeded,
            Some(JobStatus::Cancelled) => StatusGql::Cancelled,
            Some(JobStatus::Failed) | None => StatusGql::Failed,
        }
    }
    /// Persons examined so far.
    async fn done(&self) -> i64 {
        self.0.done
    }
    /// Persons to examine (the registry's persons when the job was planned).
    async fn total(&self) -> i64 {
        self.0.total
    }
    async fn shards_total(&self) -> i32 {
        self.0.shards_total
    }
    async fn shards_done(&self) -> i32 {
        self.0.shards_done
    }
    /// Persons in the output so far.
    async fn results(&self) -> i64 {
        self.0.results
    }
    async fn as_of(&self) -> Date {
        Date(self.0.as_of)
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    async fn started_at(&self) -> Option<DateTime> {
        self.0.started_at.map(DateTime)
    }
    async fn finished_at(&self) -> Option<DateTime> {
        self.0.finished_at.map(DateTime)
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Coverage jobs: counts per group (county, ZIP, provider or school). Counts name no one.
    async fn coverage(&self, ctx: &Context<'_>) -> Result<Vec<CoverageRow>> {
        let (rc, store) = request(ctx)?;
        if self.0.kind != PopulationKind::Coverage.as_str() {
            return Ok(Vec::new());
        }
        let rows = store
            .population_summary(self.0.id)
            .await
            .map_err(store_err(rc))?;
        Ok(coverage_rows(rows))
    }
}

/// Folds (key, category, count) into one row per key.
pub fn coverage_rows(rows: Vec<(String, String, i64)>) -> Vec<CoverageRow> {
    let mut out: Vec<CoverageRow> = Vec::new();
    for (key, category, n) in rows {
        if out.last().is_none_or(|r| r.key != key) {
            out.push(CoverageRow {
                key,
                total: 0,
                up_to_date: 0,
                share: 0.0,
            });
        }
        if let Some(last) = out.last_mut() {
            last.total += n;
            if category == "UP_TO_DATE" {
                last.up_to_date += n;
            }
            last.share = last.up_to_date as f64 / last.total.max(1) as f64;
        }
    }
    out
}

#[derive(SimpleObject)]
pub struct ContactOut {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(SimpleObject)]
pub struct GroupOut {
    pub vaccine_group: String,
    /// `DUE`, `OVERDUE`, `AT_RISK`, `EXEMPT`, `UP_TO_DATE`, `NOT_UP_TO_DATE`.
    pub status: String,
    pub due_date: Option<Date>,
    pub past_due_date: Option<Date>,
}

#[derive(SimpleObject)]
pub struct DoseOut {
    pub date_given: Date,
    pub cvx: String,
    pub mvx: Option<String>,
    pub lot_number: Option<String>,
    pub administered_by_id: Option<ID>,
}

/// One person in a job's output, as the job's grant allowed when it ran.
#[derive(SimpleObject)]
pub struct PopulationResult {
    pub person_id: ID,
    /// `DUE`, `OVERDUE`, `AT_RISK`, `UP_TO_DATE`, `NOT_UP_TO_DATE`, `RECALLED`.
    pub category: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: Date,
    pub county: Option<String>,
    /// Present only for roles that may see contact.
    pub contact: Option<ContactOut>,
    pub guardian: Option<String>,
    pub address_bad: bool,
    pub groups: Vec<GroupOut>,
    pub doses: Vec<DoseOut>,
    pub key: Option<String>,
}

impl PopulationResult {
    pub fn from_row(person: Uuid, category: String, r: ResultRow) -> Self {
        PopulationResult {
            person_id: ids::to_id(person),
            category,
            first_name: r.first_name,
            last_name: r.last_name,
            date_of_birth: Date(r.date_of_birth),
            county: r.county,
            contact: r.contact.map(|c| ContactOut {
                address_line1: c.address_line1,
                address_line2: c.address_line2,
                city: c.city,
                state: c.state,
                postal_code: c.postal_code,
                phone: c.phone,
                email: c.email,
            }),
            guardian: r.guardian,
            address_bad: r.address_bad,
            groups: r
                .groups
                .into_iter()
                .map(|g| GroupOut {
                    vaccine_group: g.group,
                    status: g.status,
                    due_date: g.due_date.map(Date),
                    past_due_date: g.past_due_date.map(Date),
                })
                .collect(),
            doses: r
                .doses
                .into_iter()
                .map(|d| DoseOut {
                    date_given: Date(d.date_given),
                    cvx: d.cvx,
                    mvx: d.mvx,
                    lot_number: d.lot_number,
                    administered_by_id: d.administered_by.map(ids::to_id),
                })
                .collect(),
            key: r.key,
        }
    }
}

#[derive(SimpleObject)]
pub struct PopulationResultEdge {
    pub cursor: String,
    pub node: PopulationResult,
}

#[derive(SimpleObject)]
pub struct PopulationResultConnection {
    pub edges: Vec<PopulationResultEdge>,
    pub page_info: PageInfo,
}

/// The job `id` if `rc`'s principal may read it; a job it may not read is `NOT_FOUND`, like
/// one that does not exist (its existence is not the caller's to learn).
pub async fn readable_job(
    rc: &RequestContext,
    store: &entities::Store,
    id: Uuid,
) -> Result<job::Model, ApiError> {
    let Some(found) = store.population_job(id).await.map_err(store_err(rc))? else {
        return Err(ApiError::NotFound);
    };
    let owner = JobOwner {
        subject: found.owner_subject.clone(),
        role: found
            .owner_role
            .parse::<Role>()
            .map_err(|_| ApiError::Internal {
                request_id: rc.access.request_id.clone(),
            })?,
        org: found.owner_org_id,
    };
    if let Err(denial) = policies::authorize_job_read(&rc.access.principal, &owner) {
        rc.record_denial(None, "populationJob", denial.rule());
        return Err(ApiError::NotFound);
    }
    Ok(found)
}

#[derive(Default)]
pub struct PopulationQuery;

#[Object]
impl PopulationQuery {
    /// A population job its creator's organization (or registry staff) follows.
    #[graphql(requires_scopes = "person:read")]
    async fn population_job(&self, ctx: &Context<'_>, id: ID) -> Result<JobNode> {
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&id, "id")?;
        Ok(JobNode(readable_job(rc, store, id).await?))
    }

    /// A page of a job's output, in person-id order. Logged as one read naming the page's
    /// persons.
    #[graphql(requires_scopes = "person:read")]
    async fn population_results(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
        category: Option<String>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> Result<PopulationResultConnection> {
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&job_id, "jobId")?;
        let first = page_size(first)?;
        let found = readable_job(rc, store, id).await?;
        let (rows, more) = store
            .population_results_page(
                &rc.access,
                found.id,
                category.as_deref(),
                after.map(Cursor).as_ref(),
                first,
            )
            .await
            .map_err(store_err(rc))?;
        let mut edges = Vec::with_capacity(rows.len());
        for (cursor, r) in rows {
            let row: ResultRow = serde_json::from_str(&r.row).map_err(|_| ApiError::Internal {
                request_id: rc.access.request_id.clone(),
            })?;
            rc.record_reveal(r.person_id, "populationList");
            edges.push(PopulationResultEdge {
                cursor: cursor.0,
                node: PopulationResult::from_row(r.person_id, r.category, row),
            });
        }
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Ok(PopulationResultConnection {
            edges,
            page_info: PageInfo {
                has_next_page: more,
                end_cursor,
            },
        })
    }
}

#[derive(Default)]
pub struct PopulationMutation;

#[Object]
impl PopulationMutation {
    /// Starts a population job: the policy decides now which persons it may list (and
    /// whether with contact), any instance's workers run it.
    #[graphql(requires_scopes = "person:read")]
    async fn start_population_job(
        &self,
        ctx: &Context<'_>,
        kind: KindGql,
        #[graphql(default)] input: PopulationJobInput,
    ) -> Result<JobNode> {
        let (rc, store) = request(ctx)?;
        let config = ctx
            .data::<PopulationConfig>()
            .map_err(|_| ApiError::Internal {
                request_id: rc.access.request_id.clone(),
            })?;
        let kind: PopulationKind = kind.into();
        let grant = match policies::authorize_population(&rc.access.principal, kind) {
            Ok(g) => g,
            Err(denial) => {
                rc.record_denial(None, "startPopulationJob", denial.rule());
                return Err(ApiError::Forbidden(format!(
                    "this role may not run this population job ({})",
                    denial.rule()
                ))
                .into());
            }
        };
        let as_of = input.as_of.map_or(rc.access.today, |d| d.0);
        let params = params_of(kind, input)?;
        let json = serde_json::to_string(&params).map_err(|_| ApiError::Internal {
            request_id: rc.access.request_id.clone(),
        })?;
        let created = store
            .create_population_job(&rc.access, &grant, json, as_of, config.shard_size)
            .await
            .map_err(store_err(rc))?;
        Ok(JobNode(created))
    }

    /// Cancels a queued or running job: no further shard runs and no further output is
    /// committed.
    #[graphql(requires_scopes = "person:read")]
    async fn cancel_population_job(&self, ctx: &Context<'_>, id: ID) -> Result<JobNode> {
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&id, "id")?;
        readable_job(rc, store, id).await?;
        Ok(JobNode(
            store
                .cancel_population_job(id)
                .await
                .map_err(store_err(rc))?,
        ))
    }

    /// Records that mail to a person's current address came back: their letters stop until
    /// the address changes. For those who may write to the person.
    #[graphql(requires_scopes = "person:write")]
    async fn record_returned_mail(&self, ctx: &Context<'_>, person_id: ID) -> Result<bool> {
        guard::write(ctx, WriteAction::UpdatePerson)?;
        let (rc, store) = request(ctx)?;
        let id = ids::parse(&person_id, "personId")?;
        store
            .record_returned_mail(&rc.access, id)
            .await
            .map_err(store_err(rc))?;
        Ok(true)
    }

    /// Registry staff: puts ZIP codes in a county (what county filters and jurisdictions
    /// match persons' postal codes against).
    #[graphql(requires_scopes = "person:write")]
    async fn set_zip_counties(
        &self,
        ctx: &Context<'_>,
        county: String,
        postal_codes: Vec<String>,
    ) -> Result<bool> {
        let (rc, store) = request(ctx)?;
        geography_admin(rc)?;
        store
            .set_zip_counties(&county, &postal_codes)
            .await
            .map_err(store_err(rc))?;
        Ok(true)
    }

    /// Registry staff: the counties of a public-health organization's jurisdiction.
    #[graphql(requires_scopes = "person:write")]
    async fn set_organization_counties(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        counties: Vec<String>,
    ) -> Result<bool> {
        let (rc, store) = request(ctx)?;
        geography_admin(rc)?;
        let org = ids::parse(&organization_id, "organizationId")?;
        store
            .set_organization_counties(org, &counties)
            .await
            .map_err(store_err(rc))?;
        Ok(true)
    }
}

fn geography_admin(rc: &RequestContext) -> Result<(), ApiError> {
    policies::authorize_geography_write(&rc.access.principal).map_err(|d| {
        rc.record_denial(None, "geography", d.rule());
        ApiError::Forbidden(format!("only registry staff set counties ({})", d.rule()))
    })
}
