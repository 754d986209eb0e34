//! The access log's hash chain under concurrency, and tamper detection.

use entities::repo::access_log::ChainReport;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_clients_leave_one_unbroken_chain() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let mut persons = Vec::new();
    for i in 0..8 {
        persons.push(
            app.create_person(&token, &format!("C{i}"), "Concurrent", "2020-01-01")
                .await,
        );
    }
    const CLIENTS: usize = 16;
    const OPS: usize = 2_000;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (app, token, persons) = (app.clone(), token.clone(), persons.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = 0;
            for i in 0..OPS / CLIENTS {
                let person = &persons[(c + i) % persons.len()];
                let body = match i % 4 {
                    // Writes: distinct dates so none is a duplicate.
                    0 => {
                        let day = chrono::NaiveDate::from_ymd_opt(2020, 2, 1).expect("date")
                            + chrono::Duration::days((c * OPS + i) as i64 % 1500);
                        app.record_dose(&token, person, "20", &day.to_string()).await
                    }
                    1 => app
                        .gql(&token, "{ persons(filter: { lastName: \"Concurrent\" }, first: 3) { edges { node { id firstName } } } }", json!({}))
                        .await,
                    _ => app
                        .gql(&token, "query($id: ID!) { person(id: $id) { firstName doses { dateGiven } } }", json!({ "id": person }))
                        .await,
                };
                if body.get("errors").is_some() {
                    failures += 1;
                }
            }
            failures
        }));
    }
    let mut failures = 0;
    for t in tasks {
        failures += t.await.expect("client");
    }
    assert_eq!(failures, 0);
    match app.store.verify_access_log().await.expect("verify") {
        ChainReport::Intact { entries } => assert!(entries as usize >= OPS, "{entries} entries"),
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test]
async fn editing_one_row_breaks_the_chain_at_that_row() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for i in 0..4 {
        app.create_person(&admin, &format!("T{i}"), "Tamper", "2000-01-01")
            .await;
    }
    // Each create is a WRITE and, its answer revealing the new id, a READ.
    assert!(matches!(
        app.store.verify_access_log().await.expect("verify"),
        ChainReport::Intact { entries: 8 }
    ));
    app.store
        .connection()
        .execute_unprepared("UPDATE access_log SET subject = 'mallory' WHERE seq = 2")
        .await
        .expect("tamper");
    match app.store.verify_access_log().await.expect("verify") {
        ChainReport::Broken { seq, .. } => assert_eq!(seq, 2),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

#[tokio::test]
async fn deleting_the_newest_row_is_detected_by_the_head() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for i in 0..3 {
        app.create_person(&admin, &format!("D{i}"), "Delete", "2000-01-01")
            .await;
    }
    app.store
        .connection()
        .execute_unprepared("DELETE FROM access_log WHERE seq = 3")
        .await
        .expect("delete");
    assert!(matches!(
        app.store.verify_access_log().await.expect("verify"),
        ChainReport::Broken { .. }
    ));
}
