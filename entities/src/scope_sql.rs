//! Turns a policy [`RowScope`] into a SQL condition on the `persons` table.
//!
//! The condition is added to every query that reads person data, so hidden records are left
//! out by the database itself: they are never fetched, counted or paginated over.

use policies::RowScope;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::ColumnTrait;

use crate::codes::Participation;
use crate::model::{enrollment, guardian_link, membership, person};

/// Whether the lock predicate is part of the condition. A fetch by id leaves it out so the
/// repository can answer "locked" instead of "not found"; it never returns the row's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locks {
    Enforce,
    Report,
}

/// The row scope's condition, and never a person merged into another (their id resolves to
/// the survivor instead; see `repo::merge`).
pub(crate) fn person_condition(scope: &RowScope, locks: Locks) -> Condition {
    Condition::all()
        .add(person::Column::MergedInto.is_null())
        .add(scope_condition(scope, locks))
}

fn scope_condition(scope: &RowScope, locks: Locks) -> Condition {
    let unlocked_or = |org| {
        if locks == Locks::Report {
            Condition::all()
        } else {
            Condition::any()
                .add(person::Column::LockedToOrgId.is_null())
                .add(person::Column::LockedToOrgId.eq(org))
        }
    };
    let participating = person::Column::Participation.eq(Participation::Participating);
    match scope {
        RowScope::All => Condition::all(),
        RowScope::Nothing => Condition::all().add(Expr::cust("1 = 0")),
        RowScope::Clinical { own_org } => Condition::all()
            .add(participating)
            .add(unlocked_or(*own_org)),
        RowScope::EnrolledAt { org, school_year } => Condition::all()
            .add(participating)
            .add(unlocked_or(*org))
            .add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(enrollment::Entity)
                    .and_where(
                        Expr::col((enrollment::Entity, enrollment::Column::PersonId))
                            .equals((person::Entity, person::Column::Id)),
                    )
                    .and_where(enrollment::Column::OrganizationId.eq(*org))
                    .and_where(enrollment::Column::SchoolYear.eq(school_year.as_str()))
                    .to_owned(),
            )),
        RowScope::MemberOf { org } => Condition::all()
            .add(participating)
            .add(unlocked_or(*org))
            .add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(membership::Entity)
                    .and_where(
                        Expr::col((membership::Entity, membership::Column::PersonId))
                            .equals((person::Entity, person::Column::Id)),
                    )
                    .and_where(membership::Column::OrganizationId.eq(*org))
                    .to_owned(),
            )),
        RowScope::WardsOf {
            guardian,
            born_after,
        } => Condition::all()
            .add(person::Column::DateOfBirth.gt(*born_after))
            .add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(guardian_link::Entity)
                    .and_where(
                        Expr::col((guardian_link::Entity, guardian_link::Column::PersonId))
                            .equals((person::Entity, person::Column::Id)),
                    )
                    .and_where(guardian_link::Column::GuardianId.eq(*guardian))
                    // Reported links are data, never a grant.
                    .and_where(guardian_link::Column::VerifiedAt.is_not_null())
                    .to_owned(),
            )),
        RowScope::Own {
            person: id,
            born_on_or_before,
        } => Condition::all()
            .add(person::Column::Id.eq(*id))
            .add(person::Column::DateOfBirth.lte(*born_on_or_before)),
    }
}

/// Whether a row fetched with [`Locks::Report`] is locked against this scope.
pub(crate) fn locked_against(scope: &RowScope, row: &person::Model) -> bool {
    let Some(lock) = row.locked_to_org_id else {
        return false;
    };
    match scope {
        RowScope::Clinical { own_org } => lock != *own_org,
        RowScope::EnrolledAt { org, .. } | RowScope::MemberOf { org } => lock != *org,
        RowScope::All | RowScope::WardsOf { .. } | RowScope::Own { .. } | RowScope::Nothing => {
            false
        }
    }
}
