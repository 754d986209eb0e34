//! The served schema as the generators see it: every object, input, enum and scalar of
//! `schema::sdl()`, plus what the SDL print leaves out but the server answers (introspection's
//! `__schema`/`__type` and federation's `_entities`/`_service`).

use std::collections::BTreeMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};

/// What the printed federation SDL omits.
const SUPPLEMENT: &str = r#"
scalar _Any
union _Entity = Person | Organization | Dose
type _Service { sdl: String }
type __Schema {
  description: String
  types: [__Type!]!
  queryType: __Type!
  mutationType: __Type
  subscriptionType: __Type
  directives: [__Directive!]!
}
type __Type {
  kind: __TypeKind!
  name: String
  description: String
  fields(includeDeprecated: Boolean = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields: [__InputValue!]
  ofType: __Type
  specifiedByURL: String
  isOneOf: Boolean
}
type __Field {
  name: String!
  description: String
  args: [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}
type __InputValue { name: String! description: String type: __Type! defaultValue: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
type __Directive {
  name: String!
  description: String
  locations: [__DirectiveLocation!]!
  args: [__InputValue!]!
  isRepeatable: Boolean!
}
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT }
type __RootExtras {
  __schema: __Schema!
  __type(name: String!): __Type
  _entities(representations: [_Any!]!): [_Entity]!
  _service: _Service!
}
"#;

/// A field of an object or interface type.
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub args: Vec<InputDef>,
    pub ty: Type,
}

/// An argument or an input object's field.
#[derive(Debug, Clone)]
pub struct InputDef {
    pub name: String,
    pub ty: Type,
    pub has_default: bool,
}

#[derive(Debug, Clone)]
pub enum TypeDef {
    Object(Vec<FieldDef>),
    Union(Vec<String>),
    Input(Vec<InputDef>),
    Enum(Vec<String>),
    Scalar,
}

/// The type system, in name order (generation is deterministic for a given input).
#[derive(Debug, Clone)]
pub struct Model {
    pub types: BTreeMap<String, TypeDef>,
    pub query: String,
    pub mutation: String,
}

fn inputs(
    args: &[async_graphql::Positioned<async_graphql::parser::types::InputValueDefinition>],
) -> Vec<InputDef> {
    args.iter()
        .map(|a| InputDef {
            name: a.node.name.node.to_string(),
            ty: a.node.ty.node.clone(),
            has_default: a.node.default_value.is_some(),
        })
        .collect()
}

/// The fields of an object or interface type.
fn outputs(
    fields: &[async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>],
) -> Vec<FieldDef> {
    fields
        .iter()
        .map(|f| FieldDef {
            name: f.node.name.node.to_string(),
            args: inputs(&f.node.arguments),
            ty: f.node.ty.node.clone(),
        })
        .collect()
}

fn add(types: &mut BTreeMap<String, TypeDef>, sdl: &str) {
    let doc = async_graphql::parser::parse_schema(sdl).expect("the SDL parses");
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = t.node;
        let def = match t.kind {
            TypeKind::Scalar => TypeDef::Scalar,
            TypeKind::Object(o) => TypeDef::Object(outputs(&o.fields)),
            TypeKind::Interface(i) => TypeDef::Object(outputs(&i.fields)),
            TypeKind::Union(u) => {
                TypeDef::Union(u.members.iter().map(|m| m.node.to_string()).collect())
            }
            TypeKind::Enum(e) => TypeDef::Enum(
                e.values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect(),
            ),
            TypeKind::InputObject(i) => TypeDef::Input(inputs(&i.fields)),
        };
        types.insert(t.name.node.to_string(), def);
    }
}

impl Model {
    /// The schema the gateway serves (the same `schema::build()` it runs).
    pub fn served() -> Model {
        let mut types = BTreeMap::new();
        add(&mut types, &schema::sdl());
        add(&mut types, SUPPLEMENT);
        for builtin in ["String", "Int", "Float", "Boolean", "ID"] {
            types.entry(builtin.to_owned()).or_insert(TypeDef::Scalar);
        }
        let extras = match types.remove("__RootExtras") {
            Some(TypeDef::Object(fields)) => fields,
            _ => Vec::new(),
        };
        if let Some(TypeDef::Object(fields)) = types.get_mut("Query") {
            fields.extend(extras);
        }
        assert!(
            matches!(types.get("Query"), Some(TypeDef::Object(f)) if f.len() > 5),
            "the served SDL has a Query type"
        );
        assert!(
            matches!(types.get("Mutation"), Some(TypeDef::Object(f)) if !f.is_empty()),
            "the served SDL has a Mutation type"
        );
        Model {
            types,
            query: "Query".into(),
            mutation: "Mutation".into(),
        }
    }

    pub fn fields(&self, ty: &str) -> &[FieldDef] {
        match self.types.get(ty) {
            Some(TypeDef::Object(f)) => f,
            _ => &[],
        }
    }

    /// Object and union type names, for `... on T` fragments.
    pub fn composite_names(&self) -> Vec<&str> {
        self.types
            .iter()
            .filter(|(_, d)| matches!(d, TypeDef::Object(_) | TypeDef::Union(_)))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The object types a selection on `ty` may narrow to.
    pub fn possible(&self, ty: &str) -> Vec<String> {
        match self.types.get(ty) {
            Some(TypeDef::Union(members)) => members.clone(),
            Some(TypeDef::Object(_)) => vec![ty.to_owned()],
            _ => Vec::new(),
        }
    }

    /// Whether a field of this (named) type needs a selection set.
    pub fn is_composite(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            Some(TypeDef::Object(_) | TypeDef::Union(_))
        )
    }
}

/// The innermost named type.
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}
