//! Loading the target person of a write, inside the write's transaction.

use policies::{RecordFacts, Visibility};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::codes::Participation;
use crate::db::WriteTxn;
use crate::model::{enrollment, guardian_link, membership, person};
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
    let txn_ref = txn;
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
    let row = match query.one(txn).await? {
        Some(row) => row,
        None => {
            // A duplicate's id, merged into another person, writes to the survivor.
            let to = survivor_of(txn_ref, id).await?;
            if to == id {
                return Err(StoreError::not_found("person", id));
            }
            return Box::pin(person_for_write(txn_ref, access, to)).await;
        }
    };
    if locked_against(&access.scope, &row) {
        return Err(StoreError::RecordLocked);
    }
    Ok(row)
}

/// The person `id` resolves to: itself, or the survivor of the merges it went into.
pub(crate) async fn survivor_of(txn: &WriteTxn, id: Uuid) -> Result<Uuid, StoreError> {
    let mut id = id;
    for _ in 0..4 {
        let merged: Option<Option<Uuid>> = person::Entity::find_by_id(id)
            .select_only()
            .column(person::Column::MergedInto)
            .into_tuple()
            .one(&**txn)
            .await?;
        match merged {
            Some(Some(to)) => id = to,
            _ => break,
        }
    }
    Ok(id)
}

/// The target of a submission that an opt-out answers with an acknowledgement (a dose).
#[derive(Debug)]
pub(crate) enum WriteTarget {
    Writable(Box<person::Model>),
    /// The person opted out, and the writer could write to them were they not: the one
    /// principal to whom "acknowledged, not stored" reveals nothing it does not know.
    OptedOut,
}

/// [`person_for_write`] for a write whose opt-out answer is an acknowledgement.
///
/// The write right (checked before the store is called) and the row scope come first, the
/// opt-out last: a principal that could not write to the person were they participating — a
/// school, a plan, a read-only token, a provider kept out by another organization's lock —
/// gets exactly the answer of an id that does not exist, so it cannot learn who opted out.
pub(crate) async fn person_or_opt_out(
    txn: &WriteTxn,
    access: &Access,
    id: Uuid,
) -> Result<WriteTarget, StoreError> {
    match person_for_write(txn, access, id).await {
        Ok(row) if row.participation == Participation::OptedOut => Ok(WriteTarget::OptedOut),
        Ok(row) => Ok(WriteTarget::Writable(Box::new(row))),
        Err(StoreError::NotFound { entity, id }) => {
            let conn = &**txn;
            let row = person::Entity::find_by_id(id).one(conn).await?;
            let admitted = match row {
                Some(row) if row.participation == Participation::OptedOut => {
                    let facts = facts_as_participating(conn, &row).await?;
                    access.scope.admits(&facts) == Visibility::Visible
                }
                _ => false,
            };
            if admitted {
                Ok(WriteTarget::OptedOut)
            } else {
                Err(StoreError::NotFound { entity, id })
            }
        }
        Err(other) => Err(other),
    }
}

/// The row-scope facts of `row` read inside the write's transaction, as if the person were
/// participating.
async fn facts_as_participating<C: ConnectionTrait>(
    conn: &C,
    row: &person::Model,
) -> Result<RecordFacts, StoreError> {
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(row.id))
        .all(conn)
        .await?;
    let memberships = membership::Entity::find()
        .filter(membership::Column::PersonId.eq(row.id))
        .all(conn)
        .await?;
    let guardians = guardian_link::Entity::find()
        .filter(guardian_link::Column::PersonId.eq(row.id))
        .all(conn)
        .await?;
    Ok(RecordFacts {
        person: row.id,
        date_of_birth: row.date_of_birth,
        opted_out: false,
        locked_to: row.locked_to_org_id,
        enrollments: enrollments
            .into_iter()
            .map(|e| (e.organization_id, e.school_year))
            .collect(),
        memberships: memberships.into_iter().map(|m| m.organization_id).collect(),
        guardians: guardians
            .into_iter()
            .filter(|g| g.grants_access())
            .map(|g| g.guardian_id)
            .collect(),
    })
}
