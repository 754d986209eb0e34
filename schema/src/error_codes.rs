//! Gives every error async-graphql makes on its own (validation, argument coercion, `_entities`
//! representations) an `extensions.code`, from where the error arose rather than from its
//! English message. Errors from resolvers already carry theirs ([`crate::ApiError`]).
//!
//! - An error at a field's path comes from async-graphql coercing what the caller sent into
//!   an argument or a representation: `BAD_USER_INPUT`.
//! - A validation error located at an argument the schema declares is a value of the wrong
//!   type (a literal or a variable's value): `BAD_USER_INPUT`; so is an error located at any
//!   argument of a request that executed (it passed validation: the value is the caller's).
//! - Any other error of a request that never executed: `GRAPHQL_VALIDATION_FAILED`.
//! - Anything else: `INTERNAL_SERVER_ERROR`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest,
};
use async_graphql::parser::types::{
    Directive, ExecutableDocument, Selection, SelectionSet, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Pos, Positioned, Response, ServerError, ServerResult, Variables};

use crate::ErrorCode;

/// The extension that codes async-graphql's own errors.
pub(crate) struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CodeErrors::default())
    }
}

/// Where a document's arguments are: the position of each argument's name, with the field
/// (or `@directive`) and argument it names.
type Arguments = HashMap<Pos, (String, String)>;

#[derive(Default)]
struct CodeErrors {
    arguments: Mutex<Arguments>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for CodeErrors {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        if response.errors.iter().any(|e| code_of(e).is_none()) {
            let executed = !matches!(response.data, async_graphql::Value::Null);
            let arguments = self.arguments.lock().unwrap_or_else(|e| e.into_inner());
            for error in &mut response.errors {
                if code_of(error).is_none() {
                    let code = classify(error, executed, &arguments);
                    error
                        .extensions
                        .get_or_insert_with(Default::default)
                        .set("code", code.as_str());
                }
            }
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mut arguments = self.arguments.lock().unwrap_or_else(|e| e.into_inner());
        for (_, op) in doc.operations.iter() {
            directive_arguments(&op.node.directives, &mut arguments);
            set_arguments(&op.node.selection_set.node, &mut arguments);
        }
        for fragment in doc.fragments.values() {
            directive_arguments(&fragment.node.directives, &mut arguments);
            set_arguments(&fragment.node.selection_set.node, &mut arguments);
        }
        Ok(doc)
    }
}

fn code_of(error: &ServerError) -> Option<&async_graphql::Value> {
    error.extensions.as_ref().and_then(|x| x.get("code"))
}

fn classify(error: &ServerError, executed: bool, arguments: &Arguments) -> ErrorCode {
    if !error.path.is_empty() {
        return ErrorCode::BadUserInput;
    }
    let at_declared_argument = error.locations.iter().any(|pos| {
        arguments
            .get(pos)
            .is_some_and(|argument| declared_arguments().contains(argument))
    });
    // An executed request passed validation, so an error located at any of its arguments
    // (introspection's `__type(name:)` too, which the served SDL does not declare) is a value
    // the caller sent, e.g. a variable declared but not given.
    let at_an_argument_of_executed = executed
        && error
            .locations
            .iter()
            .any(|pos| arguments.contains_key(pos));
    if at_declared_argument || at_an_argument_of_executed {
        ErrorCode::BadUserInput
    } else if executed {
        ErrorCode::InternalServerError
    } else {
        ErrorCode::GraphqlValidationFailed
    }
}

fn directive_arguments(directives: &[Positioned<Directive>], out: &mut Arguments) {
    for d in directives {
        for (name, value) in &d.node.arguments {
            let argument = (format!("@{}", d.node.name.node), name.node.to_string());
            // Errors point at the argument's name or at its value (a variable not given).
            out.insert(value.pos, argument.clone());
            out.insert(name.pos, argument);
        }
    }
}

fn set_arguments(set: &SelectionSet, out: &mut Arguments) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                for (name, value) in &f.node.arguments {
                    let argument = (f.node.name.node.to_string(), name.node.to_string());
                    // Errors point at the argument's name or at its value (a variable not given).
                    out.insert(value.pos, argument.clone());
                    out.insert(name.pos, argument);
                }
                directive_arguments(&f.node.directives, out);
                set_arguments(&f.node.selection_set.node, out);
            }
            Selection::FragmentSpread(s) => directive_arguments(&s.node.directives, out),
            Selection::InlineFragment(i) => {
                directive_arguments(&i.node.directives, out);
                set_arguments(&i.node.selection_set.node, out);
            }
        }
    }
}

/// Every (field name, argument name) the schema declares on some type, directives as
/// `@name`, introspection's included: an argument the caller misspelt is not among them.
fn declared_arguments() -> &'static HashSet<(String, String)> {
    static DECLARED: OnceLock<HashSet<(String, String)>> = OnceLock::new();
    DECLARED.get_or_init(|| {
        let mut declared: HashSet<(String, String)> = [
            ("@skip", "if"),
            ("@include", "if"),
            ("@deprecated", "reason"),
            ("__type", "name"),
            ("fields", "includeDeprecated"),
            ("enumValues", "includeDeprecated"),
            ("inputFields", "includeDeprecated"),
            ("args", "includeDeprecated"),
        ]
        .into_iter()
        .map(|(f, a)| (f.to_owned(), a.to_owned()))
        .collect();
        let sdl = crate::sdl();
        let Ok(doc) = async_graphql::parser::parse_schema(&sdl) else {
            return declared;
        };
        for def in &doc.definitions {
            match def {
                TypeSystemDefinition::Type(t) => {
                    let fields = match &t.node.kind {
                        TypeKind::Object(o) => &o.fields,
                        TypeKind::Interface(i) => &i.fields,
                        _ => continue,
                    };
                    for f in fields {
                        for a in &f.node.arguments {
                            declared.insert((
                                f.node.name.node.to_string(),
                                a.node.name.node.to_string(),
                            ));
                        }
                    }
                }
                TypeSystemDefinition::Directive(d) => {
                    for a in &d.node.arguments {
                        declared.insert((
                            format!("@{}", d.node.name.node),
                            a.node.name.node.to_string(),
                        ));
                    }
                }
                TypeSystemDefinition::Schema(_) => {}
            }
        }
        declared
    })
}
