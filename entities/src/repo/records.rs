//! The read path for a person and everything under them: the cache first, then the
//! database for what it lacks, and the caller's row scope applied to both alike.
//!
//! The unscoped loader is private to this crate, so no caller can obtain a record without
//! its row scope being applied; the same [`policies::RowScope::admits`] that decides here is
//! the one the SQL of searches and writes is checked against (the policy property tests
//! exercise both paths).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use policies::{RowScope, Visibility};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::cache::{current_versions, PersonRecord, SharedRecord, Stamp};
use crate::model::{
    consent_event, contraindication, dose, enrollment, guardian_link, membership, person,
};
use crate::{Access, Store, StoreError};

/// A fetched record as the caller may see it.
#[derive(Debug, Clone)]
pub enum RecordLookup {
    Found(SharedRecord),
    /// Visible but for a lock to another provider: carries no data.
    Locked,
}

/// Merges followed from a duplicate's id to its survivor.
const MAX_MERGE_HOPS: usize = 4;

/// Ids per query: keeps every `IN (…)` list well under the databases' bind limits.
pub(crate) const CHUNK: usize = 1000;

impl Store {
    /// The records among `ids` that `access` may see, and which of them are locked against it;
    /// hidden and nonexistent ids are absent.
    pub async fn lookup_records(
        &self,
        access: &Access,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, RecordLookup>, StoreError> {
        if access.scope == RowScope::Nothing {
            return Ok(HashMap::new());
        }
        let mut records = self.records_unscoped(ids).await?;
        // A duplicate merged into another person resolves to the survivor (following a chain
        // of merges a few steps); the survivor's record is then admitted on its own facts.
        for _ in 0..MAX_MERGE_HOPS {
            let redirects: Vec<(Uuid, Uuid)> = records
                .iter()
                .filter_map(|(id, r)| r.person.merged_into.map(|to| (*id, to)))
                .collect();
            if redirects.is_empty() {
                break;
            }
            let targets: Vec<Uuid> = redirects.iter().map(|(_, to)| *to).collect();
            let survivors = self.records_unscoped(&targets).await?;
            for (id, to) in redirects {
                match survivors.get(&to) {
                    Some(r) => records.insert(id, r.clone()),
                    None => records.remove(&id),
                };
            }
        }
        Ok(records
            .into_iter()
            .filter(|(_, r)| r.person.merged_into.is_none())
            .filter_map(|(id, r)| match access.scope.admits(&r.facts()) {
                Visibility::Visible => Some((id, RecordLookup::Found(r))),
                Visibility::Locked => Some((id, RecordLookup::Locked)),
                Visibility::Hidden => None,
            })
            .collect())
    }

    /// The records among `ids` that `access` may read; locked ones are left out, as in lists.
    pub async fn visible_records(
        &self,
        access: &Access,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, SharedRecord>, StoreError> {
        Ok(self
            .lookup_records(access, ids)
            .await?
            .into_iter()
            .filter_map(|(id, l)| match l {
                RecordLookup::Found(r) => Some((id, r)),
                RecordLookup::Locked => None,
            })
            .collect())
    }

    /// Records by id from the cache, or from the database (then cached). No row scope: only
    /// for this crate, which applies one before anything leaves it.
    ///
    /// With a cache, the database first says which ids exist and at which record version (one
    /// statement per batch); only answers stored under exactly those are taken from the cache
    /// (see [`crate::cache`]). Nonexistent ids go the same way as existing ones, their absence
    /// cached like a record, so a hidden id and a nonexistent one cost the same work.
    pub(crate) async fn records_unscoped(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, SharedRecord>, StoreError> {
        let mut seen = HashSet::with_capacity(ids.len());
        let ids: Vec<Uuid> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        if !self.cache.is_enabled() {
            let loaded = load_records(&self.db, &ids).await?;
            return Ok(loaded.into_iter().map(|r| (r.id(), r)).collect());
        }
        let versions = current_versions(&self.db, &ids).await?;
        let stamps: Vec<(Uuid, Stamp)> = ids
            .iter()
            .map(|id| (*id, Stamp(versions.get(id).copied())))
            .collect();
        let lookup = self.cache.get(&stamps).await;
        let mut found: HashMap<Uuid, SharedRecord> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for (id, stamp) in &stamps {
            match lookup.found.get(id) {
                Some(Some(record)) => {
                    found.insert(*id, record.clone());
                }
                Some(None) => {}
                None => missing.push((*id, *stamp)),
            }
        }
        if !missing.is_empty() {
            let missing_ids: Vec<Uuid> = missing.iter().map(|(id, _)| *id).collect();
            let loaded: HashMap<Uuid, SharedRecord> = load_records(&self.db, &missing_ids)
                .await?
                .into_iter()
                .map(|r| (r.id(), r))
                .collect();
            if lookup.fill {
                // Stored only where the database's two answers agree: a person created or
                // removed between them is simply not cached this time.
                let answers = missing
                    .iter()
                    .filter_map(|(id, stamp)| match (stamp.0, loaded.get(id)) {
                        (Some(_), Some(r)) => Some((*id, *stamp, Some(r.clone()))),
                        (None, None) => Some((*id, *stamp, None)),
                        _ => None,
                    })
                    .collect();
                self.cache.fill(answers);
            }
            found.extend(loaded);
        }
        Ok(found)
    }
}

/// Reads whole records from the database: seven statements per chunk of ids, whatever the
/// number of persons, and whether or not any exists (so an id that exists but is hidden costs
/// what a nonexistent one does).
async fn load_records<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<Vec<SharedRecord>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let ids = || chunk.iter().copied();
        let persons = person::Entity::find()
            .filter(person::Column::Id.is_in(ids()))
            .all(db)
            .await?;
        let doses = dose::Entity::find()
            .filter(dose::Column::PersonId.is_in(ids()))
            .order_by_asc(dose::Column::DateGiven)
            .order_by_asc(dose::Column::RecordedAt)
            .all(db)
            .await?;
        let contraindications = contraindication::Entity::find()
            .filter(contraindication::Column::PersonId.is_in(ids()))
            .order_by_asc(contraindication::Column::RecordedAt)
            .all(db)
            .await?;
        let consent = consent_event::Entity::find()
            .filter(consent_event::Column::PersonId.is_in(ids()))
            .order_by_asc(consent_event::Column::At)
            .all(db)
            .await?;
        let links = guardian_link::Entity::find()
            .filter(guardian_link::Column::PersonId.is_in(ids()))
            .order_by_asc(guardian_link::Column::CreatedAt)
            .all(db)
            .await?;
        let enrollments = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.is_in(ids()))
            .order_by_desc(enrollment::Column::SchoolYear)
            .all(db)
            .await?;
        let memberships = membership::Entity::find()
            .filter(membership::Column::PersonId.is_in(ids()))
            .order_by_asc(membership::Column::CreatedAt)
            .all(db)
            .await?;
        let mut records: HashMap<Uuid, PersonRecord> = persons
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    PersonRecord {
                        person: p,
                        doses: Vec::new(),
                        contraindications: Vec::new(),
                        consent_history: Vec::new(),
                        guardian_links: Vec::new(),
                        enrollments: Vec::new(),
                        memberships: Vec::new(),
                    },
                )
            })
            .collect();
        macro_rules! attach {
            ($rows:expr, $field:ident) => {
                for row in $rows {
                    if let Some(r) = records.get_mut(&row.person_id) {
                        r.$field.push(row);
                    }
                }
            };
        }
        attach!(doses, doses);
        attach!(contraindications, contraindications);
        attach!(consent, consent_history);
        attach!(links, guardian_links);
        attach!(enrollments, enrollments);
        attach!(memberships, memberships);
        out.extend(records.into_values().map(Arc::new));
    }
    Ok(out)
}

impl Store {
    /// One relation of the visible persons among `ids`, each person's rows in record order.
    pub(crate) async fn relation_of<T: Clone>(
        &self,
        access: &Access,
        ids: &[Uuid],
        pick: impl Fn(&PersonRecord) -> &Vec<T>,
    ) -> Result<Vec<T>, StoreError> {
        let records = self.visible_records(access, ids).await?;
        let mut seen = HashSet::with_capacity(ids.len());
        Ok(ids
            .iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| records.get(id))
            .flat_map(|r| pick(r).iter().cloned())
            .collect())
    }
}
