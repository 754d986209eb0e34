//! Per-request state: who is asking, and what they read (for the access log).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, OnceLock};

use async_graphql::Context;
use entities::codes::AccessAction;
use entities::repo::access_log::NewEntry;
use entities::{Access, Store, StoreError};
use policies::{Field, FieldDenial, RowsOf};
use uuid::Uuid;

use crate::loaders::{Loaders, RecordLoader};
use crate::ApiError;
use async_graphql::dataloader::Loader;

/// What one request touched; flushed to the access log as at most one entry per action
/// before the response leaves.
#[derive(Debug, Default)]
struct Touched {
    action: Option<AccessAction>,
    /// Each person read and which fields of theirs.
    persons: BTreeMap<Uuid, BTreeSet<&'static str>>,
    denied_persons: BTreeSet<Uuid>,
    denied: BTreeSet<(&'static str, &'static str)>,
}

/// The request's principal and date, its batch loader and its read log.
pub struct RequestContext {
    pub access: Access,
    loader: Loaders,
    touched: Mutex<Touched>,
    /// The field matrix's answer for this principal, per field, once asked.
    decisions: [OnceLock<Result<RowsOf, FieldDenial>>; Field::ALL.len()],
    /// Where each `_entities` representation sits, by (`__typename`, `id`), once asked.
    entity_positions: OnceLock<EntityPositions>,
    /// Set once the `Person` references of an `_entities` call are prefetched.
    entities_prefetched: tokio::sync::OnceCell<()>,
    /// The distinct forecast dates asked so far, and how many are allowed.
    forecast_dates: crate::forecast_cache::DatesAsked,
    max_forecast_dates: usize,
}

