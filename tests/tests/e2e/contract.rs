//! The served schema contains `schema-core.graphql`: every type, field, argument and enum
//! value with the same type, plus `@key` on `Person`.

use std::collections::HashMap;

use async_graphql::parser::types::{ServiceDocument, TypeKind, TypeSystemDefinition};

use crate::support::{shared_dir, TestApp};

/// name → (kind, members as "name: Type(args)" strings, directives)
fn index(doc: &ServiceDocument) -> HashMap<String, (String, Vec<String>, Vec<String>)> {
    let mut out = HashMap::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let directives = t
            .directives
            .iter()
            .map(|d| {
                let args: Vec<String> = d
                    .node
                    .arguments
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.node, v.node))
                    .collect();
                format!("@{}({})", d.node.name.node, args.join(", "))
            })
            .collect();
        let (kind, members) = match &t.kind {
            TypeKind::Scalar => ("scalar", vec![]),
            TypeKind::Object(o) => (
                "type",
                o.fields
                    .iter()
                    .map(|f| {
                        let mut args: Vec<String> = f
                            .node
                            .arguments
                            .iter()
                            .map(|a| {
                                let default = a
                                    .node
                                    .default_value
                                    .as_ref()
                                    .map(|d| format!(" = {}", d.node))
                                    .unwrap_or_default();
                                format!("{}: {}{default}", a.node.name.node, a.node.ty.node)
                            })
                            .collect();
                        args.sort();
                        format!(
                            "{}({}): {}",
                            f.node.name.node,
                            args.join(", "),
                            f.node.ty.node
                        )
                    })
                    .collect(),
            ),
            TypeKind::InputObject(i) => (
                "input",
                i.fields
                    .iter()
                    .map(|f| format!("{}: {}", f.node.name.node, f.node.ty.node))
                    .collect(),
            ),
            TypeKind::Enum(e) => (
                "enum",
                e.values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect(),
            ),
            TypeKind::Interface(_) => ("interface", vec![]),
            TypeKind::Union(_) => ("union", vec![]),
        };
        out.insert(
            t.name.node.to_string(),
            (kind.to_owned(), members, directives),
        );
    }
    out
}

fn missing_from_served(served_sdl: &str) -> Vec<String> {
    let core_text = std::fs::read_to_string(shared_dir().join("spec/schema-core.graphql"))
        .expect("schema-core.graphql");
    let core = async_graphql::parser::parse_schema(&core_text).expect("core parses");
    let served = async_graphql::parser::parse_schema(served_sdl).expect("served SDL parses");
    let (core, served) = (index(&core), index(&served));
    let mut missing = Vec::new();
    for (name, (kind, members, directives)) in &core {
        let Some((skind, smembers, sdirectives)) = served.get(name) else {
            missing.push(format!("{kind} {name}"));
            continue;
        };
        if skind != kind {
            missing.push(format!("{name} is a {skind}, not a {kind}"));
        }
        for m in members {
            if !smembers.contains(m) {
                missing.push(format!("{name}.{m}"));
            }
        }
        for d in directives {
            let norm = |s: &str| s.replace(' ', "");
            if !sdirectives.iter().any(|s| norm(s) == norm(d)) {
                missing.push(format!("{name} {d}"));
            }
        }
    }
    missing.sort();
    missing
}

#[test]
fn the_served_sdl_contains_every_name_of_schema_core() {
    let missing = missing_from_served(&schema::sdl());
    assert!(
        missing.is_empty(),
        "missing from the served schema: {missing:#?}"
    );
}

#[test]
fn the_structural_diff_notices_a_missing_field() {
    let sdl = schema::sdl().replacen("lotNumber: String", "", 1);
    let missing = missing_from_served(&sdl);
    assert_eq!(missing, vec!["Dose.lotNumber(): String".to_owned()]);
}

#[tokio::test]
async fn the_live_service_sdl_is_the_printed_one() {
    let app = TestApp::spawn().await;
    let data = app
        .ok(&app.admin(), "{ _service { sdl } }", serde_json::json!({}))
        .await;
    let live = data["_service"]["sdl"].as_str().expect("sdl");
    assert!(missing_from_served(live).is_empty());
    assert!(live.contains("@key(fields: \"id\")"));
}
