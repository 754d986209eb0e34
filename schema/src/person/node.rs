//! `PersonNode`: a person record inside the GraphQL types, reachable only through the guard.
//!
//! The model is private to this module. A resolver gets at it only through
//! [`PersonNode::read`], which asks `guard::read` (the policy's single entry point, which also
//! logs the read) for the matrix cell it is about to serve; the record's id alone is
//! [`PersonNode::person_id`], and serving it is itself a logged read (`Person.id`).

use std::sync::Arc;

use async_graphql::Context;
use entities::model::person;
use policies::Field;
use uuid::Uuid;

use crate::{guard, ApiError, RequestContext};

/// A person record the row scope admitted (a fetch by id, a search, a roster, a batch
/// loaded through the row-scoped repository, or a record the caller just wrote).
#[derive(Clone)]
pub struct PersonNode(Arc<person::Model>);

impl PersonNode {
    /// Wraps a record the row scope admitted.
    pub(crate) fn new(model: person::Model) -> Self {
        PersonNode(Arc::new(model))
    }

    /// The record's id (row-scope only: no cell of the matrix).
    pub(crate) fn person_id(&self) -> Uuid {
        self.0.id
    }

    /// The record, once the policy allows reading `field` of it (and the read is recorded).
    pub(crate) fn read<'s, 'c>(
        &'s self,
        ctx: &'c Context<'_>,
        field: Field,
    ) -> Result<(&'c RequestContext, &'s person::Model), ApiError> {
        let rc = guard::read(ctx, self.0.id, field)?;
        Ok((rc, &self.0))
    }

    /// [`PersonNode::read`], with which of the field's rows are readable.
    pub(crate) fn read_rows<'s, 'c>(
        &'s self,
        ctx: &'c Context<'_>,
        field: Field,
    ) -> Result<(&'c RequestContext, &'s person::Model, policies::RowsOf), ApiError> {
        let (rc, rows) = guard::read_rows(ctx, self.0.id, field)?;
        Ok((rc, &self.0, rows))
    }
}
