//! Random principals, scopes, record states and queries, each response checked against the
//! oracle in `policy_fixture` (written from the policy page, independently of `policies`).

use futures::StreamExt;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use crate::policy_fixture::{
    oracle_cell, oracle_guardian_record, oracle_log_view, oracle_record, Cell, Expect, Fixture,
    CELLS, STATES, WHO,
};
use crate::policy_matrix::{check, query_for};

const SCOPES: [&str; 7] = [
    "person:read",
    "person:write",
    "dose:write",
    "consent:write",
    "roster:read",
    "audit:read",
    "admin",
];

/// Cases per run; the acceptance floor is 10,000.
const CASES: usize = 10_000;

#[derive(Debug, Clone)]
struct Case {
    who: usize,
    /// `None`: the token names no scope (all of the role's rights).
    scopes: Option<u8>,
    state: usize,
    cells: u16,
    path: Path,
    /// For [`Path::Cursor`]: who presents the cursor `who` was given.
    other: usize,
}

/// Which way the case reaches the record.
#[derive(Debug, Clone, Copy)]
enum Path {
    ById,
    Search,
    /// `_entities { ... on Person }`, answered as `person(id:)` is.
    Entities,
    /// `person(id:) { guardians { person } }`: the guardian, admitted as by id.
    Nested,
    /// A search cursor issued to `who`, presented by `other`.
    Cursor,
    /// `accessLog`, as `who` may see it.
    AccessLog,
}

const PATHS: [Path; 6] = [
    Path::ById,
    Path::Search,
    Path::Entities,
    Path::Nested,
    Path::Cursor,
    Path::AccessLog,
];

