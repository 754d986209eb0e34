//! Tracing spans for the phases of a GraphQL operation: validation, execution and each root
//! field's resolver. Nested resolvers that do I/O get theirs from the batch loader (see
//! `RequestContext::load`); parsing is spanned by the gateway, which parses first to apply
//! the GET rule, and the limit check by [`Limits`](crate::Limits).
//!
//! Attributes name operations, fields and counts, never argument values: a search argument is
//! a person's name or date of birth.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, NextValidation,
    ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value};
use tracing::{field::Empty, info_span, Instrument};

/// The span-emitting extension; register it before [`Limits`](crate::Limits) so a refusal
/// shows inside the phase that made it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Spans;

impl ExtensionFactory for Spans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Spans)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Spans {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let span = info_span!(
            "graphql.validate",
            graphql.complexity = Empty,
            graphql.depth = Empty,
            otel.status_code = Empty
        );
        let result = next.run(ctx).instrument(span.clone()).await;
        match &result {
            Ok(v) => {
                span.record("graphql.complexity", v.complexity);
                span.record("graphql.depth", v.depth);
            }
            Err(_) => {
                span.record("otel.status_code", "ERROR");
            }
        }
        result
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let span = info_span!(
            "graphql.execute",
            graphql.operation.name = operation_name.unwrap_or(""),
            graphql.errors = Empty
        );
        let response = next.run(ctx, operation_name).instrument(span.clone()).await;
        span.record("graphql.errors", response.errors.len());
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() || info.is_for_introspection {
            return next.run(ctx, info).await;
        }
        let span = info_span!(
            "graphql.resolve",
            otel.name = %format_args!("{}.{}", info.parent_type, info.name),
            graphql.field.name = info.name,
            graphql.field.parent_type = info.parent_type,
            otel.status_code = Empty
        );
        let result = next.run(ctx, info).instrument(span.clone()).await;
        if result.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        result
    }
}
