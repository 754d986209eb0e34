//! Per-request state: who is asking, and what they read (for the access log).

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_graphql::Context;
use entities::codes::AccessAction;
use entities::repo::access_log::NewEntry;
use entities::{Access, Store, StoreError};
use policies::Field;
use uuid::Uuid;

use crate::ApiError;

/// What one request touched; flushed to the access log as at most one entry per action
/// before the response leaves.
#[derive(Debug, Default)]
struct Touched {
    action: Option<AccessAction>,
    persons: BTreeSet<Uuid>,
    fields: BTreeSet<&'static str>,
    denied_persons: BTreeSet<Uuid>,
    denied: BTreeSet<(&'static str, &'static str)>,
}

/// The request's principal and date, plus its read log.
#[derive(Debug)]
pub struct RequestContext {
    pub access: Access,
    touched: Mutex<Touched>,
}

impl RequestContext {
    pub fn new(access: Access) -> Self {
        RequestContext {
            access,
            touched: Mutex::new(Touched::default()),
        }
    }

    fn with_touched(&self, f: impl FnOnce(&mut Touched)) {
        // A poisoned lock only means another resolver panicked; the log data is still valid.
        let mut guard = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard);
    }

    pub(crate) fn record_read(&self, person: Uuid, field: Field) {
        self.with_touched(|t| {
            t.persons.insert(person);
            t.fields.insert(field.as_str());
        });
    }

    pub(crate) fn record_search(&self) {
        self.with_touched(|t| t.action = Some(AccessAction::Search));
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

    /// Appends what this request read and was refused. Called by the gateway after execution
    /// and before the response is sent, so a read is never served unlogged.
    pub async fn flush(&self, store: &Store) -> Result<(), StoreError> {
        let touched = {
            let mut guard = self.touched.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *guard)
        };
        if !touched.persons.is_empty() {
            let entry = NewEntry::allowed(
                touched.action.unwrap_or(AccessAction::Read),
                touched.persons.into_iter().collect(),
                touched.fields.into_iter().map(str::to_owned).collect(),
            );
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
