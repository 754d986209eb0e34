//! What population jobs read and write besides the queue: the persons of one shard with what
//! their forecast needs (selected in SQL by the job's grant, its parameters and the consent
//! and lock rules), the notification log, and the county tables.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use policies::{PopulationGrant, PopulationKind, PopulationRows};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::codes::{AccessAction, Participation};
use crate::model::{
    contraindication, dose, enrollment, guardian_link, membership, notification,
    organization_county, person, zip_county,
};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::write_guard::person_for_write;
use crate::{Access, Store, StoreError};

/// What a job was asked: stored with it as JSON, applied in SQL by [`Store::shard_input`]
/// (persons) and by the worker (forecast-based categories).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PopulationParams {
    /// Vaccine groups (names as the forecast spells them); empty means every group.
    pub vaccine_groups: Vec<String>,
    /// Age band in completed months on the job's date, inclusive.
    pub age_min_months: Option<u32>,
    pub age_max_months: Option<u32>,
    pub counties: Vec<String>,
    pub postal_codes: Vec<String>,
    /// Patients of (a dose given by) or members of this organization.
    pub organization_id: Option<Uuid>,
    /// Enrolled at one of these schools or child-care centres this school year.
    pub school_ids: Vec<Uuid>,
    /// A contact list.
    pub person_ids: Vec<Uuid>,
    /// Lot recall: the dose's lot, CVX, MVX and the dates it was given between (inclusive).
    pub lot_number: Option<String>,
    pub cvx: Option<String>,
    pub mvx: Option<String>,
    pub given_from: Option<NaiveDate>,
    pub given_to: Option<NaiveDate>,
    /// Coverage: what persons are grouped by (`COUNTY`, `ZIP`, `PROVIDER`, `SCHOOL`).
    pub group_by: Option<String>,
    /// Reminder/recall: days within which a person reminded before is not reminded again.
    pub frequency_cap_days: Option<u32>,
}

/// A person's contact in a job's output (only when the grant carries contact).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// One vaccine group in an output row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupLine {
    pub group: String,
    /// `DUE`, `OVERDUE`, `AT_RISK`, `UP_TO_DATE`, `NOT_UP_TO_DATE`.
    pub status: String,
    pub due_date: Option<NaiveDate>,
    pub past_due_date: Option<NaiveDate>,
}

/// One dose in a lot-recall row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoseLine {
    pub date_given: NaiveDate,
    pub cvx: String,
    pub mvx: Option<String>,
    pub lot_number: Option<String>,
    pub administered_by: Option<Uuid>,
}

/// One person in a job's output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultRow {
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub county: Option<String>,
    pub contact: Option<Contact>,
    /// The guardian a minor's letter is addressed to (with contact only).
    pub guardian: Option<String>,
    /// Mail to the current address came back: no letter is printed for it.
    pub address_bad: bool,
    pub groups: Vec<GroupLine>,
    pub doses: Vec<DoseLine>,
    /// Coverage: the group this person counts in (a county, ZIP, organization id).
    pub key: Option<String>,
}

/// The persons of one shard with everything their output needs.
#[derive(Debug, Default)]
pub struct ShardInput {
    pub persons: Vec<person::Model>,
    pub doses: HashMap<Uuid, Vec<dose::Model>>,
    pub findings: HashMap<Uuid, Vec<contraindication::Model>>,
    /// A minor's first verified guardian.
    pub guardians: HashMap<Uuid, person::Model>,
    /// Persons reminded within the frequency cap.
    pub recently_reminded: HashSet<Uuid>,
    /// Address keys mail came back from.
    pub returned_addresses: HashSet<String>,
    pub county_of_zip: HashMap<String, String>,
    /// Coverage by school: each person's school this year.
    pub school_of: HashMap<Uuid, Uuid>,
    /// Coverage by provider: the organization that gave each person's latest dose.
    pub provider_of: HashMap<Uuid, Uuid>,
}

/// The digest of a person's postal address, as the notification log keeps it.
pub fn address_key(p: &person::Model) -> Option<String> {
    address_key_of([
        p.address_line1.as_deref(),
        p.address_line2.as_deref(),
        p.city.as_deref(),
        p.state.as_deref(),
        p.postal_code.as_deref(),
    ])
}

