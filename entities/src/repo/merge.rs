//! Merging two records of one person, and undoing it (issue 15). Registry staff only.
//!
//! A merge moves the duplicate's doses, contraindications, guardian links (both directions),
//! enrollments, memberships and identity rows to the survivor, folds the doses that are the
//! same dose by the registry's duplicate rules (`CodeSet::same_day`: same vaccine on the same
//! date, an unspecified CVX against a specific one of its group; the folded report's provenance
//! kept as a `MERGED` dose report, a combination and a single-antigen vaccine both kept), and
//! leaves the duplicate's row in place with `merged_into` set: outside every row scope, its id
//! resolving to the survivor. Everything it changed is written down (`person_merges.moved`), so
//! an unmerge restores exactly the state before.
//!
//! Consent: the most restrictive wins and nothing restrictive is lost. A lock on either record
//! locks the survivor (two locks to different providers: refused, staff decide); reminders stay
//! on only if both had them; a merge involving an opted-out record is refused (an opted-out
//! person is never a target that brings data back, and merging one into a participating record
//! would have to delete that record's data). Both persons' record versions change in the
//! merge's transaction, so no instance serves a cached copy of either afterwards.

use std::collections::HashSet;

use chrono::Utc;
use policies::RowScope;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::code_set::SameDay;
use crate::codes::{AccessAction, NameKind, Participation, PersonStatus, ReviewState};
use crate::db::WriteTxn;
use crate::model::{
    contraindication, dose, dose_report, enrollment, guardian_link, match_review, membership,
    person, person_address, person_identifier, person_merge, person_name, person_phone,
};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::resolve::{insert_name_returning, refresh_keys, NameInput};
use crate::{Access, Backend, Store, StoreError};

/// What a merge changed: enough to put it back.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Moved {
    survivor_before: Option<person::Model>,
    duplicate_before: Option<person::Model>,
    doses: Vec<Uuid>,
    dose_reports: Vec<Uuid>,
    /// Duplicate doses folded into a survivor dose, and their own reports, as they were.
    removed_doses: Vec<dose::Model>,
    removed_reports: Vec<dose_report::Model>,
    /// `MERGED` reports the fold added to survivor doses.
    added_reports: Vec<Uuid>,
    /// Survivor doses whose code the fold made more specific: (dose, code before).
    recoded: Vec<(Uuid, String)>,
    contraindications: Vec<Uuid>,
    links_as_person: Vec<Uuid>,
    links_as_guardian: Vec<Uuid>,
    enrollments: Vec<Uuid>,
    memberships: Vec<Uuid>,
    identifiers: Vec<Uuid>,
    names: Vec<Uuid>,
    addresses: Vec<Uuid>,
    phones: Vec<Uuid>,
    /// The duplicate's name, added to the survivor as an alias.
    added_names: Vec<Uuid>,
    /// Review items closed by the merge.
    reviews: Vec<Uuid>,
    /// Other persons whose cached record lists a moved link.
    linked: Vec<Uuid>,
}

fn staff_only(access: &Access) -> Result<(), StoreError> {
    if access.scope == RowScope::All {
        Ok(())
    } else {
        Err(StoreError::Forbidden("merge or unmerge persons"))
    }
}

async fn locked_person(txn: &WriteTxn, id: Uuid) -> Result<person::Model, StoreError> {
    let mut q = person::Entity::find_by_id(id);
    if Store::backend_of(&**txn) == Backend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(&**txn)
        .await?
        .ok_or_else(|| StoreError::not_found("person", id))
}

macro_rules! move_rows {
    ($txn:expr, $entity:ident, $col:ident, $ids:expr, $to:expr) => {
        if !$ids.is_empty() {
            $entity::Entity::update_many()
                .col_expr($entity::Column::$col, Expr::value($to))
                .filter($entity::Column::Id.is_in($ids.iter().copied()))
                .exec(&**$txn)
                .await?;
        }
    };
}

