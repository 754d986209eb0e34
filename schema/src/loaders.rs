//! Batch loading of everything a person fans out to, so a query over N persons costs the same
//! number of round trips as a query over one.
//!
//! The loader is built per request because it carries the request's [`Access`]: every batch
//! goes through the same row-scoped repository methods as a single read, so batching can never
//! widen what a principal sees, and no loaded data is shared between principals.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entities::model::{
    consent_event, contraindication, dose, enrollment, membership, organization,
};
use entities::repo::doses::DoseLookup;
use entities::repo::guardians::GuardianOf;
use entities::repo::persons::Lookup;
use entities::{Access, Store, StoreError};
use uuid::Uuid;

/// The per-request loader.
pub struct RecordLoader {
    pub(crate) store: Store,
    pub(crate) access: Access,
    /// Forecasts kept across requests (owned by the gateway).
    pub(crate) forecasts: crate::ForecastCache,
}

/// The loader type, with a per-request cache.
pub type Loaders = DataLoader<RecordLoader, HashMapCache>;

impl RecordLoader {
    /// A loader for one request. Its cache lives as long as the request, which lets a list
    /// resolver prefetch a page's relations in one batch each (see `person::prefetch`); it is
    /// disabled for mutations, whose later fields must see their own writes.
    pub fn data_loader(
        store: Store,
        access: Access,
        forecasts: crate::ForecastCache,
        cache: bool,
    ) -> Loaders {
        // The batch runs in a task of its own; it carries the span of the load that started
        // it, so its statements stay in the request's trace.
        let loader = DataLoader::with_cache(
            RecordLoader {
                store,
                access,
                forecasts,
            },
            |batch| tokio::spawn(tracing::Instrument::in_current_span(batch)),
            HashMapCache::default(),
        );
        loader.enable_all_cache(cache);
        loader
    }
}

/// Keys: what to load for a person id.
macro_rules! person_key {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub Uuid);
    };
}
person_key!(DosesOf);
person_key!(GuardiansOf);
person_key!(ContraindicationsOf);
person_key!(ConsentHistoryOf);
person_key!(EnrollmentsOf);
person_key!(MembershipsOf);

/// A person by id, as `person(id:)` would find it (federation's `Person` references: a router
/// sends a whole batch, which must cost one lookup, not one per representation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonRef(pub Uuid);

/// A dose by id, as its person's `person(id:)` would find it (federation's `Dose` references).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DoseRef(pub Uuid);

/// An organization by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrgId(pub Uuid);

/// Groups rows by person, giving every requested key an entry (empty when it has no rows).
fn by_person<K: Hash + Eq + Copy, V>(
    keys: &[K],
    rows: Vec<V>,
    key_of: impl Fn(Uuid) -> K,
    person_of: impl Fn(&V) -> Uuid,
) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        out.entry(key_of(person_of(&row))).or_default().push(row);
    }
    out
}

macro_rules! person_loader {
    ($key:ident, $value:ty, $method:ident, $person:expr) => {
        impl Loader<$key> for RecordLoader {
            type Value = Vec<$value>;
            type Error = Arc<StoreError>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                let rows = self
                    .store
                    .$method(&self.access, &ids)
                    .await
                    .map_err(Arc::new)?;
                Ok(by_person(keys, rows, $key, $person))
            }
        }
    };
}

person_loader!(DosesOf, dose::Model, doses_for, |r: &dose::Model| r
    .person_id);
person_loader!(GuardiansOf, GuardianOf, guardians_for, |r: &GuardianOf| r
    .ward_id);
person_loader!(
    ContraindicationsOf,
    contraindication::Model,
    contraindications_for,
    |r: &contraindication::Model| r.person_id
);
person_loader!(
    ConsentHistoryOf,
    consent_event::Model,
    consent_history_for,
    |r: &consent_event::Model| r.person_id
);
person_loader!(
    EnrollmentsOf,
    enrollment::Model,
    enrollments_for,
    |r: &enrollment::Model| r.person_id
);
person_loader!(
    MembershipsOf,
    membership::Model,
    memberships_for,
    |r: &membership::Model| r.person_id
);

impl Loader<PersonRef> for RecordLoader {
    type Value = Lookup;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[PersonRef],
    ) -> Result<HashMap<PersonRef, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = self
            .store
            .persons_lookup(&self.access, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, l)| (PersonRef(id), l))
            .collect())
    }
}

impl Loader<DoseRef> for RecordLoader {
    type Value = DoseLookup;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[DoseRef]) -> Result<HashMap<DoseRef, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = self
            .store
            .doses_lookup(&self.access, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found.into_iter().map(|(id, l)| (DoseRef(id), l)).collect())
    }
}

impl Loader<OrgId> for RecordLoader {
    type Value = organization::Model;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[OrgId]) -> Result<HashMap<OrgId, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = self
            .store
            .organizations_by_ids(&ids)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|o| (OrgId(o.id), o)).collect())
    }
}
