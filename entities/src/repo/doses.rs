//! Doses: batch reads and recording with duplicate merging.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::code_set::SameDay;
use crate::codes::AccessAction;
use crate::db::WriteTxn;
use crate::model::{dose, dose_report, organization, person};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::persons::Lookup;
use crate::repo::records::CHUNK;
use crate::repo::visible::scoped_person_ids;
use crate::repo::write_guard::{person_or_opt_out, WriteTarget};
use crate::{Access, Store, StoreError, Vaccine};
use policies::RowScope;

/// A dose as submitted.
#[derive(Debug, Clone)]
pub struct NewDose {
    pub person_id: Uuid,
    pub cvx: String,
    pub date_given: NaiveDate,
    pub mvx: Option<String>,
    pub lot_number: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub administered_by: Option<Uuid>,
}

/// A validated dose ready to be placed in a person's history (see [`Store::place_dose`]).
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    pub date_given: NaiveDate,
    pub mvx: Option<String>,
    pub lot_number: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub administered_by: Option<Uuid>,
}

/// What happened to a submitted dose.
#[derive(Debug, Clone)]
pub enum RecordOutcome {
    Stored(dose::Model),
    /// The same vaccine for the same person on the same date: the dose it was merged into.
    Duplicate(dose::Model),
    /// The person opted out: acknowledged, nothing stored.
    NotStored,
}

impl RecordOutcome {
    /// The access-log field of this outcome.
    pub(crate) fn log_field(&self) -> &'static str {
        match self {
            RecordOutcome::Stored(_) => "Dose.create",
            RecordOutcome::Duplicate(_) => "Dose.merge",
            RecordOutcome::NotStored => "Dose.notStored",
        }
    }
}

