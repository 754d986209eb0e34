//! `DoseNode`: a dose inside the GraphQL types, reachable only through the guard (as
//! `PersonNode` is): the model is private to this module, and [`DoseNode::read`] asks the
//! policy about the dose's person before handing it out.

use async_graphql::Context;
use entities::model::dose;
use policies::Field;
use uuid::Uuid;

use crate::{guard, ApiError, RequestContext};

/// A dose of a person the row scope admitted.
pub struct DoseNode(dose::Model);

impl DoseNode {
    /// Wraps a dose loaded through the row-scoped repository (or just written by the caller).
    pub(crate) fn new(model: dose::Model) -> Self {
        DoseNode(model)
    }

    /// The dose's person (row-scope only).
    pub(crate) fn person_id(&self) -> Uuid {
        self.0.person_id
    }

    /// The dose, once the policy allows reading `field` of its person (and the read is
    /// recorded).
    pub(crate) fn read<'s, 'c>(
        &'s self,
        ctx: &'c Context<'_>,
        field: Field,
    ) -> Result<(&'c RequestContext, &'s dose::Model), ApiError> {
        let rc = guard::read(ctx, self.0.person_id, field)?;
        Ok((rc, &self.0))
    }

    /// The dose's own id (row-scope only; serving it is a logged read of its person).
    pub(crate) fn dose_id(&self) -> Uuid {
        self.0.id
    }
}
