//! A dose by id (federation's `Dose` references): the rule of its person's `person(id:)`.

use async_graphql::{Context, Result, ID};
use entities::repo::doses::DoseLookup;

use super::DoseNode;
use crate::context::{request, store_err};
use crate::{ids, ApiError};

/// Fetches one dose through its person's row scope: hidden persons' doses are not found, a
/// dose of a record locked to another provider is `RECORD_LOCKED` (and the refusal logged);
/// each field then asks the guard like any other dose's.
pub(crate) async fn dose_by_id(ctx: &Context<'_>, id: &ID) -> Result<Option<DoseNode>> {
    let (rc, store) = request(ctx)?;
    let id = ids::parse(id, "id")?;
    match store.dose(&rc.access, id).await.map_err(store_err(rc))? {
        DoseLookup::Found(row) => Ok(Some(DoseNode(*row))),
        DoseLookup::Locked { person } => {
            rc.record_denial(Some(person), "Dose", "record_locked");
            Err(ApiError::RecordLocked.into())
        }
        DoseLookup::NotFound => Err(ApiError::NotFound.into()),
    }
}
