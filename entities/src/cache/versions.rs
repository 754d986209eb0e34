//! Record versions in the database: read at the start of every cached read, changed in the
//! transaction of every write (see the module docs of `cache`).

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, JoinType, OnConflict, Query};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::model::{person, person_version};

/// Ids per statement, well under the databases' bind limits.
const CHUNK: usize = 1000;

/// Which of `ids` exist, each with its record version (0: never written since versions were
/// kept). One indexed statement per chunk of ids: the persons' primary key joined to the
/// versions' primary key.
pub(crate) async fn current_versions<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, i64>, sea_orm::DbErr> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut q = Query::select();
        q.column((person::Entity, person::Column::Id))
            .column((person_version::Entity, person_version::Column::Version))
            .from(person::Entity)
            .join(
                JoinType::LeftJoin,
                person_version::Entity,
                Expr::col((person_version::Entity, person_version::Column::PersonId))
                    .equals((person::Entity, person::Column::Id)),
            )
            .and_where(
                Expr::col((person::Entity, person::Column::Id)).is_in(chunk.iter().copied()),
            );
        for row in db.query_all(&q).await? {
            let id: Uuid = row.try_get_by_index(0)?;
            let version: Option<i64> = row.try_get_by_index(1)?;
            out.insert(id, version.unwrap_or(0));
        }
    }
    Ok(out)
}

/// Gives each of `ids` (sorted, so concurrent writers lock rows in one order) a new random
/// version, inside the write's transaction. Random rather than incremented: a version is
/// never handed out twice, even across a database restored from a backup.
pub(crate) async fn bump_versions<C: ConnectionTrait>(
    txn: &C,
    ids: &[Uuid],
) -> Result<(), sea_orm::DbErr> {
    for chunk in ids.chunks(CHUNK) {
        let rows = chunk.iter().map(|id| person_version::ActiveModel {
            person_id: Set(*id),
            version: Set(fresh_version()),
        });
        person_version::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(person_version::Column::PersonId)
                    .update_column(person_version::Column::Version)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// A new version: random, positive, never 0 (which a person never written has).
fn fresh_version() -> i64 {
    i64::try_from(rand::random::<u64>() >> 1).unwrap_or(i64::MAX) | 1
}
