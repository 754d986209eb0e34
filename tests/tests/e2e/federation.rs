//! Apollo Federation: `_entities` answers exactly what the matching root field answers, for
//! every principal and record state, logs the access, and leaks nothing through a batch.

use gateway::auth::TokenRequest;
use policies::Role;
use serde_json::{json, Value};

use crate::policy_fixture::{
    oracle_cell, oracle_record, Cell, Expect, Fixture, State, Who, CELLS, STATES, WHO,
};
use crate::support::{error_code, TestApp};

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Person { id SEL } ... on Dose { id dateGiven lotNumber } ... on Organization { id name } } }";

fn selection() -> String {
    let mut fields: Vec<&str> = CELLS.iter().map(|c| c.selection().1).collect();
    fields.dedup();
    fields.join(" ")
}

fn person_rep(id: &str) -> Value {
    json!({ "__typename": "Person", "id": id })
}

/// Each error as (code, path after the entry point), sorted.
fn errors_below(body: &Value, prefix: usize) -> Vec<(String, Vec<Value>)> {
    let mut out: Vec<(String, Vec<Value>)> = body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let code = e["extensions"]["code"].as_str().unwrap_or("").to_owned();
                    let path = e["path"]
                        .as_array()
                        .map(|p| p.iter().skip(prefix).cloned().collect())
                        .unwrap_or_default();
                    (code, path)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out
}

#[tokio::test]
async fn entities_answer_exactly_what_person_by_id_answers_for_every_principal_and_state() {
    let fx = Fixture::build().await;
    let sel = selection();
    let by_id = format!("query($id: ID!) {{ person(id: $id) {{ id {sel} }} }}");
    let entities = ENTITIES.replace("SEL", &sel);
    for who in WHO {
        let token = fx.token(who, None);
        for state in STATES {
            let id = fx.record(state);
            let direct = fx.app.gql(&token, &by_id, json!({ "id": id })).await;
            let federated = fx
                .app
                .gql(&token, &entities, json!({ "r": [person_rep(id)] }))
                .await;
            let mut entity = federated["data"]["_entities"][0].clone();
            if let Some(obj) = entity.as_object_mut() {
                obj.remove("__typename");
            }
            let cell = format!("{who:?} on {state:?}");
            assert_eq!(entity, direct["data"]["person"], "{cell}: data");
            assert_eq!(
                errors_below(&federated, 2),
                errors_below(&direct, 1),
                "{cell}: errors\n{federated:#}\n{direct:#}"
            );
            // And both match the policy written from the spec alone.
            match oracle_record(who, state, who != Who::Auditor) {
                Expect::NotFound => {
                    assert!(entity.is_null(), "{cell}");
                    assert_eq!(error_code(&federated), Some("NOT_FOUND"), "{cell}");
                }
                Expect::Locked => {
                    assert!(entity.is_null(), "{cell}");
                    assert_eq!(error_code(&federated), Some("RECORD_LOCKED"), "{cell}");
                    assert_eq!(federated["errors"][0]["path"], json!(["_entities", 0]));
                }
                Expect::Record => {
                    for c in CELLS {
                        let (field, _) = c.selection();
                        let refused = entity[field].is_null()
                            && errors_below(&federated, 2)
                                .iter()
                                .any(|(code, path)| code == "FORBIDDEN" && path[0] == field);
                        if c == Cell::DoseDetails {
                            continue; // a nested field of `doses`, checked by the matrix test
                        }
                        assert_eq!(
                            !refused,
                            oracle_cell(who, c),
                            "{cell}: {c:?}\n{federated:#}"
                        );
                    }
                }
            }
        }
    }
}