impl Contact {
    /// The digest of this postal address (see [`address_key`]).
    pub fn address_key(&self) -> Option<String> {
        address_key_of([
            self.address_line1.as_deref(),
            self.address_line2.as_deref(),
            self.city.as_deref(),
            self.state.as_deref(),
            self.postal_code.as_deref(),
        ])
    }
}

/// Line 1, line 2, city, state, postal code: normalized and hashed; `None` without line 1.
fn address_key_of(parts: [Option<&str>; 5]) -> Option<String> {
    let line1 = parts[0]?.trim();
    if line1.is_empty() {
        return None;
    }
    let mut h = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        let part = part.unwrap_or("").trim();
        let part = if i == 4 { zip5(part) } else { part };
        h.update(part.to_uppercase().as_bytes());
        h.update([0x1f]);
    }
    Some(hex::encode(&h.finalize()[..16]))
}

/// The five-digit ZIP of a postal code.
pub fn zip5(code: &str) -> &str {
    let code = code.trim();
    code.get(..5).unwrap_or(code)
}

fn zips_of_counties(counties: SelectStatement) -> SelectStatement {
    Query::select()
        .column(zip_county::Column::PostalCode)
        .from(zip_county::Entity)
        .and_where(zip_county::Column::County.in_subquery(counties))
        .to_owned()
}

fn zip_of_person() -> Expr {
    Expr::cust("SUBSTR(persons.postal_code, 1, 5)")
}

fn exists_in<E: EntityTrait>(entity: E, person_col: E::Column, extra: Condition) -> Expr
where
    E::Column: ColumnTrait,
{
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(entity)
            .and_where(Expr::col((entity, person_col)).equals((person::Entity, person::Column::Id)))
            .cond_where(extra)
            .to_owned(),
    )
}

