//! Resolving a submitted person (a `createPerson` input, an HL7 PID, a birth-file line) to
//! the one person the registry holds, or to a new one — issue 15's "one person, one record".
//!
//! One transaction per submission: the submission's blocking keys are locked (PostgreSQL
//! advisory locks, in key order; SQLite's single writer does the same), candidates sharing a
//! key are read in one indexed statement, the engine decides each pair, then
//! - `Match` with exactly one candidate: the submission is *linked* to it (new identifiers,
//!   aliases, address and phone history added; the person's blocking keys refreshed);
//! - otherwise any `Match` or `Possible`: a new person is created and a review item opened for
//!   each such candidate (two `Match` candidates are never resolved by picking one);
//! - nothing: a new person.
//!
//! Nothing here ever joins two stored persons: only registry staff's merge does
//! (`repo::merge`).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::codes::{
    AccessAction, IdentifierKind, NameKind, Participation, PersonStatus, ReviewState,
    SubmissionSource,
};
use crate::db::WriteTxn;
use crate::matching::{engine_kind, record_of, stored_keys, StoredIdentity};
use crate::model::{
    guardian_link, match_review, person, person_address, person_blocking_key, person_identifier,
    person_name, person_phone,
};
use crate::repo::access_log::{append, NewEntry};
use crate::repo::persons::{insert_person, NewPerson};
use crate::repo::write_guard::person_for_write;
use crate::scope_sql::{person_condition, Locks};
use crate::{Access, Backend, Store, StoreError};

/// Candidates read per submission: the persons sharing the most keys with it. A bucket larger
/// than this (a common name born on a busy day) is cut, never scanned whole.
pub const MAX_CANDIDATES: u64 = 200;

/// A name as submitted (an alias, a previous name, a guardian's name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameInput {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub suffix: Option<String>,
}

/// An identifier from another system as submitted: an MRN with its assigning authority (an
/// HL7 CX-4 namespace, or the submitting organization's id), a Medicaid id (authority: the
/// state program).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierInput {
    pub kind: IdentifierKind,
    pub authority: String,
    pub value: String,
}

/// What a submission says about a person.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Name, birth date, gender and current contact, validated as `createPerson`'s.
    pub person: NewPerson,
    pub suffix: Option<String>,
    pub mother_maiden_name: Option<String>,
    pub multiple_birth: Option<bool>,
    /// Order in a multiple birth (1, 2, …).
    pub birth_order: Option<i16>,
    pub aliases: Vec<NameInput>,
    pub identifiers: Vec<IdentifierInput>,
    /// A Social Security number in clear: kept only as its keyed hash when the store has an
    /// SSN key ([`Store::with_ssn_key`]), dropped otherwise; never stored or logged as given.
    pub ssn: Option<String>,
    /// Parents or guardians named on the submission: evidence for matching, not stored here.
    pub guardians: Vec<NameInput>,
}

impl Submission {
    /// A submission of demographics alone.
    pub fn of(person: NewPerson) -> Submission {
        Submission {
            person,
            suffix: None,
            mother_maiden_name: None,
            multiple_birth: None,
            birth_order: None,
            aliases: Vec::new(),
            identifiers: Vec::new(),
            ssn: None,
            guardians: Vec::new(),
        }
    }
}

/// Where a submission came from: the channel, and the submitting organization (recorded as the
/// reporter of identifiers, names, addresses and phones, and on review items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub source: SubmissionSource,
    pub organization: Option<Uuid>,
}

impl Origin {
    /// The caller's own organization as the submitter.
    pub fn of(access: &Access, source: SubmissionSource) -> Origin {
        Origin {
            source,
            organization: access.principal.org,
        }
    }
}

/// How a submission was resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Linked to an existing person. `stored` is false when that person opted out: nothing
    /// of the submission was kept (an opted-out person is never brought data back).
    Matched {
        person: Uuid,
        score: f64,
        stored: bool,
    },
    /// A new person; nothing in the registry resembled them.
    Created { person: Uuid },
    /// A new person, with a review item per candidate it may be (`(review id, candidate)`).
    Review {
        person: Uuid,
        reviews: Vec<(Uuid, Uuid)>,
    },
}

