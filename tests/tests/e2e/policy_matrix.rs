//! Every cell of the access matrix, for every record state, through HTTP.

use serde_json::{json, Value};

use crate::policy_fixture::{
    oracle_cell, oracle_field, oracle_record, Cell, Expect, Fixture, CELLS, STATES, WHO,
};
use crate::support::error_code;

/// Checks one person(id) response against the oracle; returns a description of each leak or
/// wrong refusal.
pub fn check(body: &Value, expect: Expect, cells: &[(Cell, bool)]) -> Vec<String> {
    let mut wrong = Vec::new();
    let person = &body["data"]["person"];
    match expect {
        Expect::NotFound | Expect::Locked => {
            let code = if expect == Expect::NotFound {
                "NOT_FOUND"
            } else {
                "RECORD_LOCKED"
            };
            if !person.is_null() {
                wrong.push(format!("record served, expected {code}"));
            }
            if error_code(body) != Some(code) {
                wrong.push(format!("code {:?}, expected {code}", error_code(body)));
            }
        }
        Expect::Record => {
            for (cell, allowed) in cells {
                let (field, _) = cell.selection();
                let value = &person[field];
                let forbidden = body["errors"].as_array().is_some_and(|errs| {
                    errs.iter().any(|e| {
                        e["path"] == json!(["person", field])
                            && e["extensions"]["code"] == "FORBIDDEN"
                            || e["path"].as_array().is_some_and(|p| {
                                p.len() == 4
                                    && p[1] == field
                                    && e["extensions"]["code"] == "FORBIDDEN"
                            })
                    })
                });
                let (served, refused) = match cell {
                    // Details are per dose: every item carries its lot number, or none does
                    // and each refusal is FORBIDDEN. (An opted-out record has no doses.)
                    Cell::DoseDetails => {
                        let doses = value.as_array().cloned().unwrap_or_default();
                        (
                            value.is_array() && doses.iter().all(|x| !x["lotNumber"].is_null()),
                            doses.iter().all(|x| x["lotNumber"].is_null())
                                && (doses.is_empty() || forbidden),
                        )
                    }
                    _ => (!value.is_null(), value.is_null() && forbidden),
                };
                if *allowed && !served {
                    wrong.push(format!("{cell:?} refused but allowed"));
                }
                if !*allowed && !refused {
                    wrong.push(format!(
                        "{cell:?} served (or not FORBIDDEN) but refused by policy"
                    ));
                }
            }
        }
    }
    wrong
}

pub fn query_for(cells: &[Cell]) -> String {
    let selection: Vec<&str> = cells.iter().map(|c| c.selection().1).collect();
    format!(
        "query($id: ID!) {{ person(id: $id) {{ id {} }} }}",
        selection.join(" ")
    )
}