/// The persons a job lists, by its grant and parameters: participating, not locked to an
/// organization other than the grant's, in the grant's rows, within the parameters.
fn person_condition(
    grant: &PopulationGrant,
    params: &PopulationParams,
    as_of: NaiveDate,
) -> Condition {
    let mut c = Condition::all()
        .add(person::Column::Participation.eq(Participation::Participating))
        // Deceased, inactive, moved or gone elsewhere, and merged duplicates (issue 15).
        .add(crate::matching::population_condition());
    c = c.add(match grant.rows.lock_holder() {
        None => Condition::all().add(person::Column::LockedToOrgId.is_null()),
        Some(org) => Condition::any()
            .add(person::Column::LockedToOrgId.is_null())
            .add(person::Column::LockedToOrgId.eq(org)),
    });
    match grant.rows {
        PopulationRows::Registry => {}
        PopulationRows::Jurisdiction { org } => {
            c = c.add(
                zip_of_person().in_subquery(zips_of_counties(
                    Query::select()
                        .column(organization_county::Column::County)
                        .from(organization_county::Entity)
                        .and_where(organization_county::Column::OrganizationId.eq(org))
                        .to_owned(),
                )),
            );
        }
        PopulationRows::Patients { org } => {
            c = c.add(exists_in(
                dose::Entity,
                dose::Column::PersonId,
                Condition::all().add(dose::Column::AdministeredByOrgId.eq(org)),
            ));
        }
        PopulationRows::Members { org } => {
            c = c.add(exists_in(
                membership::Entity,
                membership::Column::PersonId,
                Condition::all().add(membership::Column::OrganizationId.eq(org)),
            ));
        }
    }
    if grant.kind == PopulationKind::ReminderRecall {
        // The consent's reminders flag (kept on the row, its history in consent_events).
        c = c.add(person::Column::Reminders.eq(true));
    }
    if let Some(max) = params.age_max_months {
        // Younger than max + 1 months: born after the date max + 1 months ago.
        if let Some(d) = as_of.checked_sub_months(chrono::Months::new(max + 1)) {
            c = c.add(person::Column::DateOfBirth.gt(d));
        }
    }
    if let Some(min) = params.age_min_months {
        if let Some(d) = as_of.checked_sub_months(chrono::Months::new(min)) {
            c = c.add(person::Column::DateOfBirth.lte(d));
        }
    }
    if !params.postal_codes.is_empty() {
        c = c.add(zip_of_person().is_in(params.postal_codes.iter().map(|z| zip5(z).to_owned())));
    }
    if !params.counties.is_empty() {
        c = c.add(
            zip_of_person().in_subquery(
                Query::select()
                    .column(zip_county::Column::PostalCode)
                    .from(zip_county::Entity)
                    .and_where(
                        zip_county::Column::County
                            .is_in(params.counties.iter().map(|c| c.trim().to_uppercase())),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(org) = params.organization_id {
        c = c.add(
            Condition::any()
                .add(exists_in(
                    dose::Entity,
                    dose::Column::PersonId,
                    Condition::all().add(dose::Column::AdministeredByOrgId.eq(org)),
                ))
                .add(exists_in(
                    membership::Entity,
                    membership::Column::PersonId,
                    Condition::all().add(membership::Column::OrganizationId.eq(org)),
                )),
        );
    }
    if !params.school_ids.is_empty() {
        c = c.add(exists_in(
            enrollment::Entity,
            enrollment::Column::PersonId,
            Condition::all()
                .add(enrollment::Column::OrganizationId.is_in(params.school_ids.iter().copied()))
                .add(enrollment::Column::SchoolYear.eq(policies::school_year_of(as_of))),
        ));
    }
    if !params.person_ids.is_empty() {
        c = c.add(person::Column::Id.is_in(params.person_ids.iter().copied()));
    }
    if grant.kind == PopulationKind::LotRecall {
        c = c.add(exists_in(
            dose::Entity,
            dose::Column::PersonId,
            lot_condition(grant, params),
        ));
    }
    c
}

/// The doses a lot recall looks for (a provider's: those it gave).
fn lot_condition(grant: &PopulationGrant, params: &PopulationParams) -> Condition {
    let mut d = Condition::all();
    if let Some(lot) = &params.lot_number {
        d = d.add(dose::Column::LotNumber.eq(lot.trim()));
    }
    if let Some(cvx) = &params.cvx {
        d = d.add(dose::Column::Cvx.eq(cvx.trim()));
    }
    if let Some(mvx) = &params.mvx {
        d = d.add(dose::Column::Mvx.eq(mvx.trim().to_uppercase()));
    }
    if let Some(from) = params.given_from {
        d = d.add(dose::Column::DateGiven.gte(from));
    }
    if let Some(to) = params.given_to {
        d = d.add(dose::Column::DateGiven.lte(to));
    }
    if let PopulationRows::Patients { org } = grant.rows {
        d = d.add(dose::Column::AdministeredByOrgId.eq(org));
    }
    d
}

/// Whether a dose is one a lot recall looks for.
pub fn dose_matches_recall(
    grant: &PopulationGrant,
    params: &PopulationParams,
    d: &dose::Model,
) -> bool {
    params
        .lot_number
        .as_ref()
        .is_none_or(|l| d.lot_number.as_deref() == Some(l.trim()))
        && params.cvx.as_ref().is_none_or(|c| d.cvx == c.trim())
        && params
            .mvx
            .as_ref()
            .is_none_or(|m| d.mvx.as_deref() == Some(m.trim().to_uppercase().as_str()))
        && params.given_from.is_none_or(|f| d.date_given >= f)
        && params.given_to.is_none_or(|t| d.date_given <= t)
        && match grant.rows {
            PopulationRows::Patients { org } => d.administered_by_org_id == Some(org),
            _ => true,
        }
}

fn in_range(col: person::Column, lo: Option<Uuid>, hi: Option<Uuid>) -> Condition {
    let mut c = Condition::all();
    if let Some(lo) = lo {
        c = c.add(col.gte(lo));
    }
    if let Some(hi) = hi {
        c = c.add(col.lt(hi));
    }
    c
}

impl Store {
    /// The persons of `[lo, hi)` a job lists, with their doses, findings, guardians (when the
    /// grant carries contact), reminders within `reminded_since` and returned addresses: a
    /// handful of range statements per shard, whatever its size.
    #[allow(clippy::too_many_arguments)]
    pub async fn shard_input(
        &self,
        grant: &PopulationGrant,
        params: &PopulationParams,
        as_of: NaiveDate,
        lo: Option<Uuid>,
        hi: Option<Uuid>,
        reminded_since: Option<DateTime<Utc>>,
    ) -> Result<ShardInput, StoreError> {
        let cond = Condition::all()
            .add(in_range(person::Column::Id, lo, hi))
            .add(person_condition(grant, params, as_of));
        let selected = || {
            Query::select()
                .column(person::Column::Id)
                .from(person::Entity)
                .cond_where(cond.clone())
                .to_owned()
        };
        let persons = person::Entity::find()
            .filter(cond.clone())
            .order_by_asc(person::Column::Id)
            .all(&self.db)
            .await?;
        let mut input = ShardInput::default();
        if persons.is_empty() {
            return Ok(input);
        }
        for d in dose::Entity::find()
            .filter(dose::Column::PersonId.in_subquery(selected()))
            .order_by_asc(dose::Column::PersonId)
            .order_by_asc(dose::Column::DateGiven)
            .order_by_asc(dose::Column::RecordedAt)
            .all(&self.db)
            .await?
        {
            input.doses.entry(d.person_id).or_default().push(d);
        }
        for f in contraindication::Entity::find()
            .filter(contraindication::Column::PersonId.in_subquery(selected()))
            .order_by_asc(contraindication::Column::RecordedAt)
            .all(&self.db)
            .await?
        {
            input.findings.entry(f.person_id).or_default().push(f);
        }
        if grant.contact {
            let links = guardian_link::Entity::find()
                .filter(guardian_link::Column::PersonId.in_subquery(selected()))
                .filter(guardian_link::Column::VerifiedAt.is_not_null())
                .order_by_asc(guardian_link::Column::CreatedAt)
                .all(&self.db)
                .await?;
            let ids: HashSet<Uuid> = links.iter().map(|l| l.guardian_id).collect();
            let mut by_id: HashMap<Uuid, person::Model> = HashMap::new();
            let ids: Vec<Uuid> = ids.into_iter().collect();
            for chunk in ids.chunks(1000) {
                for g in person::Entity::find()
                    .filter(person::Column::Id.is_in(chunk.iter().copied()))
                    .filter(person::Column::Participation.eq(Participation::Participating))
                    .all(&self.db)
                    .await?
                {
                    by_id.insert(g.id, g);
                }
            }
            for l in links {
                if let Some(g) = by_id.get(&l.guardian_id) {
                    input
                        .guardians
                        .entry(l.person_id)
                        .or_insert_with(|| g.clone());
                }
            }
        }
        let mut notes = notification::Entity::find()
            .filter(notification::Column::PersonId.in_subquery(selected()));
        notes = notes.filter(
            Condition::any()
                .add(notification::Column::Outcome.eq(OUTCOME_RETURNED))
                .add(match reminded_since {
                    Some(since) => Condition::all()
                        .add(notification::Column::Outcome.eq(OUTCOME_SENT))
                        .add(notification::Column::At.gte(since)),
                    None => Condition::all().add(Expr::cust("1 = 0")),
                }),
        );
        for n in notes.all(&self.db).await? {
            if n.outcome == OUTCOME_RETURNED {
                if let Some(k) = n.address_key {
                    input.returned_addresses.insert(k);
                }
            } else {
                input.recently_reminded.insert(n.person_id);
            }
        }
        let zips: HashSet<String> = persons
            .iter()
            .filter_map(|p| p.postal_code.as_deref().map(|z| zip5(z).to_owned()))
            .collect();
        let zips: Vec<String> = zips.into_iter().collect();
        for chunk in zips.chunks(1000) {
            for z in zip_county::Entity::find()
                .filter(zip_county::Column::PostalCode.is_in(chunk.iter().cloned()))
                .all(&self.db)
                .await?
            {
                input.county_of_zip.insert(z.postal_code, z.county);
            }
        }
        if grant.kind == PopulationKind::Coverage {
            match params.group_by.as_deref() {
                Some("SCHOOL") => {
                    for e in enrollment::Entity::find()
                        .filter(enrollment::Column::PersonId.in_subquery(selected()))
                        .filter(enrollment::Column::SchoolYear.eq(policies::school_year_of(as_of)))
                        .all(&self.db)
                        .await?
                    {
                        input.school_of.insert(e.person_id, e.organization_id);
                    }
                }
                Some("PROVIDER") => {
                    for (p, ds) in &input.doses {
                        if let Some(org) = ds.iter().rev().find_map(|d| d.administered_by_org_id) {
                            input.provider_of.insert(*p, org);
                        }
                    }
                }
                _ => {}
            }
        }
        input.persons = persons;
        Ok(input)
    }

    /// Records reminders sent (a letter run) for `persons`, each with the address it went to.
    pub async fn record_reminders_sent(
        &self,
        access: &Access,
        job_id: Uuid,
        channel: &str,
        persons: &[(Uuid, Option<String>)],
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let now = Utc::now();
        let rows: Vec<notification::ActiveModel> = persons
            .iter()
            .map(|(p, key)| notification::ActiveModel {
                id: Set(Uuid::now_v7()),
                person_id: Set(*p),
                job_id: Set(Some(job_id)),
                channel: Set(channel.to_owned()),
                outcome: Set(OUTCOME_SENT.to_owned()),
                address_key: Set(key.clone()),
                at: Set(now),
                recorded_by: Set(access.principal.subject.clone()),
            })
            .collect();
        for chunk in rows.chunks(1000) {
            notification::Entity::insert_many(chunk.to_vec())
                .exec(&*txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Records returned mail for a person the caller may write to: their current address is
    /// bad until it changes. Logged as a write.
    pub async fn record_returned_mail(
        &self,
        access: &Access,
        person_id: Uuid,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write_for(access).await?;
        let p = person_for_write(&txn, access, person_id).await?;
        let key = address_key(&p)
            .ok_or_else(|| StoreError::Invalid("the person has no postal address".into()))?;
        notification::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(person_id),
            job_id: Set(None),
            channel: Set("MAIL".into()),
            outcome: Set(OUTCOME_RETURNED.into()),
            address_key: Set(Some(key)),
            at: Set(Utc::now()),
            recorded_by: Set(access.principal.subject.clone()),
        }
        .insert(&*txn)
        .await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![person_id],
                vec!["notifications".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The notification log of persons (newest first), for the roles that may see contact.
    pub async fn notifications_of(
        &self,
        person_id: Uuid,
    ) -> Result<Vec<notification::Model>, StoreError> {
        Ok(notification::Entity::find()
            .filter(notification::Column::PersonId.eq(person_id))
            .order_by_desc(notification::Column::At)
            .all(&self.db)
            .await?)
    }

    /// Puts `postal_codes` in `county` (registry reference data).
    pub async fn set_zip_counties(
        &self,
        county: &str,
        postal_codes: &[String],
    ) -> Result<(), StoreError> {
        let county = county.trim().to_uppercase();
        let txn = self.begin_write().await?;
        for z in postal_codes {
            let z = zip5(z).to_owned();
            zip_county::Entity::delete_by_id(z.clone())
                .exec(&*txn)
                .await?;
            zip_county::ActiveModel {
                postal_code: Set(z),
                county: Set(county.clone()),
            }
            .insert(&*txn)
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Sets the counties of a public-health organization's jurisdiction.
    pub async fn set_organization_counties(
        &self,
        org: Uuid,
        counties: &[String],
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        organization_county::Entity::delete_many()
            .filter(organization_county::Column::OrganizationId.eq(org))
            .exec(&*txn)
            .await?;
        let mut seen = HashSet::new();
        for c in counties {
            let c = c.trim().to_uppercase();
            if seen.insert(c.clone()) {
                organization_county::ActiveModel {
                    organization_id: Set(org),
                    county: Set(c),
                }
                .insert(&*txn)
                .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }
}

pub const OUTCOME_SENT: &str = "SENT";
pub const OUTCOME_RETURNED: &str = "RETURNED";
