//! Refused and failed fields answer `null`, as the GraphQL specification requires.
//!
//! async-graphql 7.2 leaves a field that returned an error out of its object altogether (and
//! answers an object none of whose fields resolved with `null`), so a school reading
//! `{ person(id:) { firstName contact { city } } }` got no `contact` key, and a refused root
//! alias vanished. The specification's rule ("Handling Field Errors") is: the field's key is
//! present with `null` and its error is recorded; when the field is non-null, the `null`
//! propagates to the nearest nullable parent (and, from a root field, to `data`).
//!
//! [`Nulls`] applies that rule around every field's resolver: the error of a nullable field
//! is recorded and the field answers `null`; the path of a failed non-null field is remembered
//! and its nearest nullable ancestor answers `null` once it completes. `Inline<T>` applies
//! the same rule to the fields it resolves itself (see [`field_is_nullable`]).
//!
//! It also bounds what errors say: at most [`MAX_ERRORS`] per response, and no validator
//! suggestions (`Did you mean …`), which would name the schema to roles without
//! introspection.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, NextValidation,
    ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value};

/// The most errors one response carries; the rest are summed up in one last error. A query of
/// 960 KB of repeated directives made an 11 MB error response before.
pub const MAX_ERRORS: usize = 100;

/// The extension; [`crate::build`] registers it on every schema.
#[derive(Debug, Default, Clone, Copy)]
pub struct Nulls;

impl ExtensionFactory for Nulls {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NullsExt::default())
    }
}

#[derive(Default)]
struct NullsExt {
    /// Errors of nullable fields that this extension answered with `null`.
    errors: Mutex<Vec<ServerError>>,
    /// Paths of failed non-null fields whose `null` has not yet reached a nullable ancestor.
    pending: Mutex<Vec<Vec<String>>>,
}

impl NullsExt {
    fn has_pending(&self) -> bool {
        !self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Whether a failed non-null field lies under `path`; those entries are settled by it.
    fn settle_under(&self, path: &[String]) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let before = pending.len();
        pending.retain(|p| !(p.len() > path.len() && p.starts_with(path)));
        pending.len() != before
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for NullsExt {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx)
            .await
            .map_err(|errors| cap_errors(errors.into_iter().map(without_suggestion).collect()))
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let recorded = std::mem::take(&mut *self.errors.lock().unwrap_or_else(|e| e.into_inner()));
        response.errors.extend(recorded);
        if !self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            // A non-null root field failed: `data` itself is null.
            response.data = Value::Null;
        }
        response.errors = cap_errors(std::mem::take(&mut response.errors));
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = !info.return_type.ends_with('!');
        // The path is built only when something failed: most fields never need it.
        let path_node = info.path_node;
        match next.run(ctx, info).await {
            Ok(value) => {
                if nullable && self.has_pending() && self.settle_under(&path_node.to_string_vec()) {
                    Ok(Some(Value::Null))
                } else {
                    Ok(value)
                }
            }
            Err(error) if nullable => {
                if self.has_pending() {
                    self.settle_under(&path_node.to_string_vec());
                }
                self.errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(error);
                Ok(Some(Value::Null))
            }
            Err(error) => {
                self.pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(path_node.to_string_vec());
                Err(error)
            }
        }
    }
}

/// The error without the validator's `Did you mean "…"?`: a suggestion names fields, types
/// and arguments of the schema, which only roles allowed to introspect may learn, and it is
/// dropped for every role (the message says what was wrong without it).
fn without_suggestion(mut error: ServerError) -> ServerError {
    if let Some(at) = error.message.find(" Did you mean") {
        error.message.truncate(at);
    }
    error
}

/// At most [`MAX_ERRORS`] errors, the last saying how many more there were.
pub(crate) fn cap_errors(mut errors: Vec<ServerError>) -> Vec<ServerError> {
    if errors.len() > MAX_ERRORS {
        let more = errors.len() - (MAX_ERRORS - 1);
        errors.truncate(MAX_ERRORS - 1);
        errors.push(crate::ErrorCode::BadUserInput.error(format!("{more} more errors not shown")));
    }
    errors
}

/// Whether `type_name`'s field `name` is nullable in the served schema (unknown: treated as
/// non-null, so a failure propagates rather than being hidden).
pub(crate) fn field_is_nullable(
    schema: &async_graphql::registry::Registry,
    type_name: &str,
    name: &str,
) -> bool {
    schema
        .types
        .get(type_name)
        .and_then(|t| t.field_by_name(name))
        .is_some_and(|f| !f.ty.ends_with('!'))
}