#[tokio::test]
async fn every_cell_of_the_matrix_for_every_record_state() {
    let fx = Fixture::build().await;
    let mut failures = Vec::new();
    for who in WHO {
        let token = fx.token(who, None);
        for (state, id) in &fx.records {
            // Doses and their details are asked separately: a refused detail nulls the list.
            for cells in [&CELLS[..5], &CELLS[5..6], &CELLS[6..]] {
                let body = fx
                    .app
                    .gql(&token, &query_for(cells), json!({ "id": id }))
                    .await;
                let expect = oracle_record(who, *state, true);
                let cells: Vec<(Cell, bool)> =
                    cells.iter().map(|c| (*c, oracle_cell(who, *c))).collect();
                for w in check(&body, expect, &cells) {
                    failures.push(format!("{who:?} on {state:?}: {w}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} policy violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn searches_list_exactly_the_records_the_policy_shows() {
    let fx = Fixture::build().await;
    for who in WHO {
        let token = fx.token(who, None);
        let data = fx
            .app
            .ok(&token, "{ persons(filter: { lastName: \"Matrix\" }, first: 50) { edges { node { id } } } }", json!({}))
            .await;
        let mut got: Vec<String> = data["persons"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
            .collect();
        got.sort();
        let mut expected: Vec<String> = STATES
            .iter()
            .filter(|s| oracle_record(who, **s, true) == Expect::Record)
            .map(|s| fx.record(*s).to_owned())
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{who:?}");
    }
}

/// The selection that reads `ty.field` of a record (`Dose` fields through `doses`), from the
/// served SDL: objects get `__typename`, required arguments a fixture value.
fn selection_for(objects: &[String], ty: &str, field: &str) -> String {
    let inner = if field == "schoolCompliance" {
        "schoolCompliance(organizationId: $org) { __typename }".to_owned()
    } else if objects.iter().any(|o| o == &format!("{ty}.{field}")) {
        format!("{field} {{ __typename }}")
    } else {
        field.to_owned()
    };
    if ty == "Dose" {
        format!("doses {{ {inner} }}")
    } else {
        inner
    }
}

/// `Type.field` of every field of `Person` and `Dose` whose type is an object.
fn object_fields() -> Vec<String> {
    use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(schema::sdl()).expect("sdl");
    let objects: Vec<String> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) if matches!(t.node.kind, TypeKind::Object(_)) => {
                Some(t.node.name.node.to_string())
            }
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for d in &doc.definitions {
        if let TypeSystemDefinition::Type(t) = d {
            if let TypeKind::Object(o) = &t.node.kind {
                for f in &o.fields {
                    let mut base = &f.node.ty.node.base;
                    while let BaseType::List(inner) = base {
                        base = &inner.base;
                    }
                    if let BaseType::Named(n) = base {
                        if objects.iter().any(|o| o == n.as_str()) {
                            out.push(format!("{}.{}", t.node.name.node, f.node.name.node));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Every field of `Person` and `Dose` in the served schema (the coverage map, which the
/// schema's coverage test proves complete), for every principal, on a record it may see:
/// readable fields answer without refusal, refused ones answer `null` with `FORBIDDEN` at
/// their path — and the key is there either way.
#[tokio::test]
async fn every_mapped_field_for_every_principal() {
    let fx = Fixture::build().await;
    let objects = object_fields();
    let mut failures = Vec::new();
    for who in WHO {
        let token = fx.token(who, None);
        let Some(state) = STATES
            .iter()
            .find(|s| oracle_record(who, **s, true) == Expect::Record)
        else {
            continue;
        };
        let id = fx.record(*state);
        for (ty, field, guard) in schema::coverage::FIELDS {
            let schema::coverage::Guard::Field(f) = guard else {
                continue;
            };
            // A dose's fields are reachable only where doses are.
            if *ty == "Dose" && !oracle_field(who, policies::Field::DoseVaccine) {
                continue;
            }
            let selection = selection_for(&objects, ty, field);
            let org = if selection.contains("$org") {
                ", $org: ID!"
            } else {
                ""
            };
            let query = format!("query($id: ID!{org}) {{ person(id: $id) {{ id {selection} }} }}");
            let body = fx
                .app
                .gql(&token, &query, json!({ "id": id, "org": fx.school }))
                .await;
            let refused = body["errors"].as_array().is_some_and(|errors| {
                errors.iter().any(|e| {
                    e["extensions"]["code"] == "FORBIDDEN"
                        && e["path"].as_array().and_then(|p| p.last()) == Some(&json!(field))
                })
            });
            let person = &body["data"]["person"];
            let holder = if *ty == "Dose" {
                &person["doses"][0]
            } else {
                person
            };
            let present = holder.as_object().is_some_and(|o| o.contains_key(*field));
            let allowed = oracle_field(who, *f);
            if allowed && refused {
                failures.push(format!("{who:?}: {ty}.{field} refused but allowed: {body}"));
            }
            let refused_as_null = refused && holder[*field].is_null();
            if !allowed && !refused_as_null {
                failures.push(format!("{who:?}: {ty}.{field} served but refused: {body}"));
            }
            if !present {
                failures.push(format!(
                    "{who:?}: {ty}.{field} missing from the response: {body}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} policy violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
