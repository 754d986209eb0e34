//! The append-only, hash-chained access log.
//!
//! Each entry's hash covers its content and the previous entry's hash, so editing or removing
//! any row breaks every later link. Appends lock the single `access_log_head` row, which
//! serializes the chain across all gateway instances sharing the database.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IsolationLevel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::codes::{AccessAction, AccessOutcome};
use crate::model::{access_log, access_log_head, access_log_person};
use crate::repo::{Cursor, CursorKind, Page};
use crate::{Access, Store, StoreError};
use policies::LogView;
use std::collections::BTreeMap;

/// What a caller logs; who, when and the chain fields are filled in by [`append`].
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub action: AccessAction,
    pub person_ids: Vec<Uuid>,
    pub fields: Vec<String>,
    pub outcome: AccessOutcome,
    pub reason: Option<String>,
    /// The fields of each person's record read or written, when they differ by person.
    pub person_fields: BTreeMap<Uuid, Vec<String>>,
    /// Persons the entry names whose record it is not about (the guardian of an
    /// `addGuardian`): kept for auditors, left out of those persons' own view of the log.
    pub co_subjects: Vec<Uuid>,
}

impl NewEntry {
    pub fn allowed(action: AccessAction, person_ids: Vec<Uuid>, fields: Vec<String>) -> Self {
        NewEntry {
            action,
            person_ids,
            fields,
            outcome: AccessOutcome::Allowed,
            reason: None,
            person_fields: BTreeMap::new(),
            co_subjects: Vec::new(),
        }
    }

    pub fn denied(person_ids: Vec<Uuid>, fields: Vec<String>, reason: String) -> Self {
        NewEntry {
            action: AccessAction::Denied,
            person_ids,
            fields,
            outcome: AccessOutcome::Denied,
            reason: Some(reason),
            person_fields: BTreeMap::new(),
            co_subjects: Vec::new(),
        }
    }

    /// Records which fields were read of each person.
    pub fn with_person_fields(mut self, person_fields: BTreeMap<Uuid, Vec<String>>) -> Self {
        self.person_fields = person_fields;
        self
    }

    /// Names `persons` as co-subjects (see [`NewEntry::co_subjects`]).
    pub fn with_co_subjects(mut self, persons: Vec<Uuid>) -> Self {
        self.co_subjects = persons;
        self
    }

    /// The `person_detail` column: `None` when there is nothing beyond `person_ids` and
    /// `fields` to say.
    fn detail(&self) -> Result<Option<String>, StoreError> {
        if self.person_fields.is_empty() && self.co_subjects.is_empty() {
            return Ok(None);
        }
        let mut co: Vec<Uuid> = self.co_subjects.clone();
        co.sort_unstable();
        co.dedup();
        let detail = PersonDetail {
            fields: self.person_fields.clone(),
            co_subjects: co,
        };
        serde_json::to_string(&detail)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// The `person_detail` column of an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonDetail {
    /// Fields read or written, per person.
    #[serde(default)]
    pub fields: BTreeMap<Uuid, Vec<String>>,
    /// Persons named but not the subject.
    #[serde(default)]
    pub co_subjects: Vec<Uuid>,
}

impl PersonDetail {
    /// The detail stored with `entry` (empty for entries without one).
    pub fn of(entry: &access_log::Model) -> PersonDetail {
        entry
            .person_detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default()
    }
}

/// Filters of the `accessLog` query.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub person_id: Option<Uuid>,
    pub subject: Option<String>,
    pub organization_id: Option<Uuid>,
    pub action: Option<AccessAction>,
    pub outcome: Option<AccessOutcome>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The first broken link found by [`Store::verify_access_log`], if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact { entries: u64 },
    Broken { seq: i64, problem: String },
}

/// A chain head as a signed checkpoint vouches for it: entry `seq` had hash `hash`. The
/// gateway publishes these outside the database (see `gateway::checkpoints`); the chain must
/// still contain every one, so a truncated or rewritten log is found even when the rewrite is
/// internally consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
}

