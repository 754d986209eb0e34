//! `Inline<T>`: an object type of already computed data, resolved in one pass over its
//! selection set instead of field by field through the executor.
//!
//! async-graphql resolves each field of an object as a boxed future, looks the field up in the
//! registry and runs it through every extension's `resolve` hook. For the compliance of a
//! 1,000-student roster (some 70,000 leaf fields) that machinery was half of the request's CPU
//! time. `Inline<T>` keeps `T`'s type (the same name, fields and SDL; it registers `T` itself)
//! and resolves each field with `T`'s own generated resolver — guards included — so what a
//! field answers is written once; it only skips the per-field scheduling, and a field's error
//! is handled as the executor (with [`crate::Nulls`]) handles it: recorded at its path, the
//! key present with `null`, a non-null field's `null` propagated to the nearest nullable
//! parent.
//!
//! The fields run one after another, and no extension sees them: use it only for types whose
//! own fields load nothing (a load awaited field by field would cost a batch round trip per
//! field) and need no span of their own. A field returning another object type is fine: that
//! object is resolved by its own `OutputType`, concurrently across a list as ever.
//!
//! `@skip`/`@include` are applied by async-graphql before execution, so they are gone here;
//! a field that still carries a directive (a custom one) is left to the standard executor.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{resolve_container, ContainerType};
use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value,
};

/// `T`, resolved in one pass (see the module docs).
#[derive(Debug, Clone)]
pub struct Inline<T>(pub T);

impl<T: ContainerType + OutputType> OutputType for Inline<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let type_name = T::type_name();
        let fields = match selected_fields(ctx, &ctx.item.node, &type_name)? {
            Some(fields) => fields,
            None => return resolve_container(ctx, &self.0).await,
        };
        let mut object = IndexMap::with_capacity(fields.len());
        for field in fields {
            let key = field.node.response_key().node.clone();
            if field.node.name.node == "__typename" {
                insert_merged(&mut object, key, Value::String(type_name.to_string()));
                continue;
            }
            let ctx_field = ctx.with_field(field);
            match self.0.resolve_field(&ctx_field).await {
                Ok(value) => insert_merged(&mut object, key, value.unwrap_or_default()),
                // As `Nulls` does for the executor: a nullable field answers null with its
                // error; a non-null one fails this object, whose parent field takes the null.
                Err(error)
                    if crate::nulls::field_is_nullable(
                        &ctx.schema_env.registry,
                        &type_name,
                        &field.node.name.node,
                    ) =>
                {
                    ctx.add_error(error);
                    insert_merged(&mut object, key, Value::Null);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(Value::Object(object))
    }
}

/// The fields `set` selects on `type_name`, fragments flattened in document order; `None` when
/// one carries a directive the standard executor must apply.
fn selected_fields<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    type_name: &str,
) -> ServerResult<Option<Vec<&'a Positioned<Field>>>> {
    let mut fields = Vec::with_capacity(set.items.len());
    // Selection sets still to walk, the next item of each: fragments are entered where they
    // appear, so the response keeps the document's field order.
    let mut stack: Vec<std::slice::Iter<'a, Positioned<Selection>>> = vec![set.items.iter()];
    while let Some(items) = stack.last_mut() {
        let Some(selection) = items.next() else {
            stack.pop();
            continue;
        };
        if !selection.node.directives().is_empty() {
            return Ok(None);
        }
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                fields.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let fragment = ctx.query_env.fragments.get(name).ok_or_else(|| {
                    ServerError::new(format!(r#"Unknown fragment "{name}"."#), Some(spread.pos))
                })?;
                (
                    Some(fragment.node.type_condition.node.on.node.as_str()),
                    &fragment.node.selection_set.node,
                )
            }
            Selection::InlineFragment(fragment) => (
                fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str()),
                &fragment.node.selection_set.node,
            ),
        };
        // An object type implements no interface here: a fragment applies when it names this
        // type or no type (validation has refused any other condition).
        if condition.is_none_or(|c| c == type_name) {
            stack.push(inner.items.iter());
        }
    }
    Ok(Some(fields))
}