impl Store {
    /// Merges `duplicate` into `survivor` (registry staff). Returns the merge's id.
    pub async fn merge_persons(
        &self,
        access: &Access,
        survivor: Uuid,
        duplicate: Uuid,
    ) -> Result<person_merge::Model, StoreError> {
        staff_only(access)?;
        if survivor == duplicate {
            return Err(StoreError::Invalid(
                "a person is not merged into itself".into(),
            ));
        }
        let txn = self.begin_write_for(access).await?;
        let (first, second) = if survivor < duplicate {
            (survivor, duplicate)
        } else {
            (duplicate, survivor)
        };
        // Locked in id order, so two merges of one pair cannot deadlock.
        let a = locked_person(&txn, first).await?;
        let b = locked_person(&txn, second).await?;
        let (s, d) = if a.id == survivor { (a, b) } else { (b, a) };
        if s.merged_into.is_some() || d.merged_into.is_some() {
            return Err(StoreError::Conflict(
                "one of the persons is already merged into another".into(),
            ));
        }
        if s.participation == Participation::OptedOut || d.participation == Participation::OptedOut
        {
            return Err(StoreError::Conflict(
                "an opted-out person is not merged: settle the consent first".into(),
            ));
        }
        let lock = match (s.locked_to_org_id, d.locked_to_org_id) {
            (Some(x), Some(y)) if x != y => {
                return Err(StoreError::Conflict(
                    "the records are locked to different providers".into(),
                ))
            }
            (x, y) => x.or(y),
        };
        let mut moved = Moved {
            survivor_before: Some(s.clone()),
            duplicate_before: Some(d.clone()),
            ..Moved::default()
        };
        let (sid, did) = (s.id, d.id);
        txn.touch(sid);
        txn.touch(did);

        // The survivor takes the most restrictive consent and what it lacks.
        let mut m: person::ActiveModel = s.clone().into();
        m.locked_to_org_id = Set(lock);
        m.reminders = Set(s.reminders && d.reminders);
        if s.middle_name.is_none() {
            m.middle_name = Set(d.middle_name.clone());
        }
        if s.mother_maiden_name.is_none() {
            m.mother_maiden_name = Set(d.mother_maiden_name.clone());
        }
        if s.multiple_birth.is_none() {
            m.multiple_birth = Set(d.multiple_birth);
        }
        if s.birth_order.is_none() {
            m.birth_order = Set(d.birth_order);
        }
        if s.status == PersonStatus::Active && d.status != PersonStatus::Active {
            m.status = Set(d.status);
            m.status_date = Set(d.status_date);
        }
        if s.address_line1.is_none() && s.city.is_none() && s.postal_code.is_none() {
            m.address_line1 = Set(d.address_line1.clone());
            m.address_line2 = Set(d.address_line2.clone());
            m.city = Set(d.city.clone());
            m.state = Set(d.state.clone());
            m.postal_code = Set(d.postal_code.clone());
        }
        if s.phone.is_none() {
            m.phone = Set(d.phone.clone());
        }
        if s.email.is_none() {
            m.email = Set(d.email.clone());
        }
        m.updated_at = Set(Utc::now());
        m.update(&*txn).await?;

        // Doses, folding same-day duplicates by the registry's rules.
        let survivor_doses = dose::Entity::find()
            .filter(dose::Column::PersonId.eq(sid))
            .all(&*txn)
            .await?;
        let dup_doses = dose::Entity::find()
            .filter(dose::Column::PersonId.eq(did))
            .order_by_asc(dose::Column::RecordedAt)
            .all(&*txn)
            .await?;
        let dup_reports = dose_report::Entity::find()
            .filter(dose_report::Column::PersonId.eq(did))
            .all(&*txn)
            .await?;
        let mut kept: Vec<dose::Model> = survivor_doses;
        for dd in dup_doses {
            let fold = kept.iter_mut().find_map(|k| {
                (k.date_given == dd.date_given)
                    .then(|| match self.codes.same_day(&k.cvx, &dd.cvx) {
                        SameDay::Duplicate { keep_new } => Some((k, keep_new)),
                        _ => None,
                    })
                    .flatten()
            });
            match fold {
                Some((k, keep_new)) => {
                    let report_id = Uuid::now_v7();
                    dose_report::ActiveModel {
                        id: Set(report_id),
                        dose_id: Set(k.id),
                        person_id: Set(sid),
                        kind: Set(dose_report::MERGED.to_owned()),
                        cvx: Set(dd.cvx.clone()),
                        related_dose_id: Set(None),
                        reported_by_org_id: Set(dd.reported_by_org_id),
                        administered_by_org_id: Set(dd.administered_by_org_id),
                        recorded_by: Set(dd.recorded_by.clone()),
                        recorded_at: Set(dd.recorded_at),
                        request_id: Set(access.request_id.clone()),
                    }
                    .insert(&*txn)
                    .await?;
                    moved.added_reports.push(report_id);
                    if keep_new {
                        moved.recoded.push((k.id, k.cvx.clone()));
                        let mut km: dose::ActiveModel = k.clone().into();
                        km.cvx = Set(dd.cvx.clone());
                        *k = km.update(&*txn).await?;
                    }
                    moved
                        .removed_reports
                        .extend(dup_reports.iter().filter(|r| r.dose_id == dd.id).cloned());
                    dose::Entity::delete_by_id(dd.id).exec(&*txn).await?;
                    moved.removed_doses.push(dd);
                }
                None => {
                    moved.doses.push(dd.id);
                    kept.push(dose::Model {
                        person_id: sid,
                        ..dd
                    });
                }
            }
        }
        let removed: HashSet<Uuid> = moved.removed_doses.iter().map(|d| d.id).collect();
        moved.dose_reports = dup_reports
            .iter()
            .filter(|r| !removed.contains(&r.dose_id))
            .map(|r| r.id)
            .collect();
        move_rows!(&txn, dose, PersonId, moved.doses, sid);
        move_rows!(&txn, dose_report, PersonId, moved.dose_reports, sid);

        moved.contraindications = contraindication::Entity::find()
            .filter(contraindication::Column::PersonId.eq(did))
            .select_only()
            .column(contraindication::Column::Id)
            .into_tuple()
            .all(&*txn)
            .await?;
        move_rows!(
            &txn,
            contraindication,
            PersonId,
            moved.contraindications,
            sid
        );

        // Guardian links, both directions, unless the survivor already has the same one.
        let s_links = guardian_link::Entity::find()
            .filter(
                Condition::any()
                    .add(guardian_link::Column::PersonId.eq(sid))
                    .add(guardian_link::Column::GuardianId.eq(sid)),
            )
            .all(&*txn)
            .await?;
        let d_links = guardian_link::Entity::find()
            .filter(
                Condition::any()
                    .add(guardian_link::Column::PersonId.eq(did))
                    .add(guardian_link::Column::GuardianId.eq(did)),
            )
            .all(&*txn)
            .await?;
        for l in d_links {
            if l.person_id == did {
                let taken = l.guardian_id == sid
                    || s_links
                        .iter()
                        .any(|x| x.person_id == sid && x.guardian_id == l.guardian_id);
                if !taken {
                    moved.links_as_person.push(l.id);
                }
            } else {
                let taken = l.person_id == sid
                    || s_links
                        .iter()
                        .any(|x| x.guardian_id == sid && x.person_id == l.person_id);
                if !taken {
                    moved.links_as_guardian.push(l.id);
                    moved.linked.push(l.person_id);
                }
            }
        }
        move_rows!(&txn, guardian_link, PersonId, moved.links_as_person, sid);
        move_rows!(
            &txn,
            guardian_link,
            GuardianId,
            moved.links_as_guardian,
            sid
        );

        let s_enrollments = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(sid))
            .all(&*txn)
            .await?;
        moved.enrollments = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(did))
            .all(&*txn)
            .await?
            .into_iter()
            .filter(|e| {
                !s_enrollments.iter().any(|x| {
                    x.organization_id == e.organization_id && x.school_year == e.school_year
                })
            })
            .map(|e| e.id)
            .collect();
        move_rows!(&txn, enrollment, PersonId, moved.enrollments, sid);
        let s_memberships = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(sid))
            .all(&*txn)
            .await?;
        moved.memberships = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(did))
            .all(&*txn)
            .await?
            .into_iter()
            .filter(|m| {
                !s_memberships
                    .iter()
                    .any(|x| x.organization_id == m.organization_id)
            })
            .map(|m| m.id)
            .collect();
        move_rows!(&txn, membership, PersonId, moved.memberships, sid);

        macro_rules! all_ids {
            ($entity:ident) => {
                $entity::Entity::find()
                    .filter($entity::Column::PersonId.eq(did))
                    .select_only()
                    .column($entity::Column::Id)
                    .into_tuple::<Uuid>()
                    .all(&*txn)
                    .await?
            };
        }
        moved.identifiers = all_ids!(person_identifier);
        moved.names = all_ids!(person_name);
        moved.addresses = all_ids!(person_address);
        moved.phones = all_ids!(person_phone);
        move_rows!(&txn, person_identifier, PersonId, moved.identifiers, sid);
        move_rows!(&txn, person_name, PersonId, moved.names, sid);
        move_rows!(&txn, person_address, PersonId, moved.addresses, sid);
        move_rows!(&txn, person_phone, PersonId, moved.phones, sid);
        if !(d.first_name.eq_ignore_ascii_case(&s.first_name)
            && d.last_name.eq_ignore_ascii_case(&s.last_name))
        {
            let name = NameInput {
                first_name: Some(d.first_name.clone()),
                middle_name: d.middle_name.clone(),
                last_name: Some(d.last_name.clone()),
                suffix: None,
            };
            if let Some(id) =
                insert_name_returning(&*txn, sid, NameKind::Alias, &name, None).await?
            {
                moved.added_names.push(id);
            }
        }

        // The pair's open review items are settled by the merge.
        moved.reviews = match_review::Entity::find()
            .filter(match_review::Column::State.eq(ReviewState::Open))
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(match_review::Column::PersonId.eq(sid))
                            .add(match_review::Column::CandidateId.eq(did)),
                    )
                    .add(
                        Condition::all()
                            .add(match_review::Column::PersonId.eq(did))
                            .add(match_review::Column::CandidateId.eq(sid)),
                    ),
            )
            .select_only()
            .column(match_review::Column::Id)
            .into_tuple()
            .all(&*txn)
            .await?;
        if !moved.reviews.is_empty() {
            match_review::Entity::update_many()
                .col_expr(
                    match_review::Column::State,
                    Expr::value(ReviewState::Merged),
                )
                .col_expr(match_review::Column::ResolvedAt, Expr::value(Utc::now()))
                .col_expr(
                    match_review::Column::ResolvedBy,
                    Expr::value(access.principal.subject.clone()),
                )
                .filter(match_review::Column::Id.is_in(moved.reviews.iter().copied()))
                .exec(&*txn)
                .await?;
        }

        let mut dm: person::ActiveModel = d.clone().into();
        dm.merged_into = Set(Some(sid));
        dm.updated_at = Set(Utc::now());
        dm.update(&*txn).await?;
        for other in &moved.linked {
            txn.touch(*other);
        }
        refresh_keys(&*txn, sid).await?;
        refresh_keys(&*txn, did).await?;
        let record = person_merge::ActiveModel {
            id: Set(Uuid::now_v7()),
            survivor_id: Set(sid),
            duplicate_id: Set(did),
            merged_at: Set(Utc::now()),
            merged_by: Set(access.principal.subject.clone()),
            request_id: Set(access.request_id.clone()),
            moved: Set(
                serde_json::to_string(&moved).map_err(|e| StoreError::Corrupt(e.to_string()))?
            ),
            unmerged_at: Set(None),
            unmerged_by: Set(None),
        }
        .insert(&*txn)
        .await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Merge,
                vec![sid, did],
                vec!["Person.merge".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(record)
    }

    /// Undoes a merge (registry staff): both persons as they were before it.
    pub async fn unmerge_person(
        &self,
        access: &Access,
        merge: Uuid,
    ) -> Result<person_merge::Model, StoreError> {
        staff_only(access)?;
        let txn = self.begin_write_for(access).await?;
        let mut q = person_merge::Entity::find_by_id(merge);
        if Store::backend_of(&*txn) == Backend::Postgres {
            q = q.lock_exclusive();
        }
        let record = q
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::not_found("merge", merge))?;
        if record.unmerged_at.is_some() {
            return Err(StoreError::Conflict("the merge was already undone".into()));
        }
        let moved: Moved = serde_json::from_str(&record.moved)
            .map_err(|e| StoreError::Corrupt(format!("merge {merge}: {e}")))?;
        let (sid, did) = (record.survivor_id, record.duplicate_id);
        let (first, second) = if sid < did { (sid, did) } else { (did, sid) };
        let a = locked_person(&txn, first).await?;
        let b = locked_person(&txn, second).await?;
        let s = if a.id == sid { a } else { b };
        if s.merged_into.is_some() {
            return Err(StoreError::Conflict(
                "the survivor was merged into another person since: undo that merge first".into(),
            ));
        }
        if s.participation == Participation::OptedOut {
            return Err(StoreError::Conflict(
                "the survivor opted out since the merge: its data is gone".into(),
            ));
        }
        let (Some(s_before), Some(d_before)) = (moved.survivor_before, moved.duplicate_before)
        else {
            return Err(StoreError::Corrupt(format!(
                "merge {merge} has no prior state"
            )));
        };
        txn.touch(sid);
        txn.touch(did);
        for other in &moved.linked {
            txn.touch(*other);
        }
        // The survivor's row as before the merge (consent as it was then, the fields the
        // merge filled emptied again); the duplicate's as before, no longer merged.
        let mut sm = person::ActiveModel::from(s_before).reset_all();
        sm.updated_at = Set(Utc::now());
        sm.update(&*txn).await?;
        let mut dm = person::ActiveModel::from(d_before).reset_all();
        dm.merged_into = Set(None);
        dm.updated_at = Set(Utc::now());
        dm.update(&*txn).await?;

        if !moved.added_reports.is_empty() {
            dose_report::Entity::delete_many()
                .filter(dose_report::Column::Id.is_in(moved.added_reports.iter().copied()))
                .exec(&*txn)
                .await?;
        }
        for (id, cvx) in &moved.recoded {
            dose::Entity::update_many()
                .col_expr(dose::Column::Cvx, Expr::value(cvx.clone()))
                .filter(dose::Column::Id.eq(*id))
                .exec(&*txn)
                .await?;
        }
        move_rows!(&txn, dose, PersonId, moved.doses, did);
        move_rows!(&txn, dose_report, PersonId, moved.dose_reports, did);
        for d in moved.removed_doses {
            dose::Entity::insert(dose::ActiveModel::from(d).reset_all())
                .exec_without_returning(&*txn)
                .await?;
        }
        for r in moved.removed_reports {
            dose_report::Entity::insert(dose_report::ActiveModel::from(r).reset_all())
                .exec_without_returning(&*txn)
                .await?;
        }
        move_rows!(
            &txn,
            contraindication,
            PersonId,
            moved.contraindications,
            did
        );
        move_rows!(&txn, guardian_link, PersonId, moved.links_as_person, did);
        move_rows!(
            &txn,
            guardian_link,
            GuardianId,
            moved.links_as_guardian,
            did
        );
        move_rows!(&txn, enrollment, PersonId, moved.enrollments, did);
        move_rows!(&txn, membership, PersonId, moved.memberships, did);
        move_rows!(&txn, person_identifier, PersonId, moved.identifiers, did);
        move_rows!(&txn, person_name, PersonId, moved.names, did);
        move_rows!(&txn, person_address, PersonId, moved.addresses, did);
        move_rows!(&txn, person_phone, PersonId, moved.phones, did);
        if !moved.added_names.is_empty() {
            person_name::Entity::delete_many()
                .filter(person_name::Column::Id.is_in(moved.added_names.iter().copied()))
                .exec(&*txn)
                .await?;
        }
        if !moved.reviews.is_empty() {
            match_review::Entity::update_many()
                .col_expr(match_review::Column::State, Expr::value(ReviewState::Open))
                .col_expr(
                    match_review::Column::ResolvedAt,
                    Expr::value(Option::<chrono::DateTime<Utc>>::None),
                )
                .col_expr(
                    match_review::Column::ResolvedBy,
                    Expr::value(Option::<String>::None),
                )
                .filter(match_review::Column::Id.is_in(moved.reviews.iter().copied()))
                .exec(&*txn)
                .await?;
        }
        refresh_keys(&*txn, sid).await?;
        refresh_keys(&*txn, did).await?;
        let mut rm: person_merge::ActiveModel = record.into();
        rm.unmerged_at = Set(Some(Utc::now()));
        rm.unmerged_by = Set(Some(access.principal.subject.clone()));
        let record = rm.update(&*txn).await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Merge,
                vec![sid, did],
                vec!["Person.unmerge".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(record)
    }

    /// Open review items, oldest first (registry staff).
    pub async fn match_reviews(
        &self,
        access: &Access,
        state: ReviewState,
        first: u64,
    ) -> Result<Vec<match_review::Model>, StoreError> {
        staff_only(access)?;
        Ok(match_review::Entity::find()
            .filter(match_review::Column::State.eq(state))
            .filter(match_review::Column::PersonId.in_subquery(not_merged()))
            .order_by_asc(match_review::Column::CreatedAt)
            .order_by_asc(match_review::Column::Id)
            .limit(first)
            .all(&self.db)
            .await?)
    }

    /// Closes a review item as two different people (registry staff).
    pub async fn dismiss_review(
        &self,
        access: &Access,
        id: Uuid,
    ) -> Result<match_review::Model, StoreError> {
        staff_only(access)?;
        let txn = self.begin_write_for(access).await?;
        let row = match_review::Entity::find_by_id(id)
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::not_found("review", id))?;
        if row.state != ReviewState::Open {
            return Err(StoreError::Conflict("the review is not open".into()));
        }
        let persons = vec![row.person_id, row.candidate_id];
        let mut m: match_review::ActiveModel = row.into();
        m.state = Set(ReviewState::Dismissed);
        m.resolved_at = Set(Some(Utc::now()));
        m.resolved_by = Set(Some(access.principal.subject.clone()));
        let row = m.update(&*txn).await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(
                AccessAction::Write,
                persons,
                vec!["MatchReview.dismiss".into()],
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The merges a person took part in, newest first (registry staff).
    pub async fn merges_of(
        &self,
        access: &Access,
        person: Uuid,
    ) -> Result<Vec<person_merge::Model>, StoreError> {
        staff_only(access)?;
        Ok(person_merge::Entity::find()
            .filter(
                Condition::any()
                    .add(person_merge::Column::SurvivorId.eq(person))
                    .add(person_merge::Column::DuplicateId.eq(person)),
            )
            .order_by_desc(person_merge::Column::MergedAt)
            .all(&self.db)
            .await?)
    }
}

fn not_merged() -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .and_where(person::Column::MergedInto.is_null())
        .to_owned()
}