/// The hash of an entry: SHA-256 over its canonical encoding, hex.
///
/// The canonical encoding is every field of the entry, in this order, each as its UTF-8 bytes
/// preceded by their length as a big-endian u64: `seq` (decimal), `id` (hyphenated UUID), `at`
/// (RFC 3339, microseconds, `Z`), `subject`, `role`, `organization_id` (UUID or empty),
/// `purpose` (or empty), `action`, `person_ids` (the stored JSON array, which names every
/// person the entry is about, and from which `access_log_persons` is checked), `fields` (the
/// stored JSON), `request_id`, `outcome`, `reason` (or empty), `previous_hash`.
///
/// A field added to the entry later joins the encoding after `previous_hash`, as its column
/// name and then its value (each length-prefixed the same way), in the order the fields were
/// added, and only when it is set: an entry written before the field existed keeps its hash,
/// and no field of a new entry is outside it.
pub fn entry_hash(m: &access_log::Model) -> String {
    digest(m)
}

/// The canonical bytes an entry's hash covers (see [`entry_hash`]).
fn digest(m: &access_log::Model) -> String {
    let mut h = Sha256::new();
    for part in [
        m.seq.to_string().as_str(),
        &m.id.to_string(),
        &m.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        &m.subject,
        &m.role,
        &m.organization_id.map(|o| o.to_string()).unwrap_or_default(),
        m.purpose.as_deref().unwrap_or(""),
        m.action.as_str(),
        &m.person_ids,
        &m.fields,
        &m.request_id,
        m.outcome.as_str(),
        m.reason.as_deref().unwrap_or(""),
        &m.previous_hash,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    // Columns added later are covered when present, tagged so that no value of one can pass
    // for another; entries written before them hash as they always did.
    for (tag, part) in [
        ("person_detail", m.person_detail.as_deref()),
        ("client_request_id", m.client_request_id.as_deref()),
    ] {
        if let Some(part) = part {
            for bytes in [tag.as_bytes(), part.as_bytes()] {
                h.update((bytes.len() as u64).to_be_bytes());
                h.update(bytes);
            }
        }
    }
    hex::encode(h.finalize())
}

/// Who an entry is about and for which request: the part of an [`Access`] a log entry keeps.
#[derive(Debug, Clone)]
pub(crate) struct LogMeta {
    subject: String,
    role: String,
    organization_id: Option<Uuid>,
    purpose: String,
    request_id: String,
    client_request_id: Option<String>,
}

impl LogMeta {
    pub(crate) fn of(access: &Access) -> LogMeta {
        let p = &access.principal;
        LogMeta {
            subject: p.subject.clone(),
            role: p.role.as_str().to_owned(),
            organization_id: p.org,
            purpose: p.purpose.as_str().to_owned(),
            request_id: access.request_id.clone(),
            client_request_id: access.client_request_id.clone(),
        }
    }
}

/// Appends one entry inside the caller's transaction (so a write and its entry commit
/// together).
pub async fn append<C: ConnectionTrait>(
    txn: &C,
    access: &Access,
    entry: NewEntry,
) -> Result<(), StoreError> {
    append_batch(txn, &[(LogMeta::of(access), entry)]).await
}

/// Appends entries in order, inside the caller's transaction, with one lock of the chain head
/// and one multi-row insert: the group commit of concurrent requests' entries.
pub(crate) async fn append_batch<C: ConnectionTrait>(
    txn: &C,
    items: &[(LogMeta, NewEntry)],
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let count =
        i64::try_from(items.len()).map_err(|_| StoreError::Invalid("batch too large".into()))?;
    // Taking the head row's lock first makes concurrent appenders (in this process or another
    // gateway instance) queue here; the chain stays one line with no gap.
    txn.execute(
        &Query::update()
            .table(access_log_head::Entity)
            .value(
                access_log_head::Column::Seq,
                Expr::col(access_log_head::Column::Seq).add(count),
            )
            .and_where(access_log_head::Column::Id.eq(1))
            .to_owned(),
    )
    .await?;
    let head = access_log_head::Entity::find_by_id(1)
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::Corrupt("access log head row is missing".into()))?;
    let first = head.seq - count + 1;
    let mut previous = head.hash;
    let at = Utc::now().trunc_subsecs(6);
    let mut rows = Vec::with_capacity(items.len());
    let mut index = Vec::new();
    for (seq, (meta, entry)) in (first..).zip(items) {
        let mut ids = entry.person_ids.clone();
        ids.extend(entry.co_subjects.iter().copied());
        ids.sort_unstable();
        ids.dedup();
        index.extend(
            ids.into_iter()
                .map(|person_id| (person_id, seq, entry.co_subjects.contains(&person_id))),
        );
        let mut model = access_log::Model {
            seq,
            id: Uuid::now_v7(),
            at,
            subject: meta.subject.clone(),
            role: meta.role.clone(),
            organization_id: meta.organization_id,
            purpose: Some(meta.purpose.clone()),
            action: entry.action,
            person_ids: serde_json::to_string(&entry.person_ids)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            fields: serde_json::to_string(&entry.fields)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            request_id: meta.request_id.clone(),
            outcome: entry.outcome,
            reason: entry.reason.clone(),
            previous_hash: previous,
            hash: String::new(),
            person_detail: entry.detail()?,
            client_request_id: meta.client_request_id.clone(),
        };
        model.hash = digest(&model);
        previous = model.hash.clone();
        rows.push(access_log::ActiveModel::from(model));
    }
    // Small multi-row statements: PostgreSQL took ~45 ms for one 64-row INSERT of this table
    // (960 parameters) but ~8 ms for the same rows in 16-row statements (entities bench).
    for chunk in chunked(rows, 16) {
        access_log::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    insert_index(txn, index).await?;
    txn.execute(
        &Query::update()
            .table(access_log_head::Entity)
            .value(access_log_head::Column::Hash, previous)
            .and_where(access_log_head::Column::Id.eq(1))
            .to_owned(),
    )
    .await?;
    Ok(())
}

/// Indexes the appended entries by person. A roster read names every student, so this is
/// often a thousand rows: PostgreSQL gets them as two arrays in one statement (a 1,000-row
/// multi-row INSERT with its 2,000 parameters took ~90 ms, the arrays ~10 ms).
async fn insert_index<C: ConnectionTrait>(
    txn: &C,
    index: Vec<(Uuid, i64, bool)>,
) -> Result<(), StoreError> {
    if index.is_empty() {
        return Ok(());
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        let array = |items: Vec<String>| format!("{{{}}}", items.join(","));
        let persons = array(index.iter().map(|(p, _, _)| p.to_string()).collect());
        let seqs = array(index.iter().map(|(_, s, _)| s.to_string()).collect());
        let co = array(index.iter().map(|(_, _, c)| c.to_string()).collect());
        let sql = format!(
            "INSERT INTO {} (person_id, seq, co_subject) SELECT * FROM UNNEST($1::text::uuid[], $2::text::bigint[], $3::text::boolean[])",
            access_log_person::Entity.table_name()
        );
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [persons.into(), seqs.into(), co.into()],
        ))
        .await?;
        return Ok(());
    }
    let rows =
        index.into_iter().map(
            |(person_id, seq, co_subject)| access_log_person::ActiveModel {
                person_id: Set(person_id),
                seq: Set(seq),
                co_subject: Set(co_subject),
            },
        );
    for chunk in chunked(rows.collect(), 2000) {
        access_log_person::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        out.push(items.by_ref().take(size).collect());
    }
    out
}

