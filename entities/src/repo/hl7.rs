//! Storage for the HL7 v2 interface (issue 16): facility identifiers, a VXU's content stored in
//! one transaction through the same de-duplication as `recordDose`, and the per-sender message
//! and finding counts of the data-quality report.
//!
//! A VXU acts for its sender (an organization with `dose:write`), but the person it names is
//! found by matching against the whole registry, not within the sender's row scope: a person
//! locked to another organization still gets the doses (the record stays complete) and the
//! sender is answered as for anyone else, learning nothing of the lock and gaining no read
//! access (nothing is read back to it). An opted-out person's doses are acknowledged and not
//! stored. Every ORDER group is checked before anything is written; a group in error is left
//! out and the others are stored; the whole message commits or nothing does.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::codes::{
    AccessAction, ContraindicationKind, Gender, IdentifierKind, Participation, SubmissionSource,
};
use crate::db::WriteTxn;
use crate::model::{
    contraindication, dose, dose_report, hl7_dose_detail, hl7_finding, hl7_message,
    organization_facility, person, person_identifier, vaccine_refusal,
};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::doses::{short, Placement, RecordOutcome};
use crate::repo::persons::{Contact, NewPerson};
use crate::repo::resolve::{IdentifierInput, Origin, Resolution, Submission};
use crate::{Access, Backend, Store, StoreError};

/// Longest facility identifier (MSH-4.1 is an IS of 20 in the guide; some states use longer
/// PINs).
pub const FACILITY_ID_CHARS: usize = 64;

/// A PID-3 identifier with its assigning authority and type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientIdentifier {
    pub id: String,
    pub authority: String,
    pub type_code: String,
}

/// The person a VXU describes (PID, with the mother's maiden name and birth order that
/// matching uses).
#[derive(Debug, Clone)]
pub struct PatientReport {
    pub identifiers: Vec<PatientIdentifier>,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub gender: Gender,
    pub mothers_maiden_name: Option<String>,
    pub multiple_birth: Option<bool>,
    pub birth_order: Option<u8>,
    pub contact: Contact,
}

/// RXA-21.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Add,
    Update,
    Delete,
}

/// RXA-20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// CP: complete.
    Complete,
    /// PA: partially administered (stored; the forecast judges it).
    Partial,
    /// NA: not administered (nothing stored).
    NotAdministered,
    /// RE: refused (a refusal is recorded, no dose).
    Refused,
}

impl Completion {
    pub fn code(self) -> &'static str {
        match self {
            Completion::Complete => "CP",
            Completion::Partial => "PA",
            Completion::NotAdministered => "NA",
            Completion::Refused => "RE",
        }
    }
}

/// A contraindication, precaution or evidence of immunity reported in an ORDER group's OBX.
#[derive(Debug, Clone)]
pub struct ReportedFinding {
    pub kind: ContraindicationKind,
    pub vaccine_group: Option<String>,
    /// The coded value as sent (code and system), kept as the reason.
    pub reason: String,
}

/// One ORDER group, already read from the message.
#[derive(Debug, Clone)]
pub struct ReportedDose {
    /// 1-based ORDER group number.
    pub order: usize,
    pub action: OrderAction,
    /// ORC-3 (with its namespace): the sender's id of the dose.
    pub filler_order: Option<String>,
    pub cvx: String,
    pub date_given: NaiveDate,
    pub mvx: Option<String>,
    pub lot_number: Option<String>,
    pub lot_expiration: Option<NaiveDate>,
    pub site: Option<String>,
    pub route: Option<String>,
    /// RXA-9 says historical (not administered by the sender).
    pub historical: bool,
    /// RXA-11.4 resolved to an organization, when it names a known facility.
    pub administered_at: Option<Uuid>,
    pub completion: Completion,
    pub refusal_reason: Option<String>,
    pub vfc_eligibility: Option<String>,
    /// VIS documents (JSON strings, one per document).
    pub vis: Vec<String>,
    pub findings: Vec<ReportedFinding>,
}