impl Resolution {
    /// The person the submission now belongs to.
    pub fn person(&self) -> Uuid {
        match self {
            Resolution::Matched { person, .. }
            | Resolution::Created { person }
            | Resolution::Review { person, .. } => *person,
        }
    }
}

/// A scored candidate of [`Store::match_candidates`].
#[derive(Debug, Clone)]
pub struct Candidate {
    pub person: person::Model,
    pub decision: identity::Decision,
    pub score: f64,
    /// The guard that capped the decision, if one did (e.g. `MultipleBirthOrder`).
    pub guard: Option<identity::Guard>,
}

fn name_record(n: &NameInput) -> identity::PersonName {
    identity::PersonName {
        given: n.first_name.clone(),
        middle: n.middle_name.clone(),
        family: n.last_name.clone(),
        suffix: n.suffix.clone(),
    }
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A submission's identifiers, cleaned (blank ones dropped, lengths checked), with the SSN
/// replaced by its keyed hash.
fn clean_identifiers(
    sub: &Submission,
    ssn_key: Option<&identity::SsnKey>,
) -> Result<Vec<IdentifierInput>, StoreError> {
    let mut out: Vec<IdentifierInput> = Vec::new();
    for i in &sub.identifiers {
        let (authority, value) = (i.authority.trim(), i.value.trim());
        if value.is_empty() {
            continue;
        }
        if authority.chars().count() > 100 || value.chars().count() > 100 {
            return Err(StoreError::Invalid(
                "an identifier or its authority is longer than 100 characters".into(),
            ));
        }
        if i.kind == IdentifierKind::SsnHash {
            return Err(StoreError::Invalid(
                "an SSN is given as ssn, never as a hash".into(),
            ));
        }
        let id = IdentifierInput {
            kind: i.kind,
            authority: authority.to_owned(),
            value: value.to_owned(),
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if let (Some(ssn), Some(key)) = (sub.ssn.as_deref(), ssn_key) {
        if let Some(h) = key.identifier(ssn) {
            out.push(IdentifierInput {
                kind: IdentifierKind::SsnHash,
                authority: h.authority,
                value: h.value,
            });
        }
    }
    Ok(out)
}

/// The engine's record of a submission (its identifiers already cleaned).
fn submission_record(sub: &Submission, identifiers: &[IdentifierInput]) -> identity::PersonRecord {
    let p = &sub.person;
    let c = p.contact.clone().unwrap_or_default();
    let address = identity::Address {
        street: trimmed(&c.address_line1),
        street2: trimmed(&c.address_line2),
        city: trimmed(&c.city),
        state: trimmed(&c.state),
        zip: trimmed(&c.postal_code),
    };
    identity::PersonRecord {
        name: identity::PersonName {
            given: Some(p.first_name.clone()),
            middle: p.middle_name.clone(),
            family: Some(p.last_name.clone()),
            suffix: sub.suffix.clone(),
        },
        aliases: sub.aliases.iter().map(name_record).collect(),
        birth_date: Some(p.date_of_birth),
        gender: crate::matching::engine_gender(p.gender),
        multiple_birth: identity::MultipleBirth {
            multiple: sub.multiple_birth,
            count: None,
            order: sub.birth_order.and_then(|o| u8::try_from(o).ok()),
        },
        mother_maiden_name: trimmed(&sub.mother_maiden_name),
        guardians: sub.guardians.iter().map(name_record).collect(),
        addresses: (address.street.is_some() || address.city.is_some() || address.zip.is_some())
            .then_some(address)
            .into_iter()
            .collect(),
        phones: trimmed(&c.phone).into_iter().collect(),
        identifiers: identifiers
            .iter()
            .map(|i| identity::Identifier {
                kind: engine_kind(i.kind),
                authority: i.authority.clone(),
                value: i.value.clone(),
            })
            .collect(),
    }
}

fn check_birth_facts(sub: &Submission) -> Result<(), StoreError> {
    if let Some(o) = sub.birth_order {
        if !(1..=12).contains(&o) {
            return Err(StoreError::Invalid(
                "birthOrder must be between 1 and 12".into(),
            ));
        }
    }
    for (field, v) in [
        ("mothersMaidenName", &sub.mother_maiden_name),
        ("suffix", &sub.suffix),
    ] {
        if v.as_deref().is_some_and(|v| v.chars().count() > 100) {
            return Err(StoreError::Invalid(format!(
                "{field} is longer than 100 characters"
            )));
        }
    }
    for n in sub.aliases.iter().chain(&sub.guardians) {
        for v in [&n.first_name, &n.middle_name, &n.last_name] {
            if v.as_deref().is_some_and(|v| v.chars().count() > 100) {
                return Err(StoreError::Invalid(
                    "a name is longer than 100 characters".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The 64-bit advisory-lock id of a blocking key.
fn lock_id(key: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Serializes resolutions that share a blocking key until the transaction ends (PostgreSQL;
/// on SQLite the store's single writer already does). Locks are taken in id order, so two
/// submissions sharing several keys cannot deadlock.
async fn lock_keys(txn: &WriteTxn, keys: &[String]) -> Result<(), StoreError> {
    if Store::backend_of(&**txn) != Backend::Postgres || keys.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<i64> = keys.iter().map(|k| lock_id(k)).collect();
    ids.sort_unstable();
    ids.dedup();
    let values: Vec<String> = ids.iter().map(|i| format!("({i})")).collect();
    // Only integers computed here go into the text.
    let sql = format!(
        "SELECT pg_advisory_xact_lock(k) FROM (VALUES {}) AS v(k) ORDER BY k",
        values.join(", ")
    );
    txn.execute_unprepared(&sql).await?;
    Ok(())
}

/// The ids of the persons sharing the most keys with `keys`, best first: one statement on the
/// `(key, person_id)` primary key.
pub(crate) async fn candidate_ids<C: ConnectionTrait>(
    db: &C,
    keys: &[String],
    limit: u64,
) -> Result<Vec<Uuid>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let shared = Alias::new("shared");
    let mut q = Query::select();
    q.column(person_blocking_key::Column::PersonId)
        .expr_as(
            Expr::col(person_blocking_key::Column::Key).count(),
            shared.clone(),
        )
        .from(person_blocking_key::Entity)
        .and_where(person_blocking_key::Column::Key.is_in(keys.iter().cloned()))
        .group_by_col(person_blocking_key::Column::PersonId)
        .order_by(shared, Order::Desc)
        .order_by(person_blocking_key::Column::PersonId, Order::Asc)
        .limit(limit);
    let mut ids = Vec::new();
    for row in db.query_all(&q).await? {
        ids.push(row.try_get_by_index::<Uuid>(0)?);
    }
    Ok(ids)
}

/// The identity rows of `ids`, in four statements plus two for guardians' names.
pub(crate) async fn identities_of<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, StoredIdentity>, StoreError> {
    let mut out: HashMap<Uuid, StoredIdentity> = ids
        .iter()
        .map(|id| (*id, StoredIdentity::default()))
        .collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let list = || ids.iter().copied();
    for row in person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.is_in(list()))
        .order_by_asc(person_identifier::Column::RecordedAt)
        .all(db)
        .await?
    {
        if let Some(s) = out.get_mut(&row.person_id) {
            s.identifiers.push(row);
        }
    }
    for row in person_name::Entity::find()
        .filter(person_name::Column::PersonId.is_in(list()))
        .order_by_asc(person_name::Column::RecordedAt)
        .all(db)
        .await?
    {
        if let Some(s) = out.get_mut(&row.person_id) {
            s.names.push(row);
        }
    }
    for row in person_address::Entity::find()
        .filter(person_address::Column::PersonId.is_in(list()))
        .order_by_desc(person_address::Column::RecordedAt)
        .all(db)
        .await?
    {
        if let Some(s) = out.get_mut(&row.person_id) {
            s.addresses.push(row);
        }
    }
    for row in person_phone::Entity::find()
        .filter(person_phone::Column::PersonId.is_in(list()))
        .order_by_desc(person_phone::Column::RecordedAt)
        .all(db)
        .await?
    {
        if let Some(s) = out.get_mut(&row.person_id) {
            s.phones.push(row);
        }
    }
    let links = guardian_link::Entity::find()
        .filter(guardian_link::Column::PersonId.is_in(list()))
        .all(db)
        .await?;
    if !links.is_empty() {
        let guardian_ids: HashSet<Uuid> = links.iter().map(|l| l.guardian_id).collect();
        let names: HashMap<Uuid, (String, String)> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .column(person::Column::FirstName)
            .column(person::Column::LastName)
            .filter(person::Column::Id.is_in(guardian_ids))
            .into_tuple::<(Uuid, String, String)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, f, l)| (id, (f, l)))
            .collect();
        for l in links {
            if let (Some(s), Some(n)) = (out.get_mut(&l.person_id), names.get(&l.guardian_id)) {
                s.guardians.push(n.clone());
            }
        }
    }
    Ok(out)
}

/// Recomputes and stores `person`'s blocking keys (deleting the old ones), from the person's
/// rows as the transaction sees them. A merged person keeps none: it is no one's candidate.
pub(crate) async fn refresh_keys<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), StoreError> {
    person_blocking_key::Entity::delete_many()
        .filter(person_blocking_key::Column::PersonId.eq(id))
        .exec(db)
        .await?;
    let Some(p) = person::Entity::find_by_id(id).one(db).await? else {
        return Ok(());
    };
    if p.merged_into.is_some() {
        return Ok(());
    }
    let identity = identities_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let keys = stored_keys(&record_of(&p, &identity));
    if keys.is_empty() {
        return Ok(());
    }
    person_blocking_key::Entity::insert_many(keys.into_iter().map(|key| {
        person_blocking_key::ActiveModel {
            key: Set(key),
            person_id: Set(id),
        }
    }))
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Whether two names are the same once case and spacing are set aside.
fn same_name(a: Option<&str>, b: Option<&str>) -> bool {
    let norm = |s: Option<&str>| {
        s.map(|s| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_uppercase()
        })
        .filter(|s| !s.is_empty())
    };
    norm(a) == norm(b)
}

impl Store {
    /// Uses `key` to hash submitted SSNs (`identity::SsnKey`); without one, SSNs are dropped.
    pub fn with_ssn_key(mut self, key: identity::SsnKey) -> Store {
        self.ssn_key = Some(key);
        self
    }

    /// Uses `config` (model, thresholds, unique authorities) instead of the shipped one.
    pub fn with_match_config(mut self, config: identity::MatchConfig) -> Result<Store, StoreError> {
        self.matcher = std::sync::Arc::new(
            identity::Matcher::new(config).map_err(|e| StoreError::Invalid(e.to_string()))?,
        );
        Ok(self)
    }

    /// Resolves a submission to a person: links it, or creates a person (with review items
    /// when the engine was unsure), in one transaction with its access-log entry. See the
    /// module documentation. The caller has checked the write right (`CreatePerson`).
    pub async fn resolve_person(
        &self,
        access: &Access,
        origin: Origin,
        sub: Submission,
    ) -> Result<Resolution, StoreError> {
        check_birth_facts(&sub)?;
        let identifiers = clean_identifiers(&sub, self.ssn_key.as_ref())?;
        let record = submission_record(&sub, &identifiers);
        let keys = stored_keys(&record);
        let txn = self.begin_write_for(access).await?;
        lock_keys(&txn, &keys).await?;
        let ids = candidate_ids(&*txn, &keys, MAX_CANDIDATES).await?;
        let candidates = person::Entity::find()
            .filter(person::Column::Id.is_in(ids.iter().copied()))
            .filter(person::Column::MergedInto.is_null())
            .all(&*txn)
            .await?;
        let identities = identities_of(&*txn, &ids).await?;
        let prepared = identity::PreparedRecord::new(&record);
        let mut matches = Vec::new();
        let mut possibles = Vec::new();
        for c in &candidates {
            let stored = identities.get(&c.id).cloned().unwrap_or_default();
            let outcome = self.matcher.decide_prepared(
                &prepared,
                &identity::PreparedRecord::new(&record_of(c, &stored)),
            );
            match outcome.decision {
                identity::Decision::Match => matches.push((c, outcome.score)),
                identity::Decision::Possible => possibles.push((c, outcome.score)),
                identity::Decision::NoMatch => {}
            }
        }
        let resolution = if let [(only, score)] = matches.as_slice() {
            self.link(&txn, access, origin, &sub, &identifiers, only, *score)
                .await?
        } else {
            possibles.extend(matches);
            possibles.sort_by(|a, b| b.1.total_cmp(&a.1));
            let person = self
                .insert_submission(&txn, access, origin, &sub, &identifiers)
                .await?;
            let mut reviews = Vec::new();
            for (c, score) in &possibles {
                let id = Uuid::now_v7();
                match_review::ActiveModel {
                    id: Set(id),
                    person_id: Set(person),
                    candidate_id: Set(c.id),
                    score: Set(*score),
                    state: Set(ReviewState::Open),
                    source: Set(origin.source),
                    organization_id: Set(origin.organization),
                    created_at: Set(Utc::now()),
                    request_id: Set(access.request_id.clone()),
                    resolved_at: Set(None),
                    resolved_by: Set(None),
                }
                .insert(&*txn)
                .await?;
                reviews.push((id, c.id));
            }
            let mut fields = vec!["Person.create".to_owned()];
            if !reviews.is_empty() {
                fields.push("MatchReview.create".to_owned());
            }
            append(
                &*txn,
                access,
                NewEntry::allowed(AccessAction::Write, vec![person], fields),
            )
            .await?;
            if reviews.is_empty() {
                Resolution::Created { person }
            } else {
                Resolution::Review { person, reviews }
            }
        };
        txn.commit().await?;
        Ok(resolution)
    }

    /// Inserts a submission as a new person with its identity rows and keys.
    async fn insert_submission(
        &self,
        txn: &WriteTxn,
        access: &Access,
        origin: Origin,
        sub: &Submission,
        identifiers: &[IdentifierInput],
    ) -> Result<Uuid, StoreError> {
        let row = insert_person(txn, access, sub.person.clone(), |m| {
            m.mother_maiden_name = Set(trimmed(&sub.mother_maiden_name));
            m.multiple_birth = Set(sub.multiple_birth);
            m.birth_order = Set(sub.birth_order);
        })
        .await?;
        let now = Utc::now();
        for i in identifiers {
            insert_identifier(txn, row.id, i, origin.organization).await?;
        }
        for n in &sub.aliases {
            insert_name(&**txn, row.id, NameKind::Alias, n, origin.organization).await?;
        }
        record_contact_history(&**txn, &row, origin.organization, now).await?;
        refresh_keys(&**txn, row.id).await?;
        Ok(row.id)
    }

    /// Links a submission to `target`: adds what it says that the record lacks, makes its
    /// address and phone the current ones (the newest report), and refreshes the keys. An
    /// opted-out target is left as it is.
    #[allow(clippy::too_many_arguments)]
    async fn link(
        &self,
        txn: &WriteTxn,
        access: &Access,
        origin: Origin,
        sub: &Submission,
        identifiers: &[IdentifierInput],
        target: &person::Model,
        score: f64,
    ) -> Result<Resolution, StoreError> {
        let id = target.id;
        if target.participation == Participation::OptedOut {
            append(
                &**txn,
                access,
                NewEntry::allowed(AccessAction::Write, vec![id], vec!["Person.match".into()]),
            )
            .await?;
            return Ok(Resolution::Matched {
                person: id,
                score,
                stored: false,
            });
        }
        txn.touch(id);
        let current = person::Entity::find_by_id(id)
            .one(&**txn)
            .await?
            .ok_or_else(|| StoreError::not_found("person", id))?;
        let existing = identities_of(&**txn, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        let mut fields = vec!["Person.match".to_owned()];
        for i in identifiers {
            let known = existing.identifiers.iter().any(|e| {
                e.kind == i.kind
                    && e.authority.eq_ignore_ascii_case(&i.authority)
                    && e.value == i.value
            });
            if !known {
                insert_identifier(txn, id, i, origin.organization).await?;
                if !fields.iter().any(|f| f == "Person.identifiers") {
                    fields.push("Person.identifiers".into());
                }
            }
        }
        let p = &sub.person;
        let submitted_name = NameInput {
            first_name: Some(p.first_name.clone()),
            middle_name: p.middle_name.clone(),
            last_name: Some(p.last_name.clone()),
            suffix: sub.suffix.clone(),
        };
        let known_name = |n: &NameInput| {
            let same_as_current = same_name(n.first_name.as_deref(), Some(&current.first_name))
                && same_name(n.last_name.as_deref(), Some(&current.last_name));
            same_as_current
                || existing.names.iter().any(|e| {
                    same_name(n.first_name.as_deref(), e.first_name.as_deref())
                        && same_name(n.last_name.as_deref(), e.last_name.as_deref())
                })
        };
        let mut added_names: Vec<&NameInput> = Vec::new();
        for n in std::iter::once(&submitted_name).chain(&sub.aliases) {
            if !known_name(n) && !added_names.contains(&n) {
                insert_name(&**txn, id, NameKind::Alias, n, origin.organization).await?;
                added_names.push(n);
            }
        }
        if !added_names.is_empty() {
            fields.push("Person.aliases".into());
        }
        let mut model: person::ActiveModel = current.clone().into();
        let mut changed = false;
        if current.mother_maiden_name.is_none() && trimmed(&sub.mother_maiden_name).is_some() {
            model.mother_maiden_name = Set(trimmed(&sub.mother_maiden_name));
            changed = true;
        }
        if current.multiple_birth.is_none() && sub.multiple_birth.is_some() {
            model.multiple_birth = Set(sub.multiple_birth);
            changed = true;
        }
        if current.birth_order.is_none() && sub.birth_order.is_some() {
            model.birth_order = Set(sub.birth_order);
            changed = true;
        }
        if let Some(c) = &p.contact {
            let has_address = trimmed(&c.address_line1).is_some()
                || trimmed(&c.city).is_some()
                || trimmed(&c.postal_code).is_some();
            let new_address = has_address
                && !(same_name(c.address_line1.as_deref(), current.address_line1.as_deref())
                    && same_name(c.city.as_deref(), current.city.as_deref())
                    && same_name(c.postal_code.as_deref(), current.postal_code.as_deref()));
            if new_address {
                model.address_line1 = Set(trimmed(&c.address_line1));
                model.address_line2 = Set(trimmed(&c.address_line2));
                model.city = Set(trimmed(&c.city));
                model.state = Set(trimmed(&c.state));
                model.postal_code = Set(trimmed(&c.postal_code));
                fields.push("Person.contact".into());
                changed = true;
            }
            let phone = trimmed(&c.phone);
            if phone.is_some() && phone != current.phone {
                model.phone = Set(phone);
                if !fields.iter().any(|f| f == "Person.contact") {
                    fields.push("Person.contact".into());
                }
                changed = true;
            }
            if current.email.is_none() && trimmed(&c.email).is_some() {
                model.email = Set(trimmed(&c.email));
                changed = true;
            }
        }
        if changed {
            model.updated_at = Set(Utc::now());
            let row = model.update(&**txn).await?;
            record_contact_history(&**txn, &row, origin.organization, Utc::now()).await?;
        }
        refresh_keys(&**txn, id).await?;
        append(
            &**txn,
            access,
            NewEntry::allowed(AccessAction::Write, vec![id], fields),
        )
        .await?;
        Ok(Resolution::Matched {
            person: id,
            score,
            stored: true,
        })
    }

    /// Scores the persons `access` may see (locked and opted-out persons left out for every
    /// role but registry staff, by the row scope in the SQL) against a submission, best first.
    /// Reads only: the caller logs the persons it returns.
    pub async fn match_candidates(
        &self,
        access: &Access,
        sub: &Submission,
        limit: usize,
    ) -> Result<Vec<Candidate>, StoreError> {
        check_birth_facts(sub)?;
        let identifiers = clean_identifiers(sub, self.ssn_key.as_ref())?;
        let record = submission_record(sub, &identifiers);
        let keys = stored_keys(&record);
        let ids = candidate_ids(&self.db, &keys, MAX_CANDIDATES).await?;
        let candidates = person::Entity::find()
            .filter(person::Column::Id.is_in(ids.iter().copied()))
            .filter(person_condition(&access.scope, Locks::Enforce))
            .all(&self.db)
            .await?;
        let visible: Vec<Uuid> = candidates.iter().map(|c| c.id).collect();
        let identities = identities_of(&self.db, &visible).await?;
        let prepared = identity::PreparedRecord::new(&record);
        let mut out: Vec<Candidate> = candidates
            .into_iter()
            .map(|c| {
                let stored = identities.get(&c.id).cloned().unwrap_or_default();
                let o = self.matcher.decide_prepared(
                    &prepared,
                    &identity::PreparedRecord::new(&record_of(&c, &stored)),
                );
                Candidate {
                    person: c,
                    decision: o.decision,
                    score: o.score,
                    guard: o.guard,
                }
            })
            .filter(|c| c.decision != identity::Decision::NoMatch)
            .collect();
        out.sort_by(|a, b| {
            a.decision
                .cmp(&b.decision)
                .then(b.score.total_cmp(&a.score))
                .then(a.person.id.cmp(&b.person.id))
        });
        out.truncate(limit);
        Ok(out)
    }

    /// The candidate search alone (what the benchmark times): the ids of the persons sharing
    /// the most blocking keys with `record`, one statement.
    pub async fn candidate_search(
        &self,
        record: &identity::PersonRecord,
    ) -> Result<Vec<Uuid>, StoreError> {
        candidate_ids(&self.db, &stored_keys(record), MAX_CANDIDATES).await
    }

    /// Sets a person's registry status (a death record, an HL7 PD1-16, staff), with the date it
    /// took effect (required for `DECEASED`: the date of death). Logged as a write.
    pub async fn set_person_status(
        &self,
        access: &Access,
        id: Uuid,
        status: PersonStatus,
        date: Option<NaiveDate>,
    ) -> Result<person::Model, StoreError> {
        if status == PersonStatus::Deceased && date.is_none() {
            return Err(StoreError::Invalid("a death needs its date".into()));
        }
        if date.is_some_and(|d| d > access.today) {
            return Err(StoreError::Invalid(
                "a status date must not be in the future".into(),
            ));
        }
        let txn = self.begin_write_for(access).await?;
        let current = person_for_write(&txn, access, id).await?;
        if date.is_some_and(|d| d < current.date_of_birth) {
            return Err(StoreError::Invalid(
                "a status date must not be before the birth date".into(),
            ));
        }
        let mut model: person::ActiveModel = current.into();
        model.status = Set(status);
        model.status_date = Set(if status == PersonStatus::Active {
            None
        } else {
            date
        });
        model.updated_at = Set(Utc::now());
        let row = model.update(&*txn).await?;
        append(
            &*txn,
            access,
            NewEntry::allowed(AccessAction::Write, vec![id], vec!["Person.status".into()]),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The statuses of `ids` that exist (for callers that hold ids and must leave out the
    /// persons not in a population: deceased, inactive, moved, merged away). No row scope:
    /// a status is not returned to a client by this call.
    pub async fn person_statuses(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, (PersonStatus, bool)>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(crate::repo::records::CHUNK) {
            let rows: Vec<(Uuid, PersonStatus, Option<Uuid>)> = person::Entity::find()
                .select_only()
                .column(person::Column::Id)
                .column(person::Column::Status)
                .column(person::Column::MergedInto)
                .filter(person::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (id, status, merged) in rows {
                out.insert(id, (status, status.in_population() && merged.is_none()));
            }
        }
        Ok(out)
    }

    /// A person's identity rows (identifiers, aliases and previous names, address and phone
    /// history) for a caller that may see the person; `None` when it may not.
    pub async fn person_identity(
        &self,
        access: &Access,
        id: Uuid,
    ) -> Result<Option<StoredIdentity>, StoreError> {
        let visible = person::Entity::find_by_id(id)
            .filter(person_condition(&access.scope, Locks::Enforce))
            .select_only()
            .column(person::Column::Id)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?;
        if visible.is_none() {
            return Ok(None);
        }
        Ok(identities_of(&self.db, &[id]).await?.remove(&id))
    }

    /// Raw access for tests and the benchmark: the stored keys of a person.
    pub async fn blocking_keys_of(&self, id: Uuid) -> Result<Vec<String>, StoreError> {
        Ok(person_blocking_key::Entity::find()
            .filter(person_blocking_key::Column::PersonId.eq(id))
            .order_by_asc(person_blocking_key::Column::Key)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|k| k.key)
            .collect())
    }
}

async fn insert_identifier(
    txn: &WriteTxn,
    person: Uuid,
    i: &IdentifierInput,
    org: Option<Uuid>,
) -> Result<(), StoreError> {
    person_identifier::ActiveModel {
        id: Set(Uuid::now_v7()),
        person_id: Set(person),
        kind: Set(i.kind),
        authority: Set(i.authority.clone()),
        value: Set(i.value.clone()),
        reported_by_org_id: Set(org),
        recorded_at: Set(Utc::now()),
    }
    .insert(&**txn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_name<C: ConnectionTrait>(
    db: &C,
    person: Uuid,
    kind: NameKind,
    n: &NameInput,
    org: Option<Uuid>,
) -> Result<(), StoreError> {
    insert_name_returning(db, person, kind, n, org)
        .await
        .map(|_| ())
}

/// [`insert_name`], returning the new row's id (`None`: a blank name, not stored).
pub(crate) async fn insert_name_returning<C: ConnectionTrait>(
    db: &C,
    person: Uuid,
    kind: NameKind,
    n: &NameInput,
    org: Option<Uuid>,
) -> Result<Option<Uuid>, StoreError> {
    let (first, middle, last, suffix) = (
        trimmed(&n.first_name),
        trimmed(&n.middle_name),
        trimmed(&n.last_name),
        trimmed(&n.suffix),
    );
    if first.is_none() && last.is_none() {
        return Ok(None);
    }
    let id = Uuid::now_v7();
    person_name::ActiveModel {
        id: Set(id),
        person_id: Set(person),
        kind: Set(kind),
        first_name: Set(first),
        middle_name: Set(middle),
        last_name: Set(last),
        suffix: Set(suffix),
        reported_by_org_id: Set(org),
        recorded_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(Some(id))
}

/// Adds the person's current address and phone to their history unless the newest entry
/// already is that.
pub(crate) async fn record_contact_history<C: ConnectionTrait>(
    db: &C,
    p: &person::Model,
    org: Option<Uuid>,
    at: chrono::DateTime<Utc>,
) -> Result<(), StoreError> {
    if p.address_line1.is_some() || p.city.is_some() || p.postal_code.is_some() {
        let last = person_address::Entity::find()
            .filter(person_address::Column::PersonId.eq(p.id))
            .order_by_desc(person_address::Column::RecordedAt)
            .one(db)
            .await?;
        let same = last.as_ref().is_some_and(|a| {
            a.address_line1 == p.address_line1
                && a.address_line2 == p.address_line2
                && a.city == p.city
                && a.state == p.state
                && a.postal_code == p.postal_code
        });
        if !same {
            person_address::ActiveModel {
                id: Set(Uuid::now_v7()),
                person_id: Set(p.id),
                address_line1: Set(p.address_line1.clone()),
                address_line2: Set(p.address_line2.clone()),
                city: Set(p.city.clone()),
                state: Set(p.state.clone()),
                postal_code: Set(p.postal_code.clone()),
                reported_by_org_id: Set(org),
                recorded_at: Set(at),
            }
            .insert(db)
            .await?;
        }
    }
    if let Some(phone) = &p.phone {
        let last = person_phone::Entity::find()
            .filter(person_phone::Column::PersonId.eq(p.id))
            .order_by_desc(person_phone::Column::RecordedAt)
            .one(db)
            .await?;
        if last.as_ref().map(|l| &l.number) != Some(phone) {
            person_phone::ActiveModel {
                id: Set(Uuid::now_v7()),
                person_id: Set(p.id),
                number: Set(phone.clone()),
                reported_by_org_id: Set(org),
                recorded_at: Set(at),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}