/// Removes from `row` (as shown, never as stored) every person not in `own`, and their
/// fields. Its hash no longer matches the shown content: the hash is the auditors'.
fn reduce_to(row: &mut access_log::Model, own: &[Uuid]) -> Result<(), StoreError> {
    let ids: Vec<Uuid> = serde_json::from_str::<Vec<Uuid>>(&row.person_ids)
        .unwrap_or_default()
        .into_iter()
        .filter(|id| own.contains(id))
        .collect();
    row.person_ids = serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut detail = PersonDetail::of(row);
    if row.person_detail.is_some() {
        let per_person = !detail.fields.is_empty();
        detail.fields.retain(|id, _| own.contains(id));
        detail.co_subjects.retain(|id| own.contains(id));
        row.person_detail =
            Some(serde_json::to_string(&detail).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        // The entry's field list is the union over its persons: shown, it is the union over
        // the persons left (when the entry says fields per person at all).
        if per_person {
            let fields: std::collections::BTreeSet<&String> =
                detail.fields.values().flatten().collect();
            row.fields =
                serde_json::to_string(&fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
    }
    Ok(())
}

impl Store {
    /// Appends one entry for a read, search or denial and waits until it is committed. The
    /// entries of concurrent requests are committed together by the store's single log
    /// writer, so a read costs no database round trip of its own.
    pub async fn log_access(&self, access: &Access, entry: NewEntry) -> Result<(), StoreError> {
        self.log_writer.append(LogMeta::of(access), entry).await
    }

    /// Entries newest first, as `access`'s principal may read them (policy rule
    /// `own_record_log`, see [`policies::access_log_view`]): auditors and registry staff read
    /// every entry; a guardian or individual reads only entries about a record they answer
    /// for (their own, or a ward's in their row scope), never one naming them only as a
    /// co-subject, with every other person (and that person's fields) removed.
    pub async fn access_log(
        &self,
        access: &Access,
        filter: &LogFilter,
        first: u64,
        after: Option<&Cursor>,
    ) -> Result<Page<access_log::Model>, StoreError> {
        let own: Option<Vec<Uuid>> = match policies::access_log_view(&access.principal) {
            Err(_) => return Err(StoreError::Forbidden("read the access log")),
            Ok(LogView::Everything) => None,
            Ok(LogView::OwnRecords) => Some(self.own_record_ids(access).await?),
        };
        let mut query = access_log::Entity::find();
        if let Some(cursor) = after {
            let seq: i64 = self
                .cursor_key
                .open(access, CursorKind::AccessLog, cursor, 1)
                .and_then(|p| p[0].parse().ok())
                .ok_or_else(|| StoreError::Invalid("malformed cursor".into()))?;
            query = query.filter(access_log::Column::Seq.lt(seq));
        }
        let persons_subquery = |ids: Vec<Uuid>, subjects_only: bool| {
            let mut sub = Query::select()
                .column(access_log_person::Column::Seq)
                .from(access_log_person::Entity)
                .and_where(access_log_person::Column::PersonId.is_in(ids))
                .to_owned();
            if subjects_only {
                sub.and_where(access_log_person::Column::CoSubject.eq(false));
            }
            access_log::Column::Seq.in_subquery(sub)
        };
        if let Some(ids) = &own {
            query = query.filter(persons_subquery(ids.clone(), true));
        }
        if let Some(id) = filter.person_id {
            query = query.filter(persons_subquery(vec![id], false));
        }
        if let Some(s) = &filter.subject {
            query = query.filter(access_log::Column::Subject.eq(s.as_str()));
        }
        if let Some(o) = filter.organization_id {
            query = query.filter(access_log::Column::OrganizationId.eq(o));
        }
        if let Some(a) = filter.action {
            query = query.filter(access_log::Column::Action.eq(a));
        }
        if let Some(o) = filter.outcome {
            query = query.filter(access_log::Column::Outcome.eq(o));
        }
        if let Some(from) = filter.from {
            query = query.filter(access_log::Column::At.gte(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(access_log::Column::At.lte(to));
        }
        let mut rows = query
            .order_by_desc(access_log::Column::Seq)
            .limit(first + 1)
            .all(self.reader(access).await.0)
            .await?;
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(first as usize);
        if let Some(ids) = &own {
            for row in &mut rows {
                reduce_to(row, ids)?;
            }
        }
        Ok(Page {
            items: rows
                .into_iter()
                .map(|m| {
                    let cursor =
                        self.cursor_key
                            .seal(access, CursorKind::AccessLog, &[&m.seq.to_string()]);
                    (cursor, m)
                })
                .collect(),
            has_next_page,
        })
    }

    /// The chain head: the last entry's sequence number and hash (`0` and the genesis hash
    /// for an empty log). What a checkpoint signs.
    pub async fn access_log_head(&self) -> Result<Checkpoint, StoreError> {
        let head = access_log_head::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Corrupt("access log head row is missing".into()))?;
        Ok(Checkpoint {
            seq: head.seq,
            hash: head.hash,
        })
    }

    /// Walks the whole chain in order and reports the first broken link.
    pub async fn verify_access_log(&self) -> Result<ChainReport, StoreError> {
        self.verify_access_log_against(&[]).await
    }

    /// Walks the whole chain in order and reports the first broken link: an entry whose
    /// content does not match its hash, a link to the previous entry that does not hold, a
    /// gap, an entry whose person index (`access_log_persons`) differs from the persons it
    /// names, a head that is not the chain's end, or a signed `checkpoint` the chain no longer
    /// contains (the log was truncated or rewritten).
    ///
    /// Everything is read in one snapshot (a repeatable-read, read-only transaction on
    /// PostgreSQL, a read transaction on SQLite), so appends running meanwhile are neither
    /// half-seen nor mistaken for tampering.
    pub async fn verify_access_log_against(
        &self,
        checkpoints: &[Checkpoint],
    ) -> Result<ChainReport, StoreError> {
        let txn = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                self.db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?
            }
            _ => self.db.begin().await?,
        };
        // The head first: on SQLite the first read fixes the transaction's snapshot.
        let head = access_log_head::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::Corrupt("access log head row is missing".into()))?;
        let report = walk(&txn, &head, checkpoints).await;
        txn.rollback().await.ok();
        report
    }
}

/// The walk of [`Store::verify_access_log_against`], inside its snapshot.
async fn walk<C: ConnectionTrait>(
    db: &C,
    head: &access_log_head::Model,
    checkpoints: &[Checkpoint],
) -> Result<ChainReport, StoreError> {
    const BATCH: u64 = 5_000;
    let mut previous = crate::migration::GENESIS_HASH.to_owned();
    let mut expected_seq = 1i64;
    let signed: HashMap<i64, &str> = checkpoints
        .iter()
        .map(|c| (c.seq, c.hash.as_str()))
        .collect();
    let broken = |seq: i64, problem: String| -> Result<ChainReport, StoreError> {
        Ok(ChainReport::Broken { seq, problem })
    };
    loop {
        let rows = access_log::Entity::find()
            .filter(access_log::Column::Seq.gte(expected_seq))
            .order_by_asc(access_log::Column::Seq)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        let mut index: HashMap<i64, Vec<Uuid>> = HashMap::new();
        let pairs: Vec<(Uuid, i64)> = access_log_person::Entity::find()
            .select_only()
            .column(access_log_person::Column::PersonId)
            .column(access_log_person::Column::Seq)
            .filter(access_log_person::Column::Seq.between(expected_seq, last))
            .into_tuple()
            .all(db)
            .await?;
        for (person, seq) in pairs {
            index.entry(seq).or_default().push(person);
        }
        for row in rows {
            if row.seq != expected_seq {
                return broken(expected_seq, format!("entry {expected_seq} is missing"));
            }
            if row.previous_hash != previous {
                return broken(
                    row.seq,
                    "previous_hash does not match the preceding entry".into(),
                );
            }
            if digest(&row) != row.hash {
                return broken(row.seq, "content does not match its hash".into());
            }
            let mut named: Vec<Uuid> = serde_json::from_str(&row.person_ids).map_err(|_| {
                StoreError::Corrupt(format!("entry {}: person_ids is not a list", row.seq))
            })?;
            named.sort_unstable();
            named.dedup();
            let mut indexed = index.remove(&row.seq).unwrap_or_default();
            indexed.sort_unstable();
            if named != indexed {
                return broken(
                    row.seq,
                    format!(
                        "its person index lists {} person(s) but the entry names {}",
                        indexed.len(),
                        named.len()
                    ),
                );
            }
            if let Some(hash) = signed.get(&row.seq) {
                if *hash != row.hash {
                    return broken(
                        row.seq,
                        "a signed checkpoint of this entry has another hash: the log was rewritten"
                            .into(),
                    );
                }
            }
            previous = row.hash;
            expected_seq += 1;
        }
        if let Some(seq) = index.keys().min() {
            return broken(*seq, "the person index names an entry that does not".into());
        }
    }
    let end = expected_seq - 1;
    let orphans = access_log_person::Entity::find()
        .filter(access_log_person::Column::Seq.gt(end))
        .count(db)
        .await?;
    if orphans > 0 {
        return broken(
            end + 1,
            format!("the person index names {orphans} entries past the chain's end"),
        );
    }
    if head.seq != end || head.hash != previous {
        return broken(
            expected_seq,
            format!("the chain ends at {end} but its head says {}", head.seq),
        );
    }
    if let Some(c) = checkpoints
        .iter()
        .filter(|c| c.seq > end)
        .max_by_key(|c| c.seq)
    {
        return broken(
            end + 1,
            format!(
                "a signed checkpoint vouches for entry {} but the chain ends at {end}: the log was truncated",
                c.seq
            ),
        );
    }
    Ok(ChainReport::Intact {
        entries: u64::try_from(end).unwrap_or(0),
    })
}
