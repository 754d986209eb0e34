//! Loading the target person of a write, inside the write's transaction.

use sea_orm::{EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::model::person;
use crate::scope_sql::{locked_against, person_condition, Locks};
use crate::{Access, Backend, Store, StoreError};

/// The person `id` as the writer may see it, row-locked on PostgreSQL so concurrent writes to
/// one person (two submissions of the same dose, say) are serialized. Not visible: not found;
/// visible but locked to another provider: `RecordLocked`.
pub(crate) async fn person_for_write(
    txn: &WriteTxn,
    access: &Access,
    id: Uuid,
) -> Result<person::Model, StoreError> {
    let txn = {
        // Whatever the write then changes under this person retires their cached record.
        txn.touch(id);
        &**txn
    };
    let mut query =
        person::Entity::find_by_id(id).filter(person_condition(&access.scope, Locks::Report));
    if Store::backend_of(txn) == Backend::Postgres {
        query = query.lock_exclusive();
    }
    let row = query
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::not_found("person", id))?;
    if locked_against(&access.scope, &row) {
        return Err(StoreError::RecordLocked);
    }
    Ok(row)
}