/// A VXU ready to be stored.
#[derive(Debug, Clone)]
pub struct VxuSubmission {
    pub control_id: String,
    pub patient: PatientReport,
    pub orders: Vec<ReportedDose>,
}

/// What became of the person a VXU named (from the identity engine's resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonOutcome {
    Matched,
    Created,
    /// Candidates exist that a person must review: the report was stored under a new record
    /// with a review item per candidate (issue 15's review queue).
    HeldForReview,
    /// Opted out: acknowledged, nothing stored.
    OptedOut,
}

/// What became of one ORDER group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderResult {
    Stored(Uuid),
    /// The same vaccine on the same day was already recorded: merged into that dose.
    Merged(Uuid),
    /// The same sender had already reported this order: nothing changed.
    AlreadyRecorded(Uuid),
    Updated(Uuid),
    Deleted,
    RefusalRecorded,
    NotAdministered,
    /// An update or delete of an order this sender never reported.
    UnknownOrder,
    /// The person opted out: acknowledged, not stored.
    NotStored,
    /// Refused for this reason; nothing of the group was stored.
    Rejected(String),
}

/// The outcome of a stored VXU.
#[derive(Debug, Clone)]
pub struct VxuResult {
    pub person: Option<Uuid>,
    pub person_outcome: PersonOutcome,
    pub orders: Vec<(usize, OrderResult)>,
}

/// One ERR as the data-quality report counts it.
#[derive(Debug, Clone)]
pub struct FindingRecord {
    pub severity: String,
    pub hl7_code: String,
    pub app_code: Option<String>,
    pub location: String,
}

/// A received message for the data-quality report.
#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub kind: String,
    pub ack_code: String,
    pub findings: Vec<FindingRecord>,
}

/// One line of the data-quality report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingCount {
    pub severity: String,
    pub hl7_code: String,
    pub app_code: Option<String>,
    pub location: String,
    pub count: u64,
}

/// A sender's data-quality report.
#[derive(Debug, Clone, Default)]
pub struct DataQuality {
    pub messages: u64,
    pub accepted: u64,
    pub with_errors: u64,
    pub rejected: u64,
    pub findings: Vec<FindingCount>,
}

/// The submission the identity engine resolves for a VXU's PID: names, birth date, sex and
/// contact, the mother's maiden name, multiple birth and birth order, and the PID-3 identifiers
/// with their assigning authorities (MR as MRNs, MA/MC as Medicaid ids, SS as an SSN, which
/// the engine keeps only as its keyed hash; other types as they are).
fn submission_of(patient: &PatientReport, person: NewPerson) -> Submission {
    let mut identifiers = Vec::new();
    let mut ssn = None;
    for i in &patient.identifiers {
        let (id, authority) = (i.id.trim(), i.authority.trim());
        if id.is_empty() {
            continue;
        }
        let kind = match i.type_code.trim() {
            "SS" => {
                ssn = Some(id.to_owned());
                continue;
            }
            "MR" => IdentifierKind::Mrn,
            "MA" | "MC" => IdentifierKind::Medicaid,
            _ => IdentifierKind::Other,
        };
        if authority.is_empty() {
            continue;
        }
        identifiers.push(IdentifierInput {
            kind,
            authority: authority.to_owned(),
            value: id.to_owned(),
        });
    }
    Submission {
        mother_maiden_name: patient.mothers_maiden_name.clone(),
        multiple_birth: patient.multiple_birth,
        birth_order: patient.birth_order.map(i16::from),
        identifiers,
        ssn,
        ..Submission::of(person)
    }
}