pub(crate) fn short(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, StoreError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max => Err(StoreError::Invalid(format!(
            "{field} is longer than {max} characters"
        ))),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// The result of a fetch of one dose by id: its person's fetch by id decides.
#[derive(Debug, Clone)]
pub enum DoseLookup {
    Found(Box<dose::Model>),
    /// The dose's person is locked to another provider. Carries no data but whose record it is,
    /// for the denial's access-log entry.
    Locked {
        person: Uuid,
    },
    NotFound,
}

impl Store {
    /// One dose, under exactly the rule of [`Store::person`] for its person: hidden records
    /// are not found, a record locked to another provider is reported locked.
    pub async fn dose(&self, access: &Access, id: Uuid) -> Result<DoseLookup, StoreError> {
        Ok(self
            .doses_lookup(access, &[id])
            .await?
            .remove(&id)
            .unwrap_or(DoseLookup::NotFound))
    }

    /// [`Store::dose`] for many ids in one batch (federation references): one scoped query
    /// for the doses, one batched lookup of their persons; every id gets an answer.
    pub async fn doses_lookup(
        &self,
        access: &Access,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, DoseLookup>, StoreError> {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            rows.extend(
                dose::Entity::find()
                    .filter(dose::Column::Id.is_in(chunk.iter().copied()))
                    .filter(dose::Column::PersonId.in_subquery(scoped_person_ids(&access.scope)))
                    .all(&self.db)
                    .await?,
            );
        }
        let person_ids: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
        let persons = self.persons_lookup(access, &person_ids).await?;
        let mut out: HashMap<Uuid, DoseLookup> =
            ids.iter().map(|id| (*id, DoseLookup::NotFound)).collect();
        for row in rows {
            let (id, person) = (row.id, row.person_id);
            let lookup = match persons.get(&person) {
                Some(Lookup::Found(_)) => DoseLookup::Found(Box::new(row)),
                Some(Lookup::Locked) => DoseLookup::Locked { person },
                Some(Lookup::NotFound) | None => DoseLookup::NotFound,
            };
            out.insert(id, lookup);
        }
        Ok(out)
    }

    /// Doses of the visible persons among `person_ids`, oldest first.
    pub async fn doses_for(
        &self,
        access: &Access,
        person_ids: &[Uuid],
    ) -> Result<Vec<dose::Model>, StoreError> {
        self.relation_of(access, person_ids, |r| &r.doses).await
    }

    /// Records a dose. Validation failures write nothing; an opted-out person's dose is
    /// acknowledged and dropped (to a writer who could write to them otherwise; to anyone
    /// else the person does not exist); a duplicate is merged into the dose it duplicates,
    /// keeping the report's provenance.
    pub async fn record_dose(
        &self,
        access: &Access,
        input: NewDose,
    ) -> Result<RecordOutcome, StoreError> {
        let vaccine = self
            .codes
            .get(input.cvx.trim())
            .ok_or_else(|| StoreError::Invalid(format!("unknown CVX code `{}`", input.cvx)))?
            .clone();
        if input.date_given > access.today {
            return Err(StoreError::Invalid(
                "dateGiven must not be in the future".into(),
            ));
        }
        let mvx = short("manufacturer", input.mvx.as_deref(), 8)?.map(|m| m.to_uppercase());
        let lot = short("lotNumber", input.lot_number.as_deref(), 60)?;
        let site = short("site", input.site.as_deref(), 60)?;
        let route = short("route", input.route.as_deref(), 60)?;
        // A dose is the writer's own organization's unless registry staff record it for
        // another: a clinic cannot attribute its report to a school or another clinic.
        let staff = access.scope == RowScope::All;
        if let Some(org) = input.administered_by {
            if !staff && Some(org) != access.principal.org {
                return Err(StoreError::Forbidden(
                    "record a dose as administered by another organization (administeredById)",
                ));
            }
        }

        let txn = self.begin_write_for(access).await?;
        let person = match person_or_opt_out(&txn, access, input.person_id).await? {
            WriteTarget::Writable(person) => *person,
            WriteTarget::OptedOut => {
                append(
                    &*txn,
                    access,
                    NewEntry {
                        reason: Some("person opted out: dose acknowledged, not stored".into()),
                        ..NewEntry::allowed(AccessAction::Write, vec![input.person_id], vec![])
                    },
                )
                .await?;
                txn.commit().await?;
                return Ok(RecordOutcome::NotStored);
            }
        };
        if input.date_given < person.date_of_birth {
            return Err(StoreError::Invalid(
                "dateGiven is before the person's date of birth".into(),
            ));
        }
        let administered_by = match input.administered_by {
            Some(org) => {
                organization::Entity::find_by_id(org)
                    .one(&*txn)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "administeredById {org} is not an organization"
                        ))
                    })?;
                Some(org)
            }
            None => access.principal.org,
        };
        let placed = self
            .place_dose(
                &txn,
                access,
                &person,
                &vaccine,
                Placement {
                    date_given: input.date_given,
                    mvx,
                    lot_number: lot,
                    site,
                    route,
                    administered_by,
                },
            )
            .await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                vec![person.id],
                vec![placed.log_field().into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(placed)
    }

    /// Stores a validated dose for `person` inside `txn` (the person already loaded for the
    /// write): a duplicate of a dose of the same day is merged into it with the report's
    /// provenance, a dose sharing only some antigens with one of the same day is stored and
    /// both are flagged. The caller appends the access-log entry and commits; `recordDose` and
    /// a VXU's ORDER groups both come through here.
    pub(crate) async fn place_dose(
        &self,
        txn: &WriteTxn,
        access: &Access,
        person: &person::Model,
        vaccine: &Vaccine,
        input: Placement,
    ) -> Result<RecordOutcome, StoreError> {
        let same_day = dose::Entity::find()
            .filter(dose::Column::PersonId.eq(person.id))
            .filter(dose::Column::DateGiven.eq(input.date_given))
            .order_by_asc(dose::Column::RecordedAt)
            .all(&**txn)
            .await?;
        let report = |dose_id: Uuid, kind: &str, related: Option<Uuid>| dose_report::ActiveModel {
            id: Set(Uuid::now_v7()),
            dose_id: Set(dose_id),
            person_id: Set(person.id),
            kind: Set(kind.to_owned()),
            cvx: Set(vaccine.cvx.clone()),
            related_dose_id: Set(related),
            reported_by_org_id: Set(access.principal.org),
            administered_by_org_id: Set(input.administered_by),
            recorded_by: Set(access.principal.subject.clone()),
            recorded_at: Set(Utc::now()),
            request_id: Set(access.request_id.clone()),
        };
        let mut shares_antigens = Vec::new();
        for existing in same_day {
            match self.codes.same_day(&existing.cvx, &vaccine.cvx) {
                SameDay::Duplicate { keep_new } => {
                    // Merged, not stored twice: the report's provenance (and, when it names
                    // the specific vaccine of an unspecified one, its code) joins the dose.
                    report(existing.id, dose_report::MERGED, None)
                        .insert(&**txn)
                        .await?;
                    let merged = if keep_new {
                        let mut m: dose::ActiveModel = existing.into();
                        m.cvx = Set(vaccine.cvx.clone());
                        m.update(&**txn).await?
                    } else {
                        existing
                    };
                    return Ok(RecordOutcome::Duplicate(merged));
                }
                SameDay::SharesAntigens => shares_antigens.push(existing.id),
                SameDay::Unrelated => {}
            }
        }
        let row = dose::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(person.id),
            cvx: Set(vaccine.cvx.clone()),
            date_given: Set(input.date_given),
            mvx: Set(input.mvx),
            lot_number: Set(input.lot_number),
            site: Set(input.site),
            route: Set(input.route),
            administered_by_org_id: Set(input.administered_by),
            reported_by_org_id: Set(access.principal.org),
            recorded_by: Set(access.principal.subject.clone()),
            recorded_at: Set(Utc::now()),
        }
        .insert(&**txn)
        .await?;
        // Both doses are kept (no reported antigen is lost) and each is flagged for data
        // quality, naming the other.
        for other in shares_antigens {
            report(row.id, dose_report::SHARES_ANTIGENS, Some(other))
                .insert(&**txn)
                .await?;
        }
        Ok(RecordOutcome::Stored(row))
    }
}
