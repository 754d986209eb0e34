//! Registered clients can be removed and rotated, with their tokens refused at once on every
//! instance; and bad secrets sent in bulk do not stall a good client's token request (issue 23
//! hole 7).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway::auth::clients::{register, rotate, ClientRegistration};
use gateway::config::Secret;
use policies::{Role, ScopeSet};
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

async fn token(app: &TestApp, id: &str, secret: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { subject } }" }))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// Two gateways on one database and one dev key (one data directory).
async fn two_instances() -> (TestApp, TestApp, tempfile::TempDir) {
    let shared = tempfile::tempdir().expect("dir");
    let mut url = None;
    let a = TestApp::spawn_with(|s| {
        s.data_dir = shared.path().to_owned();
        url = s.database_url.as_ref().map(|u| u.expose().to_owned());
    })
    .await;
    let b = TestApp::spawn_with(|s| {
        s.data_dir = shared.path().to_owned();
        s.database_url = url.map(Secret::new);
    })
    .await;
    (a, b, shared)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_or_rotated_clients_tokens_are_refused_at_once_on_every_instance() {
    let (a, b, _dir) = two_instances().await;
    let issued = register(
        &a.store,
        ClientRegistration {
            name: Some("EHR".into()),
            role: Role::RegistryAdmin,
            org: None,
            scope: Some(ScopeSet::parse_claim("person:read")),
        },
    )
    .await
    .expect("register");
    let id = issued.client.id.to_string();
    let (status, body) = token(&a, &id, issued.secret.expose()).await;
    assert_eq!(status, 200, "{body}");
    let old = body["access_token"].as_str().expect("token").to_owned();
    assert_eq!(
        me(&b, &old).await.0,
        200,
        "the token works on the other instance"
    );

    // Rotation: the old secret and the old token stop working on both instances.
    let rotated = rotate(&a.store, issued.client.id).await.expect("rotate");
    for app in [&a, &b] {
        let (status, body) = me(app, &old).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
        assert_eq!(token(app, &id, issued.secret.expose()).await.0, 401);
    }
    let (status, body) = token(&b, &id, rotated.secret.expose()).await;
    assert_eq!(status, 200, "{body}");
    let new = body["access_token"].as_str().expect("token").to_owned();
    assert_eq!(me(&a, &new).await.0, 200);

    // Removal: the new token is refused at once everywhere, and no token is issued.
    assert!(a
        .store
        .remove_oauth_client(issued.client.id)
        .await
        .expect("remove"));
    for app in [&a, &b] {
        let (status, body) = me(app, &new).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(token(app, &id, rotated.secret.expose()).await.0, 401);
    }
    assert!(!a
        .store
        .remove_oauth_client(issued.client.id)
        .await
        .expect("remove"));
    // Tokens that are not a client's are not affected.
    assert_eq!(me(&b, &a.admin()).await.0, 200);
}

/// One token request: status, whether it said `Retry-After`, and how long it took.
async fn ask(
    client: reqwest::Client,
    url: String,
    id: String,
    secret: String,
) -> (u16, bool, Duration) {
    let started = Instant::now();
    let resp = client
        .post(&url)
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    let retry_after = resp.headers().get("retry-after").is_some();
    (resp.status().as_u16(), retry_after, started.elapsed())
}

/// The median of a few token requests by the good client, nothing else asking.
async fn quiet_median(client: &reqwest::Client, url: &str, id: &str, secret: &str) -> Duration {
    let mut took = Vec::new();
    for _ in 0..3 {
        let (status, _, t) = ask(client.clone(), url.into(), id.into(), secret.into()).await;
        assert_eq!(status, 200);
        took.push(t);
    }
    took.sort();
    took[1]
}

/// 64 connections sending bad secrets from four addresses: a good client's token request from
/// another address is answered promptly, not queued behind theirs or turned away; the flood is
/// answered 429 (with Retry-After) or 503, never left waiting.
///
/// Before the queue was shared fairly between sources, the attackers' bursts sat ahead of the
/// good client (one source: 2.2 s against 0.12 s alone) or kept every place taken (several
/// sources: 503). Now it waits for at most the verifications already running. The baseline is
/// the good client's own median before and after the flood, on the same (shared, loaded)
/// machine; the bound is generous because the attackers' admitted verifications still take
/// cores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_secrets_in_bulk_do_not_stall_a_good_client() {
    let app = TestApp::spawn().await;
    let issued = register(
        &app.store,
        ClientRegistration {
            name: None,
            role: Role::RegistryAdmin,
            org: None,
            scope: None,
        },
    )
    .await
    .expect("register");
    let id = issued.client.id.to_string();
    let secret: String = issued.secret.expose().into();
    let url = format!("{}/oauth/token", app.base);
    let from = |ip: &str| {
        reqwest::Client::builder()
            .no_proxy()
            .local_address(ip.parse::<IpAddr>().expect("ip"))
            .build()
            .expect("client")
    };
    let good = from("127.0.0.2");
    let before = quiet_median(&good, &url, &id, &secret).await;

    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicUsize; 4]> = Arc::new(Default::default());
    let mut attackers = Vec::new();
    for n in 0..64 {
        let (stop, counts, url) = (stop.clone(), counts.clone(), url.clone());
        let client = from(&format!("127.0.0.{}", 10 + n % 4));
        attackers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let guess = uuid::Uuid::new_v4().to_string();
                let (status, retry_after, took) =
                    ask(client.clone(), url.clone(), guess, "izs_wrong".into()).await;
                let slot = match status {
                    401 => 0,
                    429 if retry_after => 1,
                    503 if retry_after => 2,
                    _ => 3,
                };
                counts[slot].fetch_add(1, Ordering::Relaxed);
                assert!(took < Duration::from_secs(5), "an attacker waited {took:?}");
                // The attackers share this process (and its 2 cores) with the gateway: a
                // short pause keeps their own client work from being what is measured. Each
                // connection still has a request waiting or in flight nearly all the time.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    // The flood's 64 connections are set up and its first bursts queued (or refused).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut under_attack = Vec::new();
    for _ in 0..5 {
        let (status, _, took) = ask(good.clone(), url.clone(), id.clone(), secret.clone()).await;
        assert_eq!(status, 200, "the good client got {status} after {took:?}");
        under_attack.push(took);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.await.expect("attacker");
    }
    // The good client's own id is rate limited too (8, then 1/s): eleven requests in a few
    // seconds could meet that limit, which is not what this test measures.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = quiet_median(&good, &url, &id, &secret).await;
    let quiet = before.max(after);
    let worst = under_attack.iter().max().copied().unwrap_or_default();
    let [refused, limited, busy, other] = counts
        .as_ref()
        .each_ref()
        .map(|c| c.load(Ordering::Relaxed));
    eprintln!(
        "good client: {before:?} / {after:?} alone (before / after), {under_attack:?} under attack; attackers: {refused} 401, {limited} 429, {busy} 503, {other} other"
    );
    assert_eq!(
        other, 0,
        "every refusal is 401, or 429/503 with Retry-After"
    );
    assert!(limited > refused, "the flood is rate limited, not hashed");
    // Ahead of the good client: at most the two verifications running, then its own, each
    // slowed by the attackers' verifications on the same cores. Queued behind the attackers'
    // bursts it waited for a dozen, or was turned away: 2.2 to 2.7 s, or 503.
    let bound = (quiet * 10).max(Duration::from_millis(1800));
    assert!(
        worst < bound,
        "the good client waited {worst:?} (alone: {quiet:?})"
    );
}