/// The deterministic step registries run before probabilistic matching: the one person who
/// holds an MRN of this submission from the same assigning authority and has the same
/// normalized family name, given name and birth date. A sender's resend of a patient it
/// already reported is that person whatever the score (the engine scores an exact repeat
/// without a middle name at about 3.3 bits, below its link threshold of 6.61).
async fn exact_match<C: ConnectionTrait>(
    conn: &C,
    sub: &Submission,
) -> Result<Option<person::Model>, StoreError> {
    let mut holders: Vec<Uuid> = Vec::new();
    for i in sub
        .identifiers
        .iter()
        .filter(|i| i.kind == IdentifierKind::Mrn)
    {
        let ids: Vec<Uuid> = person_identifier::Entity::find()
            .select_only()
            .column(person_identifier::Column::PersonId)
            .filter(person_identifier::Column::Kind.eq(IdentifierKind::Mrn))
            .filter(person_identifier::Column::Authority.eq(i.authority.trim()))
            .filter(person_identifier::Column::Value.eq(i.value.trim()))
            .limit(10)
            .into_tuple()
            .all(conn)
            .await?;
        holders.extend(ids);
    }
    holders.sort_unstable();
    holders.dedup();
    if holders.is_empty() {
        return Ok(None);
    }
    let key = crate::repo::persons::name_key;
    let rows = person::Entity::find()
        .filter(person::Column::Id.is_in(holders))
        .filter(person::Column::MergedInto.is_null())
        .filter(person::Column::LastNameKey.eq(key(&sub.person.last_name)))
        .filter(person::Column::FirstNameKey.eq(key(&sub.person.first_name)))
        .filter(person::Column::DateOfBirth.eq(sub.person.date_of_birth))
        .limit(2)
        .all(conn)
        .await?;
    Ok(match <[person::Model; 1]>::try_from(rows) {
        Ok([one]) => Some(one),
        Err(_) => None,
    })
}

impl Store {
    /// The organization a facility identifier names.
    pub async fn organization_by_facility(
        &self,
        facility_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let facility_id = facility_id.trim();
        if facility_id.is_empty() || facility_id.chars().count() > FACILITY_ID_CHARS {
            return Ok(None);
        }
        Ok(
            organization_facility::Entity::find_by_id(facility_id.to_owned())
                .one(&self.db)
                .await?
                .map(|f| f.organization_id),
        )
    }

