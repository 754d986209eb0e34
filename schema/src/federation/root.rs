//! The query root, wrapped so that an `_entities` representation naming no entity of this
//! subgraph (an unknown or missing `__typename`) fails alone: async-graphql answers such a
//! representation with an error for the whole field, nulling every entity of the batch. Here
//! it is `null` at `_entities.<i>` with a `BAD_USER_INPUT` error at that path, like any other
//! refused representation (see [`super::entity`]).

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    Any, ContainerType, Context, ContextSelectionSet, ErrorExtensionValues, ObjectType, OutputType,
    PathSegment, Positioned, ServerError, ServerResult, Value,
};

/// A query root whose unknown entity representations fail one by one.
#[derive(Default)]
pub struct EntityRoot<Q>(pub Q);

impl<Q: ContainerType> ContainerType for EntityRoot<Q> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        self.0.resolve_field(ctx).await
    }

    async fn find_entity(&self, ctx: &Context<'_>, params: &Value) -> ServerResult<Option<Value>> {
        let refusal = match self.0.find_entity(ctx, params).await {
            Ok(Some(found)) => return Ok(Some(found)),
            Ok(None) => {
                let typename = match params {
                    Value::Object(fields) => match fields.get("__typename") {
                        Some(Value::String(t)) => t.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                format!("`{typename}` is not an entity type of this subgraph")
            }
            Err(e) => e.message,
        };
        let mut error = ServerError::new(refusal, Some(ctx.item.pos));
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", "BAD_USER_INPUT");
        error.extensions = Some(extensions);
        error.path = vec![PathSegment::Field("_entities".into())];
        if let Some(i) = position(ctx, params) {
            error.path.push(PathSegment::Index(i));
        }
        ctx.add_error(error);
        Ok(Some(Value::Null))
    }
}

/// Where `params` sits among the call's representations (the first such, for duplicates).
fn position(ctx: &Context<'_>, params: &Value) -> Option<usize> {
    let (_, representations) = ctx.param_value::<Vec<Any>>("representations", None).ok()?;
    representations.iter().position(|r| r.0 == *params)
}

impl<Q: ContainerType> OutputType for EntityRoot<Q> {
    fn type_name() -> Cow<'static, str> {
        Q::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Q::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        async_graphql::resolver_utils::resolve_container(ctx, self).await
    }
}

impl<Q: ObjectType> ObjectType for EntityRoot<Q> {}
