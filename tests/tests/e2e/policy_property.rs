//! Random principals, scopes, record states and queries, each response checked against the
//! oracle in `policy_fixture` (written from the policy page, independently of `policies`).

use futures::StreamExt;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use crate::policy_fixture::{
    oracle_cell, oracle_record, Cell, Expect, Fixture, CELLS, STATES, WHO,
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
    search: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..WHO.len(),
        prop::option::of(0u8..128),
        0..STATES.len(),
        1u16..(1 << CELLS.len()),
        any::<bool>(),
    )
        .prop_map(|(who, scopes, state, cells, search)| Case {
            who,
            scopes,
            state,
            cells,
            search,
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
                let wrong = if case.search {
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
                } else {
                    let body = fx.app.gql(&token, &query_for(&cells), json!({ "id": id })).await;
                    let cells: Vec<(Cell, bool)> = cells.iter().map(|c| (*c, oracle_cell(who, *c))).collect();
                    check(&body, expect, &cells)
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