    /// The facility identifiers of `orgs` (those that have one).
    pub async fn facility_ids(&self, orgs: &[Uuid]) -> Result<BTreeMap<Uuid, String>, StoreError> {
        if orgs.is_empty() {
            return Ok(BTreeMap::new());
        }
        Ok(organization_facility::Entity::find()
            .filter(organization_facility::Column::OrganizationId.is_in(orgs.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|f| (f.organization_id, f.facility_id))
            .collect())
    }

    /// Stores a VXU for its sender (`access.principal.org`) in one transaction, and the
    /// message's findings for the data-quality report with it.
    pub async fn submit_vxu(
        &self,
        access: &Access,
        submission: VxuSubmission,
        record: MessageRecord,
    ) -> Result<VxuResult, StoreError> {
        let sender = access.principal.org.ok_or(StoreError::Forbidden(
            "submit immunizations without acting for an organization",
        ))?;
        let patient = &submission.patient;
        let new_person = NewPerson {
            first_name: patient.first_name.clone(),
            middle_name: patient.middle_name.clone(),
            last_name: patient.last_name.clone(),
            date_of_birth: patient.date_of_birth,
            gender: patient.gender,
            contact: Some(patient.contact.clone()),
        };
        // Everything that can be refused is checked before the transaction begins.
        let checked: Vec<(usize, Result<ReportedDose, String>)> = submission
            .orders
            .iter()
            .map(|o| (o.order, self.check_order(access, patient, o)))
            .collect();
        let submission_person = submission_of(patient, new_person);

        let txn = self.begin_write_for(access).await?;
        // Patient matching (issue 15), in this transaction: the person and the doses commit
        // together or not at all.
        let resolution = match exact_match(&*txn, &submission_person).await? {
            Some(row) => Resolution::Matched {
                person: row.id,
                score: f64::INFINITY,
                stored: row.participation != Participation::OptedOut,
            },
            None => {
                self.resolve_in(
                    &txn,
                    access,
                    Origin::of(access, SubmissionSource::Hl7),
                    submission_person,
                )
                .await?
            }
        };
        let outcome = match &resolution {
            Resolution::Matched { stored: false, .. } => PersonOutcome::OptedOut,
            Resolution::Matched { .. } => PersonOutcome::Matched,
            Resolution::Created { .. } => PersonOutcome::Created,
            Resolution::Review { .. } => PersonOutcome::HeldForReview,
        };
        let id = resolution.person();
        txn.touch(id);
        let mut q = person::Entity::find_by_id(id);
        if Store::backend_of(&*txn) == Backend::Postgres {
            q = q.lock_exclusive();
        }
        let person = q
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::not_found("person", id))?;
        let mut fields: Vec<String> = Vec::new();
        let mut results = Vec::with_capacity(checked.len());
        if outcome == PersonOutcome::OptedOut || person.participation == Participation::OptedOut {
            for (n, _) in &checked {
                results.push((*n, OrderResult::NotStored));
            }
            append(
                &*txn,
                access,
                NewEntry {
                    reason: Some("person opted out: VXU acknowledged, not stored".into()),
                    ..NewEntry::allowed(
                        AccessAction::Write,
                        vec![person.id],
                        vec!["Hl7.vxu".into()],
                    )
                },
            )
            .await?;
            self.insert_message(&*txn, Some(sender), &record).await?;
            txn.commit().await?;
            return Ok(VxuResult {
                person: Some(person.id),
                person_outcome: PersonOutcome::OptedOut,
                orders: results,
            });
        }
        for (n, order) in checked {
            let result = match order {
                Err(why) => OrderResult::Rejected(why),
                Ok(order) => {
                    if order.date_given < person.date_of_birth
                        && order.completion != Completion::NotAdministered
                    {
                        OrderResult::Rejected("the dose is dated before the birth date".into())
                    } else {
                        self.store_order(&txn, access, sender, &person, &submission, order)
                            .await?
                    }
                }
            };
            let field = match &result {
                OrderResult::Stored(_) => Some("Dose.create"),
                OrderResult::Merged(_) => Some("Dose.merge"),
                OrderResult::Updated(_) => Some("Dose.update"),
                OrderResult::Deleted => Some("Dose.delete"),
                OrderResult::RefusalRecorded => Some("Refusal.create"),
                _ => None,
            };
            if let Some(f) = field {
                if !fields.iter().any(|x| x == f) {
                    fields.push(f.into());
                }
            }
            results.push((n, result));
        }
        fields.insert(0, "Hl7.vxu".into());
        append(
            &*txn,
            access,
            NewEntry::allowed(AccessAction::Write, vec![person.id], fields),
        )
        .await?;
        self.insert_message(&*txn, Some(sender), &record).await?;
        txn.commit().await?;
        Ok(VxuResult {
            person: Some(person.id),
            person_outcome: outcome,
            orders: results,
        })
    }

    /// The checks of one ORDER group that need no transaction: the vaccine is known, the
    /// date is not in the future, lengths fit, and an administered dose names no other
    /// organization than the sender (a historical one may name any).
    fn check_order(
        &self,
        access: &Access,
        _patient: &PatientReport,
        order: &ReportedDose,
    ) -> Result<ReportedDose, String> {
        let mut o = order.clone();
        let cvx = o.cvx.trim().to_owned();
        if self.codes.get(&cvx).is_none() {
            return Err("the vaccine (RXA-5) is not a known CVX code".into());
        }
        o.cvx = cvx;
        if o.date_given > access.today {
            return Err("the administration date (RXA-3) is in the future".into());
        }
        let fit = |field: &str, v: Option<&str>, max: usize| {
            short(field, v, max).map_err(|e| match e {
                StoreError::Invalid(m) => m,
                other => other.to_string(),
            })
        };
        o.mvx = fit("manufacturer", o.mvx.as_deref(), 8)?.map(|m| m.to_uppercase());
        o.lot_number = fit("lotNumber", o.lot_number.as_deref(), 60)?;
        o.site = fit("site", o.site.as_deref(), 60)?;
        o.route = fit("route", o.route.as_deref(), 60)?;
        o.filler_order = fit("filler order", o.filler_order.as_deref(), 199)?;
        if !o.historical {
            if let Some(at) = o.administered_at {
                if Some(at) != access.principal.org {
                    return Err(
                        "an administered dose (RXA-9 00) must name the sending facility in RXA-11"
                            .into(),
                    );
                }
            }
        }
        Ok(o)
    }

