//! What a document asks for, measured on the parsed text before validation: depth, aliases,
//! root fields, introspection and `_entities` representations.
//!
//! Fragment spreads are expanded, so a fragment reused a hundred times counts a hundred times;
//! the walk stops at [`MAX_WALK`] fields, so a document built to expand exponentially costs
//! no more than that to refuse.

use std::collections::HashMap;

use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value, Variables};

/// Fields visited at most while measuring one document.
pub(crate) const MAX_WALK: usize = 10_000;

/// The measurements of one document (the largest over its operations).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Nesting of object fields, introspection subtrees left out (GraphiQL's schema query
    /// is deep by nature and is governed by the introspection rule instead).
    pub depth: usize,
    pub aliases: usize,
    pub root_fields: usize,
    /// `__schema`, `__type` or federation's `_service` is selected somewhere.
    pub introspection: bool,
    /// Representations passed to `_entities` (inline or through a variable).
    pub representations: usize,
    /// The walk hit [`MAX_WALK`].
    pub truncated: bool,
}

struct Walk<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    shape: Shape,
    visited: usize,
    /// Fragments being expanded (a cycle is a validation error; here it just stops).
    stack: Vec<&'a Name>,
}

/// Measures `doc` with `variables`.
pub(crate) fn measure(doc: &ExecutableDocument, variables: &Variables) -> Shape {
    let mut walk = Walk {
        fragments: &doc.fragments,
        variables,
        shape: Shape::default(),
        visited: 0,
        stack: Vec::new(),
    };
    for (_, op) in doc.operations.iter() {
        let mut roots = 0;
        walk.selection_set(&op.node.selection_set, 1, &mut roots);
        walk.shape.root_fields = walk.shape.root_fields.max(roots);
    }
    walk.shape
}

impl<'a> Walk<'a> {
    /// Visits a selection set at `depth`; `fields` counts the fields directly in it (through
    /// fragments), which at the root is the root field count.
    fn selection_set(
        &mut self,
        set: &'a Positioned<SelectionSet>,
        depth: usize,
        fields: &mut usize,
    ) {
        for selection in &set.node.items {
            if self.visited >= MAX_WALK {
                self.shape.truncated = true;
                return;
            }
            match &selection.node {
                Selection::Field(field) => {
                    self.visited += 1;
                    *fields += 1;
                    let field = &field.node;
                    if field.alias.is_some() {
                        self.shape.aliases += 1;
                    }
                    let name = field.name.node.as_str();
                    if matches!(name, "__schema" | "__type" | "_service") {
                        self.shape.introspection = true;
                        continue;
                    }
                    if name == "_entities" {
                        self.shape.representations =
                            self.shape.representations.max(self.representations(field));
                    }
                    if !field.selection_set.node.items.is_empty() {
                        self.shape.depth = self.shape.depth.max(depth);
                        let mut children = 0;
                        self.selection_set(&field.selection_set, depth + 1, &mut children);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set, depth, fields);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if self.stack.contains(&name) {
                        continue;
                    }
                    let Some(fragment) = self.fragments.get(name) else {
                        continue;
                    };
                    self.stack.push(name);
                    self.selection_set(&fragment.node.selection_set, depth, fields);
                    self.stack.pop();
                }
            }
        }
    }

    fn representations(&self, field: &async_graphql::parser::types::Field) -> usize {
        let Some((_, value)) = field
            .arguments
            .iter()
            .find(|(name, _)| name.node == "representations")
        else {
            return 0;
        };
        let resolved = value
            .node
            .clone()
            .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()));
        match resolved {
            Ok(Value::List(items)) => items.len(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str) -> Shape {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        measure(&doc, &Variables::default())
    }

    #[test]
    fn depth_counts_object_fields() {
        assert_eq!(shape("{ me { role } }").depth, 1);
        assert_eq!(
            shape("{ person(id: \"x\") { doses { administeredBy { name } } } }").depth,
            3
        );
        assert_eq!(shape("{ __typename }").depth, 0);
    }

    #[test]
    fn fragments_count_every_time_they_are_spread() {
        let s = shape(
            "query { a: me { ...F } b: me { ...F } } fragment F on Principal { x: role y: role }",
        );
        assert_eq!(s.aliases, 6);
        assert_eq!(s.root_fields, 2);
        assert_eq!(s.depth, 1);
    }

    #[test]
    fn root_fields_count_through_inline_fragments() {
        assert_eq!(
            shape("{ me { role } ... on Query { vaccines { cvx } } }").root_fields,
            2
        );
    }

    #[test]
    fn introspection_is_seen_anywhere_and_not_counted_in_depth() {
        let s = shape("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }");
        assert!(s.introspection);
        assert_eq!(s.depth, 0);
        assert!(shape("{ _service { sdl } }").introspection);
        assert!(!shape("{ __typename me { role } }").introspection);
    }

    #[test]
    fn representations_are_counted_inline_and_through_variables() {
        let inline = shape(
            "{ _entities(representations: [{__typename: \"Person\", id: \"1\"}, {__typename: \"Person\", id: \"2\"}]) { __typename } }",
        );
        assert_eq!(inline.representations, 2);
        let doc = async_graphql::parser::parse_query(
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        )
        .expect("parses");
        let vars = Variables::from_json(serde_json::json!({ "r": [{}, {}, {}] }));
        assert_eq!(measure(&doc, &vars).representations, 3);
    }

    #[test]
    fn an_exponential_fragment_document_is_cut_short() {
        let mut q = String::from("{ ...F0 }");
        for i in 0..30 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        q.push_str(" fragment F30 on Query { __typename }");
        let s = shape(&q);
        assert!(s.truncated);
    }

    #[test]
    fn a_fragment_cycle_does_not_loop() {
        let s =
            shape("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A me { role } }");
        assert_eq!(s.root_fields, 1);
    }
}
