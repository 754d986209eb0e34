//! Operation limits: depth, complexity, aliases, root fields, `_entities` batch size and who
//! may introspect. Each refusal happens before validation or execution (nothing is read,
//! nothing is logged) and carries its own `extensions.code`.

mod nul;
mod shape;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use policies::Role;

use crate::{ErrorCode, RequestContext};

/// The limits every operation must stay within.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Nesting of object fields (`{ person { doses { vaccine { cvx } } } }` is 3).
    pub max_depth: usize,
    /// Each field costs 1; `persons` and `accessLog` multiply their selection by `first`;
    /// `_entities` multiplies the whole operation by its number of representations.
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    /// Roles that may run `__schema`, `__type` and federation's `_service`.
    pub introspection_roles: Vec<Role>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 12,
            max_complexity: 10_000,
            max_aliases: 30,
            max_root_fields: 20,
            introspection_roles: vec![Role::RegistryAdmin, Role::Provider],
        }
    }
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitCheck {
            limits: self.clone(),
            representations: AtomicUsize::new(0),
        })
    }
}

/// One request's check; it remembers the `_entities` size between parsing and validation.
struct LimitCheck {
    limits: Limits,
    representations: AtomicUsize,
}

impl LimitCheck {
    fn check_shape(
        &self,
        ctx: &ExtensionContext<'_>,
        doc: &ExecutableDocument,
        vars: &Variables,
    ) -> Result<(), ServerError> {
        let l = &self.limits;
        let s = shape::measure(doc, vars);
        if s.truncated {
            return Err(ErrorCode::QueryTooComplex.error(format!(
                "the operation expands to more than {} fields",
                shape::MAX_WALK
            )));
        }
        if s.introspection {
            let role = ctx
                .data_opt::<Arc<RequestContext>>()
                .map(|rc| rc.access.principal.role);
            if !role.is_some_and(|r| l.introspection_roles.contains(&r)) {
                return Err(ErrorCode::IntrospectionDisabled.error(
                    "introspection (`__schema`, `__type`, `_service`) is not enabled for this role",
                ));
            }
        }
        if s.depth > l.max_depth {
            return Err(ErrorCode::QueryTooDeep.error(format!(
                "the operation is nested {} deep; the limit is {}",
                s.depth, l.max_depth
            )));
        }
        if s.aliases > l.max_aliases {
            return Err(ErrorCode::TooManyAliases.error(format!(
                "the operation uses {} aliases; the limit is {}",
                s.aliases, l.max_aliases
            )));
        }
        if s.root_fields > l.max_root_fields {
            return Err(ErrorCode::TooManyRootFields.error(format!(
                "the operation selects {} root fields; the limit is {}",
                s.root_fields, l.max_root_fields
            )));
        }
        self.representations
            .store(s.representations, Ordering::Relaxed);
        Ok(())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for LimitCheck {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if let Some(at) = nul::find(&doc, variables) {
            return Err(ErrorCode::BadUserInput.error(format!(
                "{at} holds a NUL character (U+0000), which no field accepts"
            )));
        }
        if let Some(at) = nul::find_where(&doc, variables, too_long) {
            return Err(ErrorCode::BadUserInput.error(format!(
                "{at} holds a string longer than {MAX_STRING_CHARS} characters, which no field accepts"
            )));
        }
        let span = tracing::info_span!("graphql.limits", refused = tracing::field::Empty);
        let _entered = span.enter();
        if let Err(refusal) = self.check_shape(ctx, &doc, variables) {
            let code = refusal
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .map(ToString::to_string);
            span.record("refused", code.unwrap_or_default());
            return Err(refusal);
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let batch = self.representations.load(Ordering::Relaxed).max(1);
        let complexity = result.complexity.saturating_mul(batch);
        if complexity > self.limits.max_complexity {
            return Err(vec![ErrorCode::QueryTooComplex.error(format!(
                "the operation's complexity is {complexity}; the limit is {}",
                self.limits.max_complexity
            ))]);
        }
        Ok(result)
    }
}

/// The longest string any argument or variable may hold. No field stores more than 500
/// characters; an unbounded one reached the database (a 100,000-character `lastName` search
/// failed there as an internal error) instead of being the caller's mistake.
pub const MAX_STRING_CHARS: usize = 1_000;

fn too_long(s: &str) -> bool {
    // Bytes bound characters from above: count characters only when the bytes may exceed.
    s.len() > MAX_STRING_CHARS && s.chars().count() > MAX_STRING_CHARS
}

/// The cost of a paginated field: its selection once per requested row.
pub(crate) fn paged(first: Option<i32>, default: i32, child_complexity: usize) -> usize {
    let rows = usize::try_from(first.unwrap_or(default).max(1)).unwrap_or(1);
    rows.saturating_mul(child_complexity).saturating_add(1)
}
