//! The HTTP edge: slow clients (slowloris) cannot hold connections or exhaust descriptors, and
//! every response carries the browser-facing headers personal data needs.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestApp;

/// Opens a connection that sends a request's headers one line at a time, every 200 ms, never
/// finishing them; resolves with how long the server kept it open.
async fn slow_client(addr: std::net::SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await;
    let mut buf = [0u8; 1024];
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            },
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    return started.elapsed();
                }
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            return started.elapsed();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_cannot_take_every_connection() {
    let app = TestApp::spawn_with(|s| {
        s.connections.header_timeout = Duration::from_secs(1);
        s.connections.body_timeout = Duration::from_secs(1);
        s.connections.max_connections = 10;
    })
    .await;
    let addr: std::net::SocketAddr = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let started = Instant::now();
    let slow: Vec<_> = (0..30).map(|_| tokio::spawn(slow_client(addr))).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A normal client meanwhile: served once slow connections are cut off.
    let resp = reqwest::Client::new()
        .get(format!("{}/healthz", app.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("a normal client is served");
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let mut held = Vec::new();
    for s in slow {
        held.push(s.await.expect("slow client"));
    }
    held.sort();
    // Ten at a time are served (the rest wait in the backlog), each cut off after 1 s.
    assert!(held[0] >= Duration::from_millis(900), "{held:?}");
    assert!(
        held[9] < Duration::from_millis(2500),
        "the first ten are closed after the header timeout: {held:?}"
    );
    assert!(
        held[10] > held[0] + Duration::from_millis(700),
        "connections past the limit wait to be accepted: {held:?}"
    );
    assert!(held[29] < Duration::from_secs(12), "{held:?}");

    // A body trickling in is cut off too.
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body_started = Instant::now();
    stream
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .await
        .expect("write");
    let mut buf = vec![0u8; 4096];
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            },
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if stream.write_all(b" ").await.is_err() {
                    break;
                }
            }
        }
        assert!(
            body_started.elapsed() < Duration::from_secs(10),
            "a trickling body holds the connection"
        );
    }
}

fn assert_browser_headers(resp: &reqwest::Response, what: &str) {
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    let csp = h["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
}

#[tokio::test]
async fn responses_with_personal_data_are_not_stored_or_framed() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let school = app.create_org("North High", "SCHOOL").await;
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&admin)
        .json(&json!({ "query": "{ me { subject } }" }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_browser_headers(&resp, "POST /graphql");
    let resp = app
        .client
        .get(format!("{}/graphql?query=%7Bme%7Bsubject%7D%7D", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let resp = app
        .client
        .get(format!(
            "{}/reports/roster/{school}.csv?schoolYear=2026-2027",
            app.base
        ))
        .bearer_auth(
            app.token(
                gateway::auth::TokenRequest::new(policies::Role::School)
                    .org(school.parse().expect("id")),
            ),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["cache-control"], "no-store", "roster CSV");
    assert_browser_headers(&resp, "roster CSV");
    let resp = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("send");
    assert_browser_headers(&resp, "/healthz");
}

/// GraphiQL is served from assets inside the binary under a Content-Security-Policy that
/// allows no other origin, and not at all when configured off.
#[tokio::test]
async fn graphiql_is_self_contained_and_can_be_turned_off() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let page = resp.text().await.expect("page");
    for cdn in ["unpkg", "jsdelivr", "cdnjs", "https://", "development"] {
        assert!(!page.contains(cdn), "the page loads nothing from {cdn}");
    }
    let scripts: Vec<&str> = page
        .split("src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    assert!(!scripts.is_empty(), "{page}");
    for src in scripts {
        assert!(src.starts_with("/graphiql/"), "{src}");
        let asset = app
            .client
            .get(format!("{}{src}", app.base))
            .send()
            .await
            .expect("asset");
        assert_eq!(asset.status(), 200, "{src}");
        assert!(asset.bytes().await.expect("bytes").len() > 100, "{src}");
    }

    let off = TestApp::spawn_with(|s| s.graphiql = Some(false)).await;
    let resp = off
        .client
        .get(format!("{}/graphql", off.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("send");
    assert_ne!(resp.status(), 200);
    assert!(!resp.text().await.expect("body").contains("<html"));
    let asset = off
        .client
        .get(format!("{}/graphiql/graphiql.min.js", off.base))
        .send()
        .await
        .expect("send");
    assert_eq!(asset.status(), 404);
}