fn case() -> impl Strategy<Value = Case> {
    (
        0..WHO.len(),
        prop::option::of(0u8..128),
        0..STATES.len(),
        1u16..(1 << CELLS.len()),
        0..PATHS.len(),
        0..WHO.len(),
    )
        .prop_map(|(who, scopes, state, cells, path, other)| Case {
            who,
            scopes,
            state,
            cells,
            path: PATHS[path],
            other,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_principals_and_queries_leak_nothing() {
    let fx = std::sync::Arc::new(Fixture::build().await);
    let mut runner = TestRunner::new(Config::default());
    let strategy = case();
    let cases: Vec<Case> = (0..CASES)
        .map(|_| strategy.new_tree(&mut runner).expect("case").current())
        .collect();
    let results = futures::stream::iter(cases)
        .map(|case| {
            let fx = fx.clone();
            async move {
                let who = WHO[case.who];
                let state = STATES[case.state];
                let scope = case.scopes.map(|bits| {
                    SCOPES
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits & (1 << i) != 0)
                        .map(|(_, s)| *s)
                        .collect::<Vec<_>>()
                        .join(" ")
                });
                let has_read = scope.as_deref().is_none_or(|s| s.split(' ').any(|x| x == "person:read"));
                let token = fx.token(who, scope.as_deref());
                let cells: Vec<Cell> = CELLS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| case.cells & (1 << i) != 0)
                    .map(|(_, c)| *c)
                    .collect();
                let expect = oracle_record(who, state, has_read);
                let id = fx.record(state).to_owned();
                let wrong = match case.path {
                    Path::Search => {
                        let body = fx
                            .app
                            .gql(&token, "{ persons(filter: { lastName: \"Matrix\" }, first: 50) { edges { node { id } } } }", json!({}))
                            .await;
                        let listed = body["data"]["persons"]["edges"]
                            .as_array()
                            .is_some_and(|e| e.iter().any(|x| x["node"]["id"] == id.as_str()));
                        if listed != (expect == Expect::Record) {
                            vec![format!("listed = {listed}, oracle says {expect:?}")]
                        } else {
                            vec![]
                        }
                    }
                    Path::ById => {
                        let body = fx.app.gql(&token, &query_for(&cells), json!({ "id": id })).await;
                        let cells: Vec<(Cell, bool)> = cells.iter().map(|c| (*c, oracle_cell(who, *c))).collect();
                        check(&body, expect, &cells)
                    }
                    Path::Entities => entities_case(&fx, &token, who, expect, &cells, &id).await,
                    Path::Nested => nested_case(&fx, &token, who, expect, has_read, &id).await,
                    Path::Cursor => cursor_case(&fx, &case, scope.as_deref()).await,
                    Path::AccessLog => log_case(&fx, &token, who, scope.as_deref()).await,
                };
                (case, wrong)
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let leaks: Vec<String> = results
        .iter()
        .filter(|(_, w)| !w.is_empty())
        .map(|(c, w)| format!("{c:?}: {}", w.join("; ")))
        .collect();
    println!(
        "policy property: {} cases, {} failing",
        results.len(),
        leaks.len()
    );
    assert!(results.len() >= 10_000);
    assert!(
        leaks.is_empty(),
        "{} failing cases, e.g.:\n{}",
        leaks.len(),
        leaks
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `_entities` answers exactly as `person(id:)`: the response is read as if it were one.
async fn entities_case(
    fx: &Fixture,
    token: &str,
    who: crate::policy_fixture::Who,
    expect: Expect,
    cells: &[Cell],
    id: &str,
) -> Vec<String> {
    let selection: Vec<&str> = cells.iter().map(|c| c.selection().1).collect();
    let query = format!(
        "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Person {{ id {} }} }} }}",
        selection.join(" ")
    );
    let body = fx
        .app
        .gql(
            token,
            &query,
            json!({ "r": [{ "__typename": "Person", "id": id }] }),
        )
        .await;
    // `_entities.0…` is `person…` of a fetch by id.
    let mut as_person = json!({ "data": { "person": body["data"]["_entities"][0].clone() } });
    if let Some(errors) = body["errors"].as_array() {
        let errors: Vec<serde_json::Value> = errors
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(path) = e["path"].as_array() {
                    let mut p = vec![json!("person")];
                    p.extend(path.iter().skip(2).cloned());
                    e["path"] = json!(p);
                }
                e
            })
            .collect();
        as_person["errors"] = json!(errors);
    }
    let cells: Vec<(Cell, bool)> = cells
        .iter()
        .map(|c| (*c, crate::policy_fixture::oracle_cell(who, *c)))
        .collect();
    check(&as_person, expect, &cells)
        .into_iter()
        .map(|w| format!("_entities: {w}"))
        .collect()
}

/// The guardian reached through a ward is there exactly when a fetch by id would show it.
async fn nested_case(
    fx: &Fixture,
    token: &str,
    who: crate::policy_fixture::Who,
    expect: Expect,
    has_read: bool,
    id: &str,
) -> Vec<String> {
    let body = fx
        .app
        .gql(
            token,
            "query($id: ID!) { person(id: $id) { guardians { person { id firstName contact { city } } } } }",
            json!({ "id": id }),
        )
        .await;
    let guardians = &body["data"]["person"]["guardians"];
    let listed = guardians
        .as_array()
        .is_some_and(|g| g.iter().any(|x| x["person"]["id"] == fx.guardian.as_str()));
    let may_list = expect == Expect::Record
        && has_read
        && crate::policy_fixture::oracle_cell(who, Cell::Guardians)
        && oracle_guardian_record(who) == Expect::Record;
    if listed && !may_list {
        vec![format!("guardian read through the ward: {body}")]
    } else if !listed && may_list {
        vec![format!("guardian left out though visible: {body}")]
    } else {
        vec![]
    }
}

/// A search cursor opens for the principal it was issued to and for no other.
async fn cursor_case(fx: &Fixture, case: &Case, scope: Option<&str>) -> Vec<String> {
    let (who, other) = (WHO[case.who], WHO[case.other]);
    let search = "query($after: String) { persons(filter: { lastName: \"Matrix\" }, first: 1, after: $after) { pageInfo { endCursor } } }";
    let issued = fx.app.gql(&fx.token(who, scope), search, json!({})).await;
    let Some(cursor) = issued["data"]["persons"]["pageInfo"]["endCursor"].as_str() else {
        return vec![];
    };
    if cursor.to_uppercase().contains("MATRIX") {
        return vec![format!("a cursor in clear: {cursor}")];
    }
    let body = fx
        .app
        .gql(&fx.token(other, scope), search, json!({ "after": cursor }))
        .await;
    let opened = body["data"]["persons"].is_object();
    if who == other && !opened {
        vec![format!("{who:?}'s own cursor refused: {body}")]
    } else if who != other && opened {
        vec![format!("{who:?}'s cursor opened for {other:?}: {body}")]
    } else {
        vec![]
    }
}

/// The access log as `who` sees it: all of it, their own part with no one else in it, or
/// refused.
async fn log_case(
    fx: &Fixture,
    token: &str,
    who: crate::policy_fixture::Who,
    scope: Option<&str>,
) -> Vec<String> {
    let body = fx
        .app
        .gql(
            token,
            "{ accessLog(first: 50) { edges { node { personIds personFields { personId } } } } }",
            json!({}),
        )
        .await;
    let has_audit = scope.is_none_or(|s| s.split(' ').any(|x| x == "audit:read"));
    let served = body["data"]["accessLog"].is_object();
    match oracle_log_view(fx, who) {
        Err(()) if served => vec![format!("the log served to {who:?}")],
        Err(()) => vec![],
        Ok(_) if !has_audit => {
            if served {
                vec![format!("the log served without audit:read")]
            } else {
                vec![]
            }
        }
        Ok(_) if !served => vec![format!("the log refused to {who:?}: {body}")],
        Ok(None) => vec![],
        Ok(Some(own)) => {
            let mut wrong = Vec::new();
            for e in body["data"]["accessLog"]["edges"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let named = e["node"]["personIds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(
                        e["node"]["personFields"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| &p["personId"]),
                    );
                for id in named {
                    if !own.iter().any(|o| id == o.as_str()) {
                        wrong.push(format!("{who:?} sees {id} in the log"));
                    }
                }
            }
            wrong
        }
    }
}
