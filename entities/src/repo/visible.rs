//! The scoped id subquery a fetch of a dose by id filters on.

use policies::RowScope;
use sea_orm::sea_query::{Query, SelectStatement};

use crate::model::person;
use crate::scope_sql::{person_condition, Locks};

/// `SELECT id FROM persons WHERE <row scope, locks reported>`: persons a fetch by id may name,
/// including those locked to another provider, which the caller then reports as locked.
pub(crate) fn scoped_person_ids(scope: &RowScope) -> SelectStatement {
    Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .cond_where(person_condition(scope, Locks::Report))
        .to_owned()
}