/// A representation naming no entity type of this subgraph fails at its own index; the rest of
/// the batch is served.
#[tokio::test]
async fn an_unknown_typename_nulls_only_its_own_representation() {
    let fx = Fixture::build().await;
    let token = fx.token(Who::ProviderB, None);
    let body = fx
        .app
        .gql(
            &token,
            &ENTITIES.replace("SEL", "firstName"),
            json!({ "r": [
                person_rep(fx.record(State::Normal)),
                { "__typename": "Patient", "id": fx.record(State::Normal) },
                { "id": fx.record(State::Normal) },
                person_rep(fx.record(State::Normal)),
            ] }),
        )
        .await;
    let list = body["data"]["_entities"].as_array().expect("list");
    assert_eq!(list.len(), 4, "{body:#}");
    assert_eq!(list[0]["firstName"], "Normal", "{body:#}");
    assert!(list[1].is_null() && list[2].is_null(), "{body:#}");
    assert_eq!(list[3]["firstName"], "Normal", "{body:#}");
    assert_eq!(
        errors_below(&body, 0),
        vec![
            (
                "BAD_USER_INPUT".to_owned(),
                vec![json!("_entities"), json!(1)]
            ),
            (
                "BAD_USER_INPUT".to_owned(),
                vec![json!("_entities"), json!(2)]
            ),
        ],
        "{body:#}"
    );
}

#[tokio::test]
async fn one_refused_representation_does_not_fail_the_rest_of_the_batch() {
    let fx = Fixture::build().await;
    let token = fx.token(Who::ProviderB, None);
    let body = fx
        .app
        .gql(
            &token,
            &ENTITIES.replace("SEL", "firstName"),
            json!({ "r": [
                person_rep(fx.record(State::LockedToClinicA)),
                person_rep(fx.record(State::Normal)),
                person_rep(fx.record(State::OptedOut)),
            ] }),
        )
        .await;
    let list = body["data"]["_entities"].as_array().expect("list");
    assert_eq!(list.len(), 3, "{body:#}");
    assert!(list[0].is_null());
    assert_eq!(list[1]["firstName"], "Normal");
    assert!(list[2].is_null());
    assert_eq!(
        errors_below(&body, 0),
        vec![
            ("NOT_FOUND".to_owned(), vec![json!("_entities"), json!(2)]),
            (
                "RECORD_LOCKED".to_owned(),
                vec![json!("_entities"), json!(0)]
            ),
        ],
        "{body:#}"
    );
    let text = body.to_string();
    assert!(
        !text.contains("LockedToClinicA") && !text.contains("OptedOut"),
        "{text}"
    );
}

#[tokio::test]
async fn field_refusals_inside_an_entity_are_at_the_entitys_path() {
    let fx = Fixture::build().await;
    let school = fx.token(Who::SchoolS, None);
    let body = fx
        .app
        .gql(
            &school,
            &ENTITIES.replace("SEL", "firstName contact { city }"),
            json!({ "r": [person_rep(fx.record(State::Normal)), person_rep(fx.record(State::Minor17))] }),
        )
        .await;
    assert_eq!(body["data"]["_entities"][1]["firstName"], "Minor17");
    assert!(body["data"]["_entities"][1]["contact"].is_null());
    assert_eq!(
        errors_below(&body, 0),
        vec![
            (
                "FORBIDDEN".to_owned(),
                vec![json!("_entities"), json!(0), json!("contact")]
            ),
            (
                "FORBIDDEN".to_owned(),
                vec![json!("_entities"), json!(1), json!("contact")]
            ),
        ],
        "{body:#}"
    );
}

