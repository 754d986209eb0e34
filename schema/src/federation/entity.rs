//! One resolved representation of an `_entities` batch.
//!
//! async-graphql resolves a batch with `try_join_all` and resolves each entity's fields at the
//! path `_entities`, without the index. A refusal returned as an error would therefore null
//! every entity of the batch (a router asking for ten persons would get none because one is
//! locked), and field errors would carry a path the router cannot map back. [`Entity`]
//! resolves at `_entities.<i>` (the representation's position) and turns a refusal into a
//! null entry with the error, code included, at that path: what a router expects.
//!
//! It relies on async-graphql's hidden context API (`with_index`, `param_value`), which is
//! why the dependency is pinned to one exact version.

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    Any, Context, ContextSelectionSet, OutputType, PathSegment, Positioned, ServerResult, Value, ID,
};

use crate::RequestContext;

/// A representation's outcome and where in the batch it sits.
pub(crate) struct Entity<T> {
    index: Option<usize>,
    outcome: async_graphql::Result<Option<T>>,
}

impl<T> Entity<T> {
    /// Pairs the outcome of resolving `typename` `id` with the representation's position.
    pub(crate) fn settle(
        ctx: &Context<'_>,
        typename: &str,
        id: &ID,
        outcome: async_graphql::Result<Option<T>>,
    ) -> Self {
        Entity {
            index: position(ctx, typename, id),
            outcome,
        }
    }
}

/// The position of the first representation naming `typename` and `id`. A router sends each
/// reference once; a duplicate resolves to the same outcome and reports at the first one.
/// The positions are indexed once per request: a batch of n representations would otherwise
/// cost n² comparisons (and n copies of the whole list).
fn position(ctx: &Context<'_>, typename: &str, id: &ID) -> Option<usize> {
    let rc = ctx.data::<std::sync::Arc<RequestContext>>().ok()?;
    let positions = rc.entity_positions(|| {
        let mut positions = HashMap::new();
        if let Ok((_, representations)) = ctx.param_value::<Vec<Any>>("representations", None) {
            for (i, r) in representations.iter().enumerate() {
                if let Value::Object(fields) = &r.0 {
                    if let (Some(Value::String(t)), Some(Value::String(v))) =
                        (fields.get("__typename"), fields.get("id"))
                    {
                        positions.entry((t.clone(), v.clone())).or_insert(i);
                    }
                }
            }
        }
        positions
    });
    positions
        .get(&(typename.to_owned(), id.as_str().to_owned()))
        .copied()
}

impl<T: OutputType> OutputType for Entity<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let node = match &self.outcome {
            Ok(Some(node)) => node,
            Ok(None) => return Ok(Value::Null),
            Err(err) => {
                let mut error = err.clone().into_server_error(field.pos);
                error.path = vec![PathSegment::Field("_entities".into())];
                error.path.extend(self.index.map(PathSegment::Index));
                ctx.add_error(error);
                return Ok(Value::Null);
            }
        };
        match self.index {
            Some(i) => node.resolve(&ctx.with_index(i), field).await,
            None => node.resolve(ctx, field).await,
        }
    }
}