    /// Stores one checked ORDER group.
    async fn store_order(
        &self,
        txn: &WriteTxn,
        access: &Access,
        sender: Uuid,
        person: &person::Model,
        submission: &VxuSubmission,
        order: ReportedDose,
    ) -> Result<OrderResult, StoreError> {
        let vaccine = match self.codes.get(&order.cvx) {
            Some(v) => v.clone(),
            None => {
                return Ok(OrderResult::Rejected(
                    "the vaccine (RXA-5) is not a known CVX code".into(),
                ))
            }
        };
        // Contraindications, precautions and immunity ride on any group, dose or not.
        for f in &order.findings {
            let exists = contraindication::Entity::find()
                .filter(contraindication::Column::PersonId.eq(person.id))
                .filter(contraindication::Column::Kind.eq(f.kind))
                .filter(contraindication::Column::Reason.eq(f.reason.clone()))
                .count(&**txn)
                .await?;
            if exists == 0 {
                contraindication::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    person_id: Set(person.id),
                    kind: Set(f.kind),
                    vaccine_group: Set(f.vaccine_group.clone()),
                    reason: Set(Some(f.reason.clone())),
                    recorded_at: Set(Utc::now()),
                    expires_on: Set(None),
                    recorded_by: Set(access.principal.subject.clone()),
                    documented_by: Set(None),
                    disease_on: Set(None),
                }
                .insert(&**txn)
                .await?;
            }
        }
        let existing = match &order.filler_order {
            Some(filler) => {
                hl7_dose_detail::Entity::find()
                    .filter(hl7_dose_detail::Column::SenderOrgId.eq(sender))
                    .filter(hl7_dose_detail::Column::FillerOrder.eq(filler.clone()))
                    .filter(hl7_dose_detail::Column::PersonId.eq(person.id))
                    .one(&**txn)
                    .await?
            }
            None => None,
        };
        match (order.action, order.completion) {
            (OrderAction::Delete, _) => {
                let Some(detail) = existing else {
                    return Ok(OrderResult::UnknownOrder);
                };
                // Only what this sender reported goes: a dose others also reported (merged
                // into it) stays, without this sender's details.
                let others = dose_report::Entity::find()
                    .filter(dose_report::Column::DoseId.eq(detail.dose_id))
                    .filter(dose_report::Column::ReportedByOrgId.ne(sender))
                    .count(&**txn)
                    .await?;
                hl7_dose_detail::Entity::delete_by_id(detail.dose_id)
                    .exec(&**txn)
                    .await?;
                if others == 0 {
                    dose_report::Entity::delete_many()
                        .filter(dose_report::Column::DoseId.eq(detail.dose_id))
                        .exec(&**txn)
                        .await?;
                    dose::Entity::delete_many()
                        .filter(dose::Column::Id.eq(detail.dose_id))
                        .filter(dose::Column::ReportedByOrgId.eq(sender))
                        .exec(&**txn)
                        .await?;
                }
                Ok(OrderResult::Deleted)
            }
            (_, Completion::NotAdministered) => Ok(OrderResult::NotAdministered),
            (_, Completion::Refused) => {
                let exists = vaccine_refusal::Entity::find()
                    .filter(vaccine_refusal::Column::PersonId.eq(person.id))
                    .filter(vaccine_refusal::Column::Cvx.eq(vaccine.cvx.clone()))
                    .filter(vaccine_refusal::Column::RefusedOn.eq(order.date_given))
                    .count(&**txn)
                    .await?;
                if exists == 0 {
                    vaccine_refusal::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        person_id: Set(person.id),
                        cvx: Set(vaccine.cvx.clone()),
                        refused_on: Set(order.date_given),
                        reason: Set(order.refusal_reason.clone()),
                        reported_by_org_id: Set(Some(sender)),
                        recorded_at: Set(Utc::now()),
                    }
                    .insert(&**txn)
                    .await?;
                }
                Ok(OrderResult::RefusalRecorded)
            }
            (OrderAction::Update, _) if existing.is_some() => {
                let detail = existing.unwrap_or_else(|| unreachable!("checked by the guard"));
                let Some(row) = dose::Entity::find_by_id(detail.dose_id).one(&**txn).await? else {
                    return Ok(OrderResult::UnknownOrder);
                };
                let id = row.id;
                let mut m: dose::ActiveModel = row.into();
                m.cvx = Set(vaccine.cvx.clone());
                m.date_given = Set(order.date_given);
                m.mvx = Set(order.mvx.clone());
                m.lot_number = Set(order.lot_number.clone());
                m.site = Set(order.site.clone());
                m.route = Set(order.route.clone());
                m.update(&**txn).await?;
                let mut d: hl7_dose_detail::ActiveModel = detail.into();
                d.historical = Set(order.historical);
                d.completion_status = Set(order.completion.code().into());
                d.lot_expiration = Set(order.lot_expiration);
                d.vfc_eligibility = Set(order.vfc_eligibility.clone());
                d.vis = Set(vis_json(&order.vis));
                d.control_id = Set(submission.control_id.clone());
                d.update(&**txn).await?;
                Ok(OrderResult::Updated(id))
            }
            (_, _) => {
                if let Some(detail) = existing {
                    return Ok(OrderResult::AlreadyRecorded(detail.dose_id));
                }
                let administered_by = if order.historical {
                    order.administered_at
                } else {
                    Some(sender)
                };
                let placed = self
                    .place_dose(
                        txn,
                        access,
                        person,
                        &vaccine,
                        Placement {
                            date_given: order.date_given,
                            mvx: order.mvx.clone(),
                            lot_number: order.lot_number.clone(),
                            site: order.site.clone(),
                            route: order.route.clone(),
                            administered_by,
                        },
                    )
                    .await?;
                let (dose_id, result) = match placed {
                    RecordOutcome::Stored(d) => (d.id, OrderResult::Stored(d.id)),
                    RecordOutcome::Duplicate(d) => (d.id, OrderResult::Merged(d.id)),
                    RecordOutcome::NotStored => return Ok(OrderResult::NotStored),
                };
                let has_detail = hl7_dose_detail::Entity::find_by_id(dose_id)
                    .one(&**txn)
                    .await?
                    .is_some();
                if !has_detail {
                    hl7_dose_detail::ActiveModel {
                        dose_id: Set(dose_id),
                        person_id: Set(person.id),
                        sender_org_id: Set(Some(sender)),
                        filler_order: Set(order.filler_order.clone()),
                        historical: Set(order.historical),
                        completion_status: Set(order.completion.code().into()),
                        lot_expiration: Set(order.lot_expiration),
                        vfc_eligibility: Set(order.vfc_eligibility.clone()),
                        vis: Set(vis_json(&order.vis)),
                        control_id: Set(submission.control_id.clone()),
                        recorded_at: Set(Utc::now()),
                    }
                    .insert(&**txn)
                    .await?;
                }
                Ok(result)
            }
        }
    }

    async fn insert_message<C: ConnectionTrait>(
        &self,
        conn: &C,
        sender: Option<Uuid>,
        record: &MessageRecord,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let id = Uuid::now_v7();
        let count = |s: &str| record.findings.iter().filter(|f| f.severity == s).count() as i32;
        hl7_message::ActiveModel {
            id: Set(id),
            organization_id: Set(sender),
            kind: Set(record.kind.chars().take(8).collect()),
            ack_code: Set(record.ack_code.chars().take(2).collect()),
            errors: Set(count("E")),
            warnings: Set(count("W")),
            received_at: Set(now),
        }
        .insert(conn)
        .await?;
        if !record.findings.is_empty() {
            let rows = record.findings.iter().map(|f| hl7_finding::ActiveModel {
                id: Set(Uuid::now_v7()),
                message_id: Set(id),
                organization_id: Set(sender),
                severity: Set(f.severity.chars().take(1).collect()),
                hl7_code: Set(f.hl7_code.chars().take(4).collect()),
                app_code: Set(f.app_code.as_ref().map(|c| c.chars().take(2).collect())),
                location: Set(f.location.chars().take(40).collect()),
                received_at: Set(now),
            });
            hl7_finding::Entity::insert_many(rows).exec(conn).await?;
        }
        Ok(())
    }

    /// Records a message that stored nothing (a rejection, a query) for the data-quality
    /// report.
    pub async fn record_hl7_message(
        &self,
        sender: Option<Uuid>,
        record: MessageRecord,
    ) -> Result<(), StoreError> {
        // Through the write path: on SQLite a write outside it would make a concurrent write
        // transaction fail instead of wait.
        let txn = self.begin_write().await?;
        self.insert_message(&*txn, sender, &record).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The data-quality report of one sender: messages by acknowledgement code, and findings
    /// counted by severity, code and location, most frequent first.
    pub async fn data_quality(&self, org: Uuid) -> Result<DataQuality, StoreError> {
        let messages: Vec<(String, i64)> = hl7_message::Entity::find()
            .select_only()
            .column(hl7_message::Column::AckCode)
            .column_as(hl7_message::Column::Id.count(), "n")
            .filter(hl7_message::Column::OrganizationId.eq(org))
            .group_by(hl7_message::Column::AckCode)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut report = DataQuality::default();
        for (code, n) in messages {
            let n = n.max(0) as u64;
            report.messages += n;
            match code.as_str() {
                "AA" => report.accepted += n,
                "AE" => report.with_errors += n,
                _ => report.rejected += n,
            }
        }
        let rows: Vec<(String, String, Option<String>, String, i64)> = hl7_finding::Entity::find()
            .select_only()
            .column(hl7_finding::Column::Severity)
            .column(hl7_finding::Column::Hl7Code)
            .column(hl7_finding::Column::AppCode)
            .column(hl7_finding::Column::Location)
            .column_as(hl7_finding::Column::Id.count(), "n")
            .filter(hl7_finding::Column::OrganizationId.eq(org))
            .group_by(hl7_finding::Column::Severity)
            .group_by(hl7_finding::Column::Hl7Code)
            .group_by(hl7_finding::Column::AppCode)
            .group_by(hl7_finding::Column::Location)
            .into_tuple()
            .all(&self.db)
            .await?;
        report.findings = rows
            .into_iter()
            .map(|(severity, hl7_code, app_code, location, n)| FindingCount {
                severity,
                hl7_code,
                app_code,
                location,
                count: n.max(0) as u64,
            })
            .collect();
        report.findings.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.location.cmp(&b.location))
                .then_with(|| a.hl7_code.cmp(&b.hl7_code))
        });
        Ok(report)
    }

    /// Refusals recorded for a visible person (row scope applied).
    pub async fn refusals_for(
        &self,
        access: &Access,
        person_id: Uuid,
    ) -> Result<Vec<vaccine_refusal::Model>, StoreError> {
        if self.persons_by_ids(access, &[person_id]).await?.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vaccine_refusal::Entity::find()
            .filter(vaccine_refusal::Column::PersonId.eq(person_id))
            .all(&self.db)
            .await?)
    }

    /// The HL7 details of a visible person's doses, by dose id (row scope applied).
    pub async fn hl7_dose_details_for(
        &self,
        access: &Access,
        person_id: Uuid,
    ) -> Result<BTreeMap<Uuid, hl7_dose_detail::Model>, StoreError> {
        if self.persons_by_ids(access, &[person_id]).await?.is_empty() {
            return Ok(BTreeMap::new());
        }
        Ok(hl7_dose_detail::Entity::find()
            .filter(hl7_dose_detail::Column::PersonId.eq(person_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| (d.dose_id, d))
            .collect())
    }
}

fn vis_json(vis: &[String]) -> Option<String> {
    (!vis.is_empty()).then(|| serde_json::to_string(vis).unwrap_or_default())
}