/// Adds `value` under `key`, merging objects (and lists of objects) selected twice under one
/// key, as the executor does.
fn insert_merged(target: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    let Some(previous) = target.get_mut(&key) else {
        target.insert(key, value);
        return;
    };
    match (previous, value) {
        (Value::Object(into), Value::Object(from)) => {
            for (k, v) in from {
                insert_merged(into, k, v);
            }
        }
        (Value::List(into), Value::List(from)) => {
            for (slot, v) in into.iter_mut().zip(from) {
                if let (Value::Object(into), Value::Object(from)) = (slot, v) {
                    for (k, v) in from {
                        insert_merged(into, k, v);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Enum, Object, Schema, SimpleObject};

    use super::Inline;

    #[derive(Enum, Clone, Copy, PartialEq, Eq)]
    enum Standing {
        Met,
        Unmet,
    }

    #[derive(SimpleObject, Clone)]
    struct Item {
        name: String,
        count: i32,
        standing: Standing,
        due: Option<String>,
    }

    #[derive(SimpleObject, Clone)]
    struct Summary {
        standing: Standing,
        items: Vec<Inline<Item>>,
        plain_items: Vec<Item>,
        guarded: Inline<Guarded>,
        plain_guarded: Guarded,
    }

    /// Fields that refuse, as guarded fields do.
    #[derive(Clone)]
    struct Guarded;

    #[Object]
    impl Guarded {
        async fn open(&self) -> i32 {
            1
        }
        async fn refused(&self) -> async_graphql::Result<Option<i32>> {
            Err("refused".into())
        }
        async fn refused_required(&self) -> async_graphql::Result<i32> {
            Err("refused too".into())
        }
    }

    fn summary() -> Summary {
        let items = vec![
            Item {
                name: "MMR".into(),
                count: 2,
                standing: Standing::Met,
                due: None,
            },
            Item {
                name: "DTaP".into(),
                count: 3,
                standing: Standing::Unmet,
                due: Some("2027-01-01".into()),
            },
        ];
        Summary {
            standing: Standing::Unmet,
            items: items.iter().cloned().map(Inline).collect(),
            plain_items: items,
            guarded: Inline(Guarded),
            plain_guarded: Guarded,
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn standard(&self) -> Summary {
            summary()
        }
        async fn inline(&self) -> Inline<Summary> {
            Inline(summary())
        }
    }

    /// Runs `selection` under `standard` and `inline` (with `items` and `plainItems` swapped
    /// in for each other) and returns both answers.
    async fn both(selection: &str, variables: serde_json::Value) -> (String, String) {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(crate::Nulls)
            .finish();
        let run = |root: &str, list: &str, guarded: &str| {
            // Validation refuses unused variables and fragments: declare only those used.
            let declared: Vec<String> = ["yes", "no"]
                .iter()
                .filter(|v| selection.contains(&format!("${v}")))
                .map(|v| format!("${v}: Boolean!"))
                .collect();
            let vars = if declared.is_empty() {
                String::new()
            } else {
                format!("({})", declared.join(", "))
            };
            let mut query = format!(
                "query{vars} {{ {root} {} }}",
                selection.replace("LIST", &format!("list: {list}"))
            );
            if selection.contains("...F") {
                query.push_str(" fragment F on Item { count standing }");
            }
            if selection.contains("...S") {
                query.push_str(" fragment S on Summary { standing }");
            }
            let query = query.replace("GUARDED", &format!("g: {guarded}"));
            let request = async_graphql::Request::new(query)
                .variables(async_graphql::Variables::from_json(variables.clone()));
            let schema = schema.clone();
            async move {
                let response = schema.execute(request).await;
                let errors: Vec<(String, String)> = response
                    .errors
                    .iter()
                    .map(|e| (e.message.clone(), format!("{:?}", e.path)))
                    .collect();
                format!(
                    "{} {errors:?}",
                    serde_json::to_string(&response.data).expect("json")
                )
            }
        };
        let standard = run("standard", "plainItems", "plainGuarded").await;
        let inline = run("inline", "items", "guarded").await;
        (
            standard.replace("standard", "ROOT"),
            inline.replace("inline", "ROOT"),
        )
    }

    #[tokio::test]
    async fn answers_exactly_as_the_standard_executor() {
        let vars = serde_json::json!({ "yes": true, "no": false });
        for selection in [
            "{ standing LIST { name count standing due } }",
            "{ __typename s: standing LIST { __typename n: name due } }",
            "{ ...S LIST { ...F name } }",
            "{ ... on Summary { standing } LIST { ... { name } ... on Item { due } } }",
            "{ LIST { name } LIST { count name } standing standing }",
            "{ LIST { name count @skip(if: $yes) due @include(if: $yes) standing @include(if: $no) } }",
            "{ LIST { ...F @skip(if: $no) ... on Item @include(if: $no) { name } } }",
            "{ GUARDED { open refused } standing }",
            "{ GUARDED { refused } }",
            "{ GUARDED { open refusedRequired } standing }",
        ] {
            let (standard, inline) = both(selection, vars.clone()).await;
            assert_eq!(inline, standard, "{selection}");
        }
    }

    #[tokio::test]
    async fn keeps_the_types_sdl() {
        let sdl = Schema::new(Query, EmptyMutation, EmptySubscription).sdl();
        assert!(sdl.contains("type Item {"), "{sdl}");
        assert!(sdl.contains("items: [Item!]!"), "{sdl}");
        assert!(sdl.contains("inline: Summary!"), "{sdl}");
    }
}
