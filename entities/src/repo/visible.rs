//! The scoped id subquery that every child-relation read (doses, consent, …) filters on.

use policies::RowScope;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::ColumnTrait;
use uuid::Uuid;

use crate::model::person;
use crate::scope_sql::{person_condition, Locks};

/// `SELECT id FROM persons WHERE id IN (ids) AND <row scope>`: a child row is read only when
/// its person is visible to the caller.
pub(crate) fn visible_person_ids(scope: &RowScope, ids: &[Uuid]) -> SelectStatement {
    Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .and_where(person::Column::Id.is_in(ids.iter().copied()))
        .cond_where(person_condition(scope, Locks::Enforce))
        .to_owned()
}

/// `SELECT id FROM persons WHERE <row scope, locks reported>`: persons a fetch by id may name,
/// including those locked to another provider, which the caller then reports as locked.
pub(crate) fn scoped_person_ids(scope: &RowScope) -> SelectStatement {
    Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .cond_where(person_condition(scope, Locks::Report))
        .to_owned()
}