#[tokio::test]
async fn dose_and_organization_entities_follow_their_root_rules() {
    let fx = Fixture::build().await;
    let admin = fx.app.admin();
    let mut dose_of = Vec::new();
    for state in [State::Normal, State::LockedToClinicA, State::Unaffiliated] {
        let data = fx
            .app
            .ok(
                &admin,
                "query($id: ID!) { person(id: $id) { doses { id administeredBy { id } } } }",
                json!({ "id": fx.record(state) }),
            )
            .await;
        dose_of.push((
            state,
            data["person"]["doses"][0]["id"]
                .as_str()
                .expect("dose")
                .to_owned(),
        ));
    }
    let dose = |state: State| {
        let id = &dose_of.iter().find(|(s, _)| *s == state).expect("dose").1;
        json!({ "__typename": "Dose", "id": id })
    };
    let q = ENTITIES.replace("SEL", "id");

    let school = fx.token(Who::SchoolS, None);
    let body = fx
        .app
        .gql(
            &school,
            &q,
            json!({ "r": [dose(State::Normal), dose(State::Unaffiliated)] }),
        )
        .await;
    assert!(
        body["data"]["_entities"][0]["dateGiven"].is_string(),
        "{body:#}"
    );
    assert!(body["data"]["_entities"][0]["lotNumber"].is_null());
    assert!(body["data"]["_entities"][1].is_null());
    assert_eq!(
        errors_below(&body, 0),
        vec![
            (
                "FORBIDDEN".to_owned(),
                vec![json!("_entities"), json!(0), json!("lotNumber")]
            ),
            ("NOT_FOUND".to_owned(), vec![json!("_entities"), json!(1)]),
        ],
        "{body:#}"
    );

    let provider_b = fx.token(Who::ProviderB, None);
    let body = fx
        .app
        .gql(
            &provider_b,
            &q,
            json!({ "r": [dose(State::LockedToClinicA), dose(State::Normal)] }),
        )
        .await;
    assert_eq!(
        body["data"]["_entities"][1]["lotNumber"], "LOT1",
        "{body:#}"
    );
    assert!(body["data"]["_entities"][0].is_null());
    assert_eq!(
        errors_below(&body, 0),
        vec![(
            "RECORD_LOCKED".to_owned(),
            vec![json!("_entities"), json!(0)]
        )],
        "{body:#}"
    );

    let org = fx.app.create_org("Directory Clinic", "CLINIC").await;
    let auditor = fx.token(Who::Auditor, None);
    let body = fx
        .app
        .gql(
            &auditor,
            &q,
            json!({ "r": [{ "__typename": "Organization", "id": org }] }),
        )
        .await;
    assert_eq!(
        body["data"]["_entities"][0]["name"], "Directory Clinic",
        "{body:#}"
    );
}

#[tokio::test]
async fn entity_reads_and_refusals_reach_the_access_log() {
    let fx = Fixture::build().await;
    let normal = fx.record(State::Normal);
    let locked = fx.record(State::LockedToClinicA);
    let provider_b = fx.token(Who::ProviderB, None);
    let body = fx
        .app
        .gql(
            &provider_b,
            &ENTITIES.replace("SEL", "firstName"),
            json!({ "r": [person_rep(normal), person_rep(locked)] }),
        )
        .await;
    let rid = body["errors"][0]["extensions"]["requestId"]
        .as_str()
        .expect("rid")
        .to_owned();
    let auditor = fx.app.token(TokenRequest::new(Role::Auditor));
    let log = fx
        .app
        .ok(
            &auditor,
            "{ accessLog(first: 50) { edges { node { action outcome personIds fields requestId reason } } } }",
            json!({}),
        )
        .await;
    let entries: Vec<&Value> = log["accessLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["requestId"] == rid.as_str())
        .collect();
    let read = entries
        .iter()
        .find(|n| n["action"] == "READ")
        .expect("read entry");
    assert_eq!(read["personIds"], json!([normal]));
    assert_eq!(read["fields"], json!(["id", "identity"]));
    let denied = entries
        .iter()
        .find(|n| n["outcome"] == "DENIED")
        .expect("denial entry");
    assert_eq!(denied["personIds"], json!([locked]));
    assert!(
        denied["reason"]
            .as_str()
            .is_some_and(|r| r.contains("record_locked")),
        "{denied}"
    );
}

#[tokio::test]
async fn the_service_sdl_is_introspection_and_follows_its_rule() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let sdl = app
        .ok(&app.provider(&clinic), "{ _service { sdl } }", json!({}))
        .await;
    assert!(sdl["_service"]["sdl"]
        .as_str()
        .is_some_and(|s| s.contains("@requiresScopes")));
    let school = app.create_org("School", "SCHOOL").await;
    let token = app.token(TokenRequest::new(Role::School).org(school.parse().expect("uuid")));
    let body = app.gql(&token, "{ _service { sdl } }", json!({})).await;
    assert_eq!(error_code(&body), Some("INTROSPECTION_DISABLED"), "{body}");
    assert!(body.get("data").is_none());
}
