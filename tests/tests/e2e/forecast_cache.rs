//! Kept forecasts are bounded in bytes, and one request cannot ask for many assessment dates
//! (issue 23 hole 6, issue 21): `persons(first: 100)` with 30 aliases of
//! `recommendations(asOf:)` at distinct dates, over many requests, took a process from 57 MB to
//! 1.5 GB while forecasts were bounded by count.

use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const MAX_BYTES: u64 = 512 * 1024;

fn query(dates: impl Iterator<Item = chrono::NaiveDate>) -> String {
    let aliases: String = dates
        .enumerate()
        .map(|(i, d)| format!(" a{i}: recommendations(asOf: \"{d}\") {{ status }}"))
        .collect();
    format!(
        "{{ persons(filter: {{ lastName: \"Kept\" }}, first: 100) {{ edges {{ node {{ id{aliases} }} }} }} }}"
    )
}

/// The value of `izgraph_forecast_cache{event="…"}` in the metrics text.
fn gauge(metrics: &str, event: &str) -> u64 {
    let prefix = format!("izgraph_forecast_cache{{event=\"{event}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no forecast_cache {event} in /metrics:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_forecast_dates_are_limited_and_kept_forecasts_stay_within_their_bytes() {
    let app = TestApp::spawn_with(|s| s.forecasts.max_bytes = MAX_BYTES).await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let today = app.today();
    for i in 0..40 {
        let dob = today - chrono::Duration::days(60 + 37 * i);
        let id = app
            .create_person(&token, &format!("P{i}"), "Kept", &dob.to_string())
            .await;
        app.record_dose(&token, &id, "08", &dob.to_string()).await;
    }
    let day = |n: i64| today - chrono::Duration::days(n);

    // The attack's request: 30 distinct dates. The first four are answered, the rest refused.
    let body = app.gql(&token, &query((0..30).map(day)), json!({})).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body:#}");
    let first = &body["data"]["persons"]["edges"][0]["node"];
    assert!(
        first["a0"].is_array() && first["a3"].is_array(),
        "{first:#}"
    );
    assert!(first["a4"].is_null(), "{first:#}");

    // Within the limit, request after request at new dates: 40 persons x 240 dates.
    for r in 0..60 {
        let data = app
            .ok(&token, &query((r * 4..r * 4 + 4).map(day)), json!({}))
            .await;
        let edges = data["persons"]["edges"].as_array().expect("edges");
        assert_eq!(edges.len(), 40);
        assert!(edges.iter().all(|e| e["node"]["a3"].is_array()));
    }
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let (bytes, entries, evictions) = (
        gauge(&metrics, "bytes"),
        gauge(&metrics, "entries"),
        gauge(&metrics, "eviction"),
    );
    eprintln!("kept forecasts: {entries} entries, {bytes} bytes, {evictions} evicted");
    assert_eq!(gauge(&metrics, "max_bytes"), MAX_BYTES);
    assert!(bytes <= MAX_BYTES, "{bytes} bytes kept, bound {MAX_BYTES}");
    assert!(
        entries > 0 && evictions > 0,
        "{entries} kept, {evictions} evicted"
    );
    assert!(gauge(&metrics, "miss") >= 9_600);
}

#[tokio::test]
async fn the_same_date_asked_many_times_is_one_date() {
    let app = TestApp::spawn().await;
    let clinic = app.create_org("Clinic", "CLINIC").await;
    let token = app.provider(&clinic);
    let dob = app.today() - chrono::Duration::days(90);
    app.create_person(&token, "Same", "Kept", &dob.to_string())
        .await;
    let same = std::iter::repeat_n(app.today(), 30);
    let data: Value = app.ok(&token, &query(same), json!({})).await;
    assert!(data["persons"]["edges"][0]["node"]["a29"].is_array());
}
