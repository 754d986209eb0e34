//! A dose by id (federation's `Dose` references): the rule of its person's `person(id:)`.

use async_graphql::{Context, Result, ID};
use entities::repo::doses::DoseLookup;

use super::DoseNode;
use crate::context::request;
use crate::loaders::DoseRef;
use crate::{ids, ApiError};

/// Fetches one dose through its person's row scope: hidden persons' doses are not found, a
/// dose of a record locked to another provider is `RECORD_LOCKED` (and the refusal logged);
/// each field then asks the guard like any other dose's.
/// Loaded in one batch with the rest of the `_entities` call's representations.
pub(crate) async fn dose_by_id(ctx: &Context<'_>, id: &ID) -> Result<Option<DoseNode>> {
    let (rc, _) = request(ctx)?;
    let id = ids::parse(id, "id")?;
    match rc.load(DoseRef(id)).await?.unwrap_or(DoseLookup::NotFound) {
        DoseLookup::Found(row) => Ok(Some(DoseNode::new(*row))),
        DoseLookup::Locked { person } => {
            rc.record_denial(Some(person), "Dose", "record_locked");
            Err(ApiError::RecordLocked.into())
        }
        DoseLookup::NotFound => Err(ApiError::NotFound.into()),
    }
}