/// Positions of an `_entities` call's representations.
pub(crate) type EntityPositions = std::collections::HashMap<(String, String), usize>;

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    /// `cache_loads`: keep loaded relations for the rest of the request (queries); off for
    /// mutations. `forecasts`: the gateway's kept forecasts.
    pub fn new(
        access: Access,
        store: Store,
        forecasts: crate::ForecastCache,
        cache_loads: bool,
    ) -> Self {
        let max_forecast_dates = forecasts.config().max_dates_per_request;
        RequestContext {
            loader: RecordLoader::data_loader(store, access.clone(), forecasts, cache_loads),
            access,
            touched: Mutex::new(Touched::default()),
            decisions: Default::default(),
            entity_positions: OnceLock::new(),
            entities_prefetched: tokio::sync::OnceCell::new(),
            forecast_dates: Default::default(),
            max_forecast_dates,
        }
    }

    /// Notes that the request asks a forecast as of `date`: refused (`BAD_USER_INPUT`) when
    /// that is more distinct dates than a request may ask.
    pub(crate) fn forecast_date(&self, date: chrono::NaiveDate) -> Result<(), ApiError> {
        self.forecast_dates.note(date, self.max_forecast_dates)
    }

    /// The `_entities` positions, indexed by `index` on first use.
    pub(crate) fn entity_positions(
        &self,
        index: impl FnOnce() -> EntityPositions,
    ) -> &EntityPositions {
        self.entity_positions.get_or_init(index)
    }

    /// `decide`'s answer for `field`, asked once per request.
    pub(crate) fn field_decision(
        &self,
        field: Field,
        decide: impl FnOnce() -> Result<RowsOf, FieldDenial>,
    ) -> Result<RowsOf, FieldDenial> {
        match Field::ALL.iter().position(|f| *f == field) {
            Some(i) => *self.decisions[i].get_or_init(decide),
            None => decide(),
        }
    }

    /// Runs `prefetch` the first time it is asked in this request; later callers wait for it.
    pub(crate) async fn prefetch_entities_once<F>(&self, prefetch: F)
    where
        F: std::future::Future<Output = ()>,
    {
        self.entities_prefetched.get_or_init(|| prefetch).await;
    }

    /// Loads one key through the request's batch loader.
    pub(crate) async fn load<K>(
        &self,
        key: K,
    ) -> Result<Option<<RecordLoader as Loader<K>>::Value>, ApiError>
    where
        K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        RecordLoader: Loader<K, Error = std::sync::Arc<StoreError>>,
    {
        let span = tracing::info_span!("graphql.load", loader = short_type_name::<K>());
        tracing::Instrument::instrument(self.loader.load_one(key), span)
            .await
            .map_err(|e| self.load_error(e))
    }

    /// Loads many keys in one batch (prefetching a page's relations).
    pub(crate) async fn load_many<K>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<std::collections::HashMap<K, <RecordLoader as Loader<K>>::Value>, ApiError>
    where
        K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        RecordLoader: Loader<K, Error = std::sync::Arc<StoreError>>,
    {
        let span = tracing::info_span!("graphql.load_many", loader = short_type_name::<K>());
        tracing::Instrument::instrument(self.loader.load_many(keys), span)
            .await
            .map_err(|e| self.load_error(e))
    }

    /// A batch's error is shared by every key waiting on that batch: it is mapped by
    /// reference, so each waiter gets the error the batch had (not a made-up `Unavailable`
    /// that would fail the request with 503 and mark a healthy database down).
    fn load_error(&self, e: std::sync::Arc<StoreError>) -> ApiError {
        ApiError::from_store_ref(&e, &self.access.request_id)
    }

    fn with_touched(&self, f: impl FnOnce(&mut Touched)) {
        // A poisoned lock only means another resolver panicked; the log data is still valid.
        let mut guard = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard);
    }

    pub(crate) fn record_read(&self, person: Uuid, field: Field) {
        self.record_reveal(person, field.as_str());
    }

    /// Notes that the response reveals `person` through `what` (an id, a cursor, a page
    /// position): a read, logged with the fields.
    pub(crate) fn record_reveal(&self, person: Uuid, what: &'static str) {
        self.with_touched(|t| {
            t.persons.entry(person).or_default().insert(what);
        });
    }

    pub(crate) fn record_search(&self) {
        self.with_touched(|t| t.action = Some(AccessAction::Search));
    }

    pub(crate) fn record_roster(&self) {
        self.with_touched(|t| t.action = Some(AccessAction::Roster));
    }

    /// Marks what this request read as exported (the roster CSV), so its access-log entry
    /// says `EXPORT`.
    pub fn record_export(&self) {
        self.with_touched(|t| t.action = Some(AccessAction::Export));
    }

    pub(crate) fn record_denial(
        &self,
        person: Option<Uuid>,
        field: &'static str,
        rule: &'static str,
    ) {
        self.with_touched(|t| {
            if let Some(p) = person {
                t.denied_persons.insert(p);
            }
            t.denied.insert((field, rule));
        });
    }

    /// The policy rules that refused something in this request so far (one per refused field
    /// group), for the gateway's denial metrics.
    pub fn denial_rules(&self) -> Vec<&'static str> {
        let guard = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        guard.denied.iter().map(|(_, rule)| *rule).collect()
    }

    /// Appends what this request read and was refused. Called by the gateway after execution
    /// and before the response is sent, so a read is never served unlogged.
    pub async fn flush(&self, store: &Store) -> Result<(), StoreError> {
        let touched = {
            let mut guard = self.touched.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *guard)
        };
        if !touched.persons.is_empty() {
            let fields: BTreeSet<&str> = touched.persons.values().flatten().copied().collect();
            let mut entry = NewEntry::allowed(
                touched.action.unwrap_or(AccessAction::Read),
                touched.persons.keys().copied().collect(),
                fields.iter().map(|f| (*f).to_owned()).collect(),
            );
            // Which fields of whose record: said per person when persons differ (when every
            // person had the same fields read, the entry's field list already says it, and a
            // 1,000-student roster does not write 1,000 copies of it).
            if touched.persons.values().any(|f| f.len() != fields.len()) {
                entry = entry.with_person_fields(
                    touched
                        .persons
                        .iter()
                        .map(|(id, f)| (*id, f.iter().map(|f| (*f).to_owned()).collect()))
                        .collect(),
                );
            }
            store.log_access(&self.access, entry).await?;
        }
        if !touched.denied.is_empty() {
            let reason = touched
                .denied
                .iter()
                .map(|(f, r)| format!("{f}: {r}"))
                .collect::<Vec<_>>()
                .join("; ");
            let fields = touched
                .denied
                .iter()
                .map(|(f, _)| (*f).to_owned())
                .collect();
            let entry =
                NewEntry::denied(touched.denied_persons.into_iter().collect(), fields, reason);
            store.log_access(&self.access, entry).await?;
        }
        Ok(())
    }
}

/// The request context and store, or an internal error if the gateway forgot to attach them.
pub(crate) fn request<'a>(
    ctx: &'a Context<'_>,
) -> Result<(&'a RequestContext, &'a Store), ApiError> {
    let missing = || ApiError::Internal {
        request_id: "-".into(),
    };
    let rc = ctx
        .data::<std::sync::Arc<RequestContext>>()
        .map_err(|_| missing())?;
    let store = ctx.data::<Store>().map_err(|_| missing())?;
    Ok((rc, store))
}

/// Maps a storage error with this request's id.
pub(crate) fn store_err(rc: &RequestContext) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| ApiError::from_store(e, &rc.access.request_id)
}

/// `schema::loaders::DosesOf` → `DosesOf`: the loader key's name, for spans.
fn short_type_name<K>() -> &'static str {
    let full = std::any::type_name::<K>();
    full.rsplit("::").next().unwrap_or(full)
}
