//! Strings holding U+0000 are refused at the edge: no field takes one, and PostgreSQL cannot
//! store, compare or search text containing it (it fails the statement, which would surface
//! as an internal error instead of the caller's mistake).
//!
//! Every argument and directive argument of every operation and fragment is looked at once
//! (spreads are not expanded), and every variable value: linear in the request's size.

use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, Value, Variables};

/// A test of one string (or object key) of a request.
pub(crate) type Refuse = fn(&str) -> bool;

fn const_has(v: &Value, bad: Refuse) -> bool {
    match v {
        Value::String(s) => bad(s),
        Value::List(items) => items.iter().any(|v| const_has(v, bad)),
        Value::Object(fields) => fields.iter().any(|(k, v)| bad(k) || const_has(v, bad)),
        _ => false,
    }
}

/// A literal of the document (variables in it stand for nothing here; their values are
/// checked on their own).
macro_rules! literal_has {
    ($v:expr, $bad:expr) => {
        $v.clone()
            .into_const_with(|_| Ok::<_, ()>(Value::Null))
            .is_ok_and(|c| const_has(&c, $bad))
    };
}

fn in_directives(directives: &[Positioned<Directive>], bad: Refuse) -> Option<String> {
    directives.iter().find_map(|d| {
        d.node
            .arguments
            .iter()
            .find(|(_, v)| literal_has!(v.node, bad))
            .map(|(name, _)| format!("argument `{}` of `@{}`", name.node, d.node.name.node))
    })
}

fn in_set(set: &SelectionSet, bad: Refuse) -> Option<String> {
    set.items.iter().find_map(|item| match &item.node {
        Selection::Field(f) => f
            .node
            .arguments
            .iter()
            .find(|(_, v)| literal_has!(v.node, bad))
            .map(|(name, _)| format!("argument `{}` of `{}`", name.node, f.node.name.node))
            .or_else(|| in_directives(&f.node.directives, bad))
            .or_else(|| in_set(&f.node.selection_set.node, bad)),
        Selection::FragmentSpread(s) => in_directives(&s.node.directives, bad),
        Selection::InlineFragment(i) => in_directives(&i.node.directives, bad)
            .or_else(|| in_set(&i.node.selection_set.node, bad)),
    })
}

/// Where the first string with a NUL is, if any.
pub(crate) fn find(doc: &ExecutableDocument, variables: &Variables) -> Option<String> {
    find_where(doc, variables, |s| s.contains('\0'))
}

/// Where the first string that `bad` refuses is, if any.
pub(crate) fn find_where(
    doc: &ExecutableDocument,
    variables: &Variables,
    bad: Refuse,
) -> Option<String> {
    if let Some((name, _)) = variables.iter().find(|(_, v)| const_has(v, bad)) {
        return Some(format!("variable `${name}`"));
    }
    for (_, op) in doc.operations.iter() {
        let op = &op.node;
        let default = op.variable_definitions.iter().find(|d| {
            d.node
                .default_value
                .as_ref()
                .is_some_and(|v| const_has(&v.node, bad))
        });
        if let Some(d) = default {
            return Some(format!("the default of `${}`", d.node.name.node));
        }
        if let Some(found) =
            in_directives(&op.directives, bad).or_else(|| in_set(&op.selection_set.node, bad))
        {
            return Some(found);
        }
    }
    doc.fragments.values().find_map(|f| {
        in_directives(&f.node.directives, bad).or_else(|| in_set(&f.node.selection_set.node, bad))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, variables: serde_json::Value) -> Option<String> {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        find(&doc, &Variables::from_json(variables))
    }

    #[test]
    fn a_nul_anywhere_in_the_input_is_found() {
        let none = serde_json::json!({});
        assert_eq!(
            check(
                "{ persons(filter: {lastName: \"Olson\"}) { edges { cursor } } }",
                none.clone()
            ),
            None
        );
        assert_eq!(
            check(
                "{ persons(filter: {lastName: \"a\\u0000\"}) { edges { cursor } } }",
                none.clone()
            )
            .as_deref(),
            Some("argument `filter` of `persons`")
        );
        assert_eq!(
            check(
                "query($f: PersonFilter!) { persons(filter: $f) { edges { cursor } } }",
                serde_json::json!({ "f": { "firstName": "\u{0}" } })
            )
            .as_deref(),
            Some("variable `$f`")
        );
        assert!(check(
            "{ ...F } fragment F on Query { person(id: \"\\u0000\") { id } }",
            none.clone()
        )
        .is_some());
        assert!(check("{ me @include(if: true) { role ... on Principal @skip(if: false) { subject } } vaccines { cvx @deprecated(reason: \"\\u0000\") } }", none.clone()).is_some());
        assert!(check("query($s: String = \"\\u0000\") { me { role } }", none).is_some());
    }
}
