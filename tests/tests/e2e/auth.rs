//! Authentication: JWT attacks refused with 401 `UNAUTHENTICATED`, the dev token endpoint driven
//! by a real OAuth2 client (client credentials), and an external issuer whose JWKS is served by
//! a small in-test server on loopback (acceptance, audience, key rotation, fetch rate limit).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use gateway::auth::clients::{register, ClientRegistration};
use gateway::config::ExternalIssuer;
use gateway::keys::DevKeys;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use policies::{Role, ScopeSet};
use serde_json::{json, Value};

use crate::support::{error_code, TestApp};

const ME: &str = "{ me { subject role organization { id } scopes } }";

/// POSTs `{ me }` with `authorization` (a whole header value) and returns status and body.
async fn me_with_header(app: &TestApp, authorization: Option<&str>) -> (u16, Value, bool) {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": ME }));
    if let Some(h) = authorization {
        req = req.header("authorization", h);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let challenged = resp.headers().contains_key("www-authenticate");
    (status, resp.json().await.expect("json"), challenged)
}

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let (status, body, _) = me_with_header(app, Some(&format!("Bearer {token}"))).await;
    (status, body)
}

/// Asserts the request was refused as unauthenticated.
async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let (status, body, challenged) = me_with_header(app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 401, "{what}: {body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{what}: {body}");
    assert!(body.get("data").is_none(), "{what}: {body}");
    assert!(challenged, "{what}: a 401 carries WWW-Authenticate");
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims of the token contract; tests break one thing at a time.
fn claims(iss: &str, aud: Value, role: &str) -> Value {
    json!({
        "iss": iss,
        "aud": aud,
        "sub": "attacker",
        "iat": now(),
        "exp": now() + 600,
        "role": role,
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A key an issuer signs with, and its public JWK.
struct IssuerKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

impl IssuerKey {
    fn ec(kid: &str) -> IssuerKey {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let pem = secret.to_pkcs8_pem(LineEnding::LF).expect("pem");
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).expect("ec key");
        Self::with_jwk(kid, Algorithm::ES256, encoding)
    }

    fn rsa(kid: &str) -> IssuerKey {
        let encoding = EncodingKey::from_rsa_pem(RSA_TEST_KEY.as_bytes()).expect("rsa key");
        Self::with_jwk(kid, Algorithm::RS256, encoding)
    }

    fn with_jwk(kid: &str, alg: Algorithm, encoding: EncodingKey) -> IssuerKey {
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, alg).expect("jwk");
        let mut jwk = serde_json::to_value(jwk).expect("json");
        jwk["kid"] = kid.into();
        jwk["use"] = "sig".into();
        IssuerKey {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    /// An RFC 9068 access token (`typ: at+jwt`).
    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        self.sign_with(|h| h.kid = Some(kid.to_owned()), claims)
    }

    /// A token whose header `edit` changes (after `kid` and `typ: at+jwt` are set).
    fn sign_with(&self, edit: impl FnOnce(&mut Header), claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        header.typ = Some("at+jwt".into());
        edit(&mut header);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

/// An HS256 token keyed with `secret` (the classic "HMAC with the public key" confusion).
fn hs256(kid: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("sign")
}

/// An unsigned token: `alg: none`, empty signature.
fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT", "kid": kid });
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// A gateway on the dev issuer, and its signing key (loaded from its data directory).
async fn dev_app() -> (TestApp, DevKeys) {
    let mut dir = None;
    let app = TestApp::spawn_with(|s| dir = Some(s.data_dir.clone())).await;
    let keys = DevKeys::load_or_create(&dir.expect("data dir")).expect("dev key");
    (app, keys)
}

#[tokio::test]
async fn jwt_attacks_are_refused_with_401_unauthenticated() {
    let (app, keys) = dev_app().await;
    let (iss, aud) = ("urn:izgraph:dev", json!("izgraph"));
    let good = claims(iss, aud.clone(), "registry_admin");
    let (status, body) = me(&app, &keys.sign(&good).expect("sign")).await;
    assert_eq!(status, 200, "the control token works: {body}");
    assert_eq!(body["data"]["me"]["role"], "REGISTRY_ADMIN");

    let (status, body, challenged) = me_with_header(&app, None).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")));
    assert!(challenged);
    let (status, body, _) = me_with_header(&app, Some("Basic YTpi")).await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")));

    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        f(&mut c);
        c
    };
    let sign = |c: &Value| keys.sign(c).expect("sign");
    let expired = with(&|c| {
        c["iat"] = (now() - 7200).into();
        c["exp"] = (now() - 600).into();
    });
    assert_refused(&app, &sign(&expired), "expired").await;
    let immature = with(&|c| c["nbf"] = (now() + 600).into());
    assert_refused(&app, &sign(&immature), "nbf in the future").await;
    let other_key = IssuerKey::ec(keys.kid());
    assert_refused(&app, &other_key.sign(&good), "signed by another P-256 key").await;
    assert_refused(&app, &unsigned(keys.kid(), &good), "alg: none").await;
    // The dev key's public point, uncompressed SEC1: 0x04 || x || y.
    let jwk = keys.jwk();
    let mut point = vec![4u8];
    for coordinate in [&jwk.x, &jwk.y] {
        point.extend(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(coordinate)
                .expect("coordinate"),
        );
    }
    let public = p256::PublicKey::from_sec1_bytes(&point).expect("public key");
    let public_pem = public.to_public_key_pem(LineEnding::LF).expect("pem");
    assert_refused(
        &app,
        &hs256(keys.kid(), public_pem.as_bytes(), &good),
        "HS256 keyed with the public key PEM",
    )
    .await;
    assert_refused(
        &app,
        &hs256(keys.kid(), &point, &good),
        "HS256 keyed with the public key bytes",
    )
    .await;
    assert_refused(&app, &hs256(keys.kid(), b"secret", &good), "HS256").await;
    let wrong_iss = with(&|c| c["iss"] = "https://evil.example".into());
    assert_refused(&app, &sign(&wrong_iss), "wrong issuer").await;
    let wrong_aud = with(&|c| c["aud"] = "someone-else".into());
    assert_refused(&app, &sign(&wrong_aud), "wrong audience").await;
    let unknown_role = with(&|c| c["role"] = "wizard".into());
    assert_refused(&app, &sign(&unknown_role), "unknown role").await;
    let orgless_provider = with(&|c| c["role"] = "provider".into());
    assert_refused(&app, &sign(&orgless_provider), "provider without org").await;
    let no_exp = with(&|c| {
        c.as_object_mut().expect("object").remove("exp");
    });
    assert_refused(&app, &sign(&no_exp), "no exp").await;
    assert_refused(&app, "not.a.jwt", "garbage").await;
}

/// A real OAuth2 client of the gateway's token endpoint.
fn oauth_client(
    app: &TestApp,
    id: &str,
    secret: &str,
) -> oauth2::Client<
    oauth2::StandardErrorResponse<BasicErrorResponseType>,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    BasicClient::new(ClientId::new(id.to_owned()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", app.base)).expect("url"))
}

fn http() -> reqwest::Client {
    // No redirects: an OAuth2 client must not follow one with its credentials.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn an_oauth2_client_gets_a_token_by_client_credentials_and_queries_with_it() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Lakeside Clinic", "CLINIC").await;
    let issued = register(
        &app.store,
        ClientRegistration {
            name: Some("Lakeside EHR".into()),
            role: Role::Provider,
            org: Some(org.parse().expect("uuid")),
            scope: Some(ScopeSet::parse_claim("person:read person:write dose:write")),
        },
    )
    .await
    .expect("register");
    let id = issued.client.id.to_string();
    let secret = issued.secret.expose().to_owned();

    // HTTP Basic (the oauth2 crate's default), narrowed to one scope.
    let token = oauth_client(&app, &id, &secret)
        .exchange_client_credentials()
        .add_scope(Scope::new("person:read".into()))
        .request_async(&http())
        .await
        .expect("token by client credentials");
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
    assert_eq!(
        token
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["person:read".to_owned()])
    );
    let (status, body) = me(&app, token.access_token().secret()).await;
    assert_eq!(status, 200, "{body}");
    let principal = &body["data"]["me"];
    assert_eq!(principal["subject"], id.as_str());
    assert_eq!(principal["role"], "PROVIDER");
    assert_eq!(principal["organization"]["id"], org.as_str());
    assert_eq!(principal["scopes"], json!(["person:read"]), "{principal}");

    // Credentials in the form body; no scope asked: the client's registered scope.
    let token = oauth_client(&app, &id, &secret)
        .set_auth_type(AuthType::RequestBody)
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .expect("token with form credentials");
    let (status, body) = me(&app, token.access_token().secret()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["me"]["scopes"],
        json!(["person:read", "person:write", "dose:write"])
    );

    let refused = oauth_client(&app, &id, "izs_wrong")
        .exchange_client_credentials()
        .request_async(&http())
        .await;
    match refused {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidClient);
        }
        other => panic!("a wrong secret is refused as invalid_client: {other:?}"),
    }
    let refused = oauth_client(&app, &id, &secret)
        .exchange_client_credentials()
        .add_scope(Scope::new("consent:write".into()))
        .request_async(&http())
        .await;
    match refused {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidScope);
        }
        other => panic!("a scope beyond the registration is invalid_scope: {other:?}"),
    }
}

#[tokio::test]
async fn the_token_endpoint_answers_errors_as_rfc_6749_says() {
    let app = TestApp::spawn().await;
    let url = format!("{}/oauth/token", app.base);
    let post = |form: &[(&str, &str)]| app.client.post(&url).form(form);
    let check = |resp: reqwest::Response, status: u16, error: &'static str| async move {
        assert_eq!(resp.status().as_u16(), status);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let challenge = resp.headers().get("www-authenticate").cloned();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error"], error, "{body}");
        assert!(body["error_description"].is_string());
        challenge
    };
    let resp = post(&[("grant_type", "password")])
        .send()
        .await
        .expect("send");
    check(resp, 400, "unsupported_grant_type").await;
    let resp = post(&[("scope", "person:read")])
        .send()
        .await
        .expect("send");
    check(resp, 400, "invalid_request").await;
    let resp = post(&[("grant_type", "client_credentials"), ("grant_type", "x")])
        .send()
        .await
        .expect("send");
    check(resp, 400, "invalid_request").await;
    let resp = app
        .client
        .post(&url)
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .expect("send");
    check(resp, 400, "invalid_request").await;
    let resp = post(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    let challenge = check(resp, 401, "invalid_client").await;
    assert!(challenge.is_some_and(|c| c.to_str().is_ok_and(|c| c.starts_with("Basic"))));
    let resp = post(&[("grant_type", "client_credentials")])
        .basic_auth("00000000-0000-0000-0000-000000000000", Some("izs_guess"))
        .send()
        .await
        .expect("send");
    let challenge = check(resp, 401, "invalid_client").await;
    assert!(challenge.is_some());
    let resp = post(&[
        ("grant_type", "client_credentials"),
        ("client_secret", "izs_other"),
    ])
    .basic_auth("a", Some("b"))
    .send()
    .await
    .expect("send");
    check(resp, 400, "invalid_request").await;
}

#[tokio::test]
async fn clients_are_registered_only_for_roles_and_organizations_that_make_sense() {
    let app = TestApp::spawn().await;
    let org: uuid::Uuid = app
        .create_org("North High", "SCHOOL")
        .await
        .parse()
        .expect("uuid");
    let reg = |role, org| ClientRegistration {
        name: None,
        role,
        org,
        scope: None,
    };
    for (registration, why) in [
        (reg(Role::Guardian, None), "natural person"),
        (reg(Role::Individual, None), "natural person"),
        (reg(Role::School, None), "org is required"),
        (
            reg(Role::School, Some(uuid::Uuid::new_v4())),
            "was not found",
        ),
        (reg(Role::Auditor, Some(org)), "omit --org"),
    ] {
        let err = register(&app.store, registration)
            .await
            .expect_err("refused");
        assert!(err.to_string().contains(why), "{err}");
    }
    let ok = register(&app.store, reg(Role::School, Some(org)))
        .await
        .expect("a school client");
    assert_eq!(ok.client.scopes, Role::School.rights());
    let stored = app
        .store
        .oauth_client(ok.client.id)
        .await
        .expect("read")
        .expect("stored");
    assert!(stored.secret_hash.starts_with("$argon2id$"));
    assert!(!stored.secret_hash.contains(ok.secret.expose()));
}

/// A JWKS endpoint on loopback whose keys the test can change, counting fetches.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl JwksServer {
    async fn start(keys: Vec<Value>) -> JwksServer {
        Self::start_with(keys, None).await
    }

    /// With `max_age`, answers carry `Cache-Control: max-age=N`.
    async fn start_with(keys: Vec<Value>, max_age: Option<u64>) -> JwksServer {
        let keys = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        let router = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let (k, f) = (k.clone(), f.clone());
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    let keys = k.lock().expect("keys").clone();
                    let cache =
                        max_age.map_or("no-transform".to_owned(), |n| format!("max-age={n}"));
                    (
                        [(axum::http::header::CACHE_CONTROL, cache)],
                        axum::Json(json!({ "keys": keys })),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        JwksServer {
            url: format!("http://{addr}/jwks"),
            keys,
            fetches,
            _shutdown: tx,
        }
    }

    fn publish(&self, keys: Vec<Value>) {
        *self.keys.lock().expect("keys") = keys;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

const ISSUER: &str = "https://login.example.test/realms/registry";
const AUDIENCE: &str = "izgraph-api";

async fn external_app(jwks: &JwksServer, min_refresh: Duration) -> TestApp {
    let url = jwks.url.clone();
    TestApp::spawn_with(move |s| {
        s.external_issuer = Some(ExternalIssuer {
            min_refresh_interval: min_refresh,
            ..ExternalIssuer::new(ISSUER, AUDIENCE, url)
        });
    })
    .await
}

#[tokio::test]
async fn an_external_issuers_tokens_are_verified_against_its_jwks_and_rotation_is_picked_up() {
    let first = IssuerKey::ec("key-2026-11");
    let jwks = JwksServer::start(vec![first.jwk.clone()]).await;
    let app = external_app(&jwks, Duration::from_millis(500)).await;
    assert_eq!(jwks.fetches(), 1, "fetched at start-up");

    let admin = claims(ISSUER, json!(AUDIENCE), "registry_admin");
    let (status, body) = me(&app, &first.sign(&admin)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["role"], "REGISTRY_ADMIN");
    // An audience array naming this gateway is fine too.
    let multi = claims(ISSUER, json!(["account", AUDIENCE]), "auditor");
    let (status, body) = me(&app, &first.sign(&multi)).await;
    assert_eq!(status, 200, "{body}");

    let other_aud = claims(ISSUER, json!("another-api"), "registry_admin");
    assert_refused(&app, &first.sign(&other_aud), "another audience").await;
    let other_iss = claims("https://evil.example", json!(AUDIENCE), "registry_admin");
    assert_refused(&app, &first.sign(&other_iss), "another issuer").await;
    assert_refused(&app, &unsigned(&first.kid, &admin), "alg: none").await;
    assert_refused(&app, &hs256(&first.kid, b"secret", &admin), "HS256").await;
    assert_refused(&app, &app.admin(), "a dev-signed token").await;
    let provider = claims(ISSUER, json!(AUDIENCE), "provider");
    assert_refused(&app, &first.sign(&provider), "provider without org").await;

    // Dev-issuer surfaces are gone: nothing here mints tokens, and the published key set holds
    // only the SMART Health Card key (issue 18), never the dev signing key.
    let resp = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404, "/oauth/token");
    let published: Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("jwks");
    let keys = published["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{published}");
    let dev_kid = jsonwebtoken::decode_header(app.admin())
        .expect("dev token header")
        .kid
        .expect("dev kid");
    assert_ne!(keys[0]["kid"], json!(dev_kid), "the dev key is published");

    // Rotation: the issuer publishes a new key; a token naming it works without a restart.
    let second = IssuerKey::ec("key-2026-12");
    jwks.publish(vec![second.jwk.clone()]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = jwks.fetches();
    let (status, body) = me(&app, &second.sign(&admin)).await;
    assert_eq!(status, 200, "the rotated key is fetched: {body}");
    assert_eq!(jwks.fetches(), before + 1);
    // The retired key is gone with the old JWKS.
    assert_refused(&app, &first.sign(&admin), "a retired key").await;
}

#[tokio::test]
async fn unknown_key_ids_cannot_make_the_gateway_hammer_the_issuer() {
    let key = IssuerKey::ec("only");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let app = external_app(&jwks, Duration::from_secs(30)).await;
    let admin = claims(ISSUER, json!(AUDIENCE), "registry_admin");
    let requests = (0..20).map(|i| {
        let token = key.sign_as(&format!("made-up-{i}"), &admin);
        let app = &app;
        async move { me(app, &token).await.0 }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(jwks.fetches(), 1, "no re-fetch within the interval");
    let (status, _) = me(&app, &key.sign(&admin)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rs256_issuer_keys_verify_rs256_tokens_only() {
    let key = IssuerKey::rsa("rsa-1");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let app = external_app(&jwks, Duration::from_secs(30)).await;
    let mut provider = claims(ISSUER, json!(AUDIENCE), "provider");
    provider["org"] = uuid::Uuid::new_v4().to_string().into();
    provider["scope"] = "person:read".into();
    let (status, body) = me(&app, &key.sign(&provider)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["role"], "PROVIDER");
    let n = key.jwk["n"].as_str().expect("n").to_owned();
    assert_refused(
        &app,
        &hs256(&key.kid, n.as_bytes(), &provider),
        "HS256 keyed with the RSA modulus",
    )
    .await;
    assert_refused(
        &app,
        &hs256(&key.kid, RSA_TEST_KEY.as_bytes(), &provider),
        "HS256 keyed with the key PEM",
    )
    .await;
    let ec = IssuerKey::ec("rsa-1");
    assert_refused(&app, &ec.sign(&provider), "ES256 under an RSA key id").await;
}

#[tokio::test]
async fn a_gateway_whose_issuer_keys_cannot_be_fetched_does_not_start() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let closed = listener.local_addr().expect("addr");
    drop(listener);
    let mut settings = gateway::Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        seed_demo: false,
        ..gateway::Settings::default()
    };
    let dir = tempfile::tempdir().expect("dir");
    settings.data_dir = dir.path().to_owned();
    settings.database_url = None;
    settings.external_issuer = Some(ExternalIssuer::new(
        ISSUER,
        AUDIENCE,
        format!("http://{closed}/jwks"),
    ));
    let err = gateway::Application::build(settings)
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().contains("JWKS"), "{err}");
}

/// An RFC 7662 introspection endpoint on loopback, counting calls. It knows a few opaque
/// tokens and requires the gateway's client credentials; each answer takes `delay`.
/// `opaque-huge` gets an endless stream of JSON whitespace; the bytes sent are counted.
struct IntrospectionServer {
    url: String,
    calls: Arc<AtomicUsize>,
    streamed: Arc<AtomicUsize>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl IntrospectionServer {
    async fn start() -> IntrospectionServer {
        Self::start_with(Duration::ZERO).await
    }

    async fn start_with(delay: Duration) -> IntrospectionServer {
        use axum::response::IntoResponse;
        let calls = Arc::new(AtomicUsize::new(0));
        let streamed = Arc::new(AtomicUsize::new(0));
        let (counter, sent) = (calls.clone(), streamed.clone());
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("gateway:gw-secret")
        );
        let router =
            axum::Router::new().route(
                "/introspect",
                axum::routing::post(
                    move |headers: axum::http::HeaderMap,
                          axum::Form(form): axum::Form<
                        std::collections::HashMap<String, String>,
                    >| {
                        let (counter, expected, sent) =
                            (counter.clone(), expected.clone(), sent.clone());
                        async move {
                            counter.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            if headers.get("authorization").and_then(|v| v.to_str().ok())
                                != Some(expected.as_str())
                            {
                                return (
                                    axum::http::StatusCode::UNAUTHORIZED,
                                    axum::Json(json!({})),
                                )
                                    .into_response();
                            }
                            let active = |aud: &str| {
                                json!({
                                    "active": true, "iss": ISSUER, "aud": [aud],
                                    "exp": now() + 3600, "sub": "svc-reporting",
                                    "role": "registry_admin", "scope": "person:read",
                                })
                            };
                            let answer = match form.get("token").map(String::as_str) {
                                Some("opaque-admin") => active(AUDIENCE),
                                Some("opaque-other-audience") => active("another-api"),
                                Some("opaque-refresh") => {
                                    let mut a = active(AUDIENCE);
                                    a["token_type"] = "refresh_token".into();
                                    a
                                }
                                Some("opaque-huge") => {
                                    // 64 MiB of whitespace before a JSON object that never comes.
                                    let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
                                    use futures::StreamExt as _;
                                    let body = futures::stream::iter(0..1024).map(move |_| {
                                        sent.fetch_add(chunk.len(), Ordering::SeqCst);
                                        Ok::<_, std::convert::Infallible>(chunk.clone())
                                    });
                                    return axum::response::Response::builder()
                                        .header("content-type", "application/json")
                                        .body(axum::body::Body::from_stream(body))
                                        .expect("response");
                                }
                                _ => json!({ "active": false }),
                            };
                            (axum::http::StatusCode::OK, axum::Json(answer)).into_response()
                        }
                    },
                ),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        IntrospectionServer {
            url: format!("http://{addr}/introspect"),
            calls,
            streamed,
            _shutdown: tx,
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// A gateway trusting `jwks` and introspecting opaque tokens at `introspection`.
async fn introspecting_app(jwks: &JwksServer, introspection: &IntrospectionServer) -> TestApp {
    let (jwks_url, introspection_url) = (jwks.url.clone(), introspection.url.clone());
    TestApp::spawn_with(move |s| {
        s.external_issuer = Some(ExternalIssuer {
            introspection: Some(gateway::config::Introspection {
                url: introspection_url,
                client_id: "gateway".into(),
                client_secret: gateway::config::Secret::new("gw-secret"),
            }),
            ..ExternalIssuer::new(ISSUER, AUDIENCE, jwks_url)
        });
    })
    .await
}

#[tokio::test]
async fn opaque_tokens_are_introspected_at_the_issuer_and_cached() {
    let key = IssuerKey::ec("k1");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let introspection = IntrospectionServer::start().await;
    let (jwks_url, introspection_url) = (jwks.url.clone(), introspection.url.clone());
    let app = TestApp::spawn_with(move |s| {
        s.external_issuer = Some(ExternalIssuer {
            introspection: Some(gateway::config::Introspection {
                url: introspection_url,
                client_id: "gateway".into(),
                client_secret: gateway::config::Secret::new("gw-secret"),
            }),
            ..ExternalIssuer::new(ISSUER, AUDIENCE, jwks_url)
        });
    })
    .await;
    for _ in 0..3 {
        let (status, body) = me(&app, "opaque-admin").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["me"]["subject"], "svc-reporting");
        assert_eq!(body["data"]["me"]["scopes"], json!(["person:read"]));
    }
    assert_eq!(
        introspection.calls.load(Ordering::SeqCst),
        1,
        "one call, then the cached answer"
    );
    assert_refused(&app, "opaque-other-audience", "another audience").await;
    assert_refused(&app, "opaque-unknown", "inactive").await;
    // JWTs are still verified locally against the JWKS.
    let (status, _) = me(&app, &key.sign(&claims(ISSUER, json!(AUDIENCE), "auditor"))).await;
    assert_eq!(status, 200);
    assert_eq!(introspection.calls.load(Ordering::SeqCst), 3);
}

/// A 2048-bit RSA key for tests only (generated for this suite; it protects nothing).
const RSA_TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDltz2Kl4aSFj7f
UEfFIXXrVCRm/0wNR0sTT4TJeSjg1Svx5u6zmhzF335lx04rNqlle2uuVve62zeG
Ah+FsCz/sLdw77KvFWNalW6nbTqkJvVbYHc5pXiwia/DrQnGpge4iTuwwVCv+r52
6uYlpQwo5Rzt+XD/hZTRYMfpwUBvn8iFJHokOB4ZkZc5bBe2lcoPf821U41X+RMb
Y+jPq/kPJI/LhwB05AoYkYFXd6YGongjjogB5DdHGj9AuQcYvD/PW5GBvtql6boT
+lqjeAIdU6wku0oOzzzkMNvCA3HpKVanUt/8hS0kbfx8oVmAUPVH9pdQ2+uqx7CJ
K7Q/7sC1AgMBAAECggEAXJ6dOZwOrig6AWAlD96F5PRwGPcmetQb+RU+vN0VFlHc
/hPWeqPQpheOpwrNAa9wbXJt4EVAbR6mLGn+u7Bk9FMUI30B1oYRIRzPGMJ5umXa
15T1fVCycLuTGppSLr4SrtzmLEZFei7nTJs5YERDutll6K2CWgRKFIGpGR7KFDbc
sr7kRZstBAGbsVJkPrLycBm7aiKzscEHCpU+ixfg7G6AV6YpOoKvnulm5Jee11MC
DLcAEprZqtgKCw+2wAjAFoziFoi5M8NpIlFU1ltsQqSl29r4gQmpwrcoYh3sVuun
P/6wwLimsitVtp9WP8ejLpQHHaQlFoyXrBwN5lwhoQKBgQD8rd6oKN1TD1tcZKNa
SgFJq2DhZeCkkTWl4cl9OxpWFM0Ucdp7/utO/eGLIuaQ3L4XHlQFgwqpKBIG5OWl
NBWn+51U64PAMi/v53TK7K4jdK6PV2xrNgASXXOB7ClS4ubx48Qyk9s+VU91KVb2
3nQBZgIazsw2RyNQI6EGTNqljwKBgQDovBxxIlhddI/73lX6aQXNomUIBQ/g57wi
Kjcz2cvhtyZzxc7r2Kzo+M7AqyoLfFb++pmjzqbnHqDH3lPeXn5xs4e+h7XL+SUq
JcE/p3CixBKzPCHz47dsIYJDCVT7ZxBD8Z2NGEb216AKhdpD8uBpZeBvUOQznoej
qhkJiZL7ewKBgBkmSSIdpyHMRoCkt6mV8hjeCO+GT1yx41AWcBKZ3l4xBdSCHIf4
8HzVQiyyFZbXkcgFScGesGHzzg+Hmt/dlkY5AgjgxCVOGX1cYUCNXCvFQlacEft9
zXYGfSeyVM6eLPRogi+yjcDfhuAXdENwEsXM3GrEqIjCfd5NHYrd/Wk7AoGBALRz
ViIqHRWpERKa21MjJwq/xVIoip05UFe1H8QmNLy4Ayp0zvFyuO6SK8ybaigpqlJc
/89QpXxB9SvDKIgcADIsny2Nj9mtPbGmQGYYb27kVBOAplqxz0AZ4yQTEj8zNBta
NWx2zF8L5N0D164jnPhbs17b+3RCkKzHcE5CyyINAoGBAI6BzsYJALnziuZY6Xes
SlwW8DVWaOUOGedBVR4bhY0/8kmiGvtUbLg2GgwSg8dK0M+ut44v9NyS0hski/9M
omlDVzNMEx1JvTddh4QaEljhMC7W/ovY7SaPNgOBPFDkRVwD7SnvDqB/Utb52BNv
Oe0htUhaYaT90jgBeg2T30Eu
-----END PRIVATE KEY-----
";

/// OpenID Connect allows a `sub` of 255 characters: a token that long reads, writes and is
/// logged like any other; one character more, or a control character, is refused at the door
/// (401) rather than failing the access-log append after the work is done.
#[tokio::test]
async fn subjects_up_to_oidcs_255_characters_are_served_and_logged_and_longer_ones_refused() {
    let (app, keys) = dev_app().await;
    let admin = app.admin();
    let org = app.create_org("Long Subject Clinic", "CLINIC").await;
    let person = app.create_person(&admin, "Sub", "Ject", "2020-02-02").await;
    let (iss, aud) = ("urn:izgraph:dev", json!("izgraph"));
    let subject = format!("provider-{}", "é".repeat(255 - 9));
    assert_eq!(subject.chars().count(), 255);
    let mut provider = claims(iss, aud.clone(), "provider");
    provider["sub"] = subject.clone().into();
    provider["org"] = org.clone().into();
    let token = keys.sign(&provider).expect("sign");

    let read = app
        .ok(
            &token,
            "query($id: ID!) { person(id: $id) { firstName } }",
            json!({ "id": person }),
        )
        .await;
    assert_eq!(read["person"]["firstName"], "Sub");
    let dose = app.record_dose(&token, &person, "08", "2020-02-03").await;
    assert_eq!(dose["data"]["recordDose"]["stored"], true, "{dose}");

    let mut auditor = claims(iss, aud.clone(), "auditor");
    auditor["sub"] = "long-subject-auditor".into();
    let log = app
        .ok(
            &keys.sign(&auditor).expect("sign"),
            "query($s: String) { accessLog(filter: { subject: $s }) { edges { node { subject action } } } }",
            json!({ "s": subject }),
        )
        .await;
    let entries = log["accessLog"]["edges"].as_array().expect("edges");
    assert!(
        entries.iter().any(|e| e["node"]["action"] == "READ"),
        "the long subject's read is logged: {log}"
    );
    assert!(entries
        .iter()
        .all(|e| e["node"]["subject"] == subject.as_str()));

    for (what, sub) in [
        ("256 characters", format!("{subject}x")),
        ("a NUL", "provider\u{0}x".to_owned()),
        ("a newline", "provider\nforged".to_owned()),
    ] {
        let mut c = provider.clone();
        c["sub"] = sub.into();
        assert_refused(&app, &keys.sign(&c).expect("sign"), what).await;
    }
}

/// Starts a loopback server for `router`; its base URL and the handle that stops it.
async fn serve_router(router: axum::Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    (format!("http://{addr}"), tx)
}

/// The JWKS URL answering a redirect to another set of keys is not followed: the gateway
/// does not start on the redirected keys (which would then sign an accepted admin token).
#[tokio::test]
async fn jwks_redirects_are_not_followed() {
    let evil = IssuerKey::ec("evil");
    let keys = json!({ "keys": [evil.jwk.clone()] });
    let router = axum::Router::new()
        .route(
            "/jwks",
            axum::routing::get(|| async { axum::response::Redirect::temporary("/elsewhere") }),
        )
        .route(
            "/elsewhere",
            axum::routing::get(move || {
                let keys = keys.clone();
                async move { axum::Json(keys) }
            }),
        );
    let (base, _stop) = serve_router(router).await;
    let dir = tempfile::tempdir().expect("dir");
    let settings = gateway::Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        seed_demo: false,
        data_dir: dir.path().to_owned(),
        database_url: None,
        external_issuer: Some(ExternalIssuer::new(
            ISSUER,
            AUDIENCE,
            format!("{base}/jwks"),
        )),
        ..gateway::Settings::default()
    };
    match gateway::Application::build(settings).await {
        Err(e) => assert!(e.to_string().contains("redirect"), "{e}"),
        Ok(app) => {
            let addr = app.address().expect("addr");
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(app.run_until(async {
                let _ = rx.await;
            }));
            let token = evil.sign(&claims(ISSUER, json!(AUDIENCE), "registry_admin"));
            let status = reqwest::Client::new()
                .post(format!("http://{addr}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": ME }))
                .send()
                .await
                .expect("send")
                .status();
            drop(tx);
            panic!(
                "the gateway started on redirected keys (an admin token signed by them: {status})"
            );
        }
    }
}

/// Keys are refreshed on the schedule the issuer's `Cache-Control: max-age` sets (within the
/// floor and ceiling): a key the issuer removed stops verifying although its `kid` is known.
#[tokio::test]
async fn a_key_removed_from_the_jwks_stops_verifying_on_the_next_scheduled_refresh() {
    let (old, new) = (IssuerKey::ec("old"), IssuerKey::ec("new"));
    let jwks = JwksServer::start_with(vec![old.jwk.clone(), new.jwk.clone()], Some(1)).await;
    let url = jwks.url.clone();
    let app = TestApp::spawn_with(move |s| {
        s.external_issuer = Some(ExternalIssuer {
            min_refresh_interval: Duration::from_millis(500),
            refresh_interval: Duration::from_secs(600),
            ..ExternalIssuer::new(ISSUER, AUDIENCE, url)
        });
    })
    .await;
    let admin = claims(ISSUER, json!(AUDIENCE), "registry_admin");
    assert_eq!(me(&app, &old.sign(&admin)).await.0, 200);
    jwks.publish(vec![new.jwk.clone()]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        jwks.fetches() >= 2,
        "refreshed on schedule: {}",
        jwks.fetches()
    );
    assert_refused(&app, &old.sign(&admin), "a key the issuer removed").await;
    assert_eq!(me(&app, &new.sign(&admin)).await.0, 200);
}

/// RFC 7515 `crit`, the `iss` type, a future `iat`, the access-token type (RFC 9068), keys
/// not meant for verification, duplicate `kid`s, and control or format characters in claims.
#[tokio::test]
async fn external_tokens_are_checked_as_the_rfcs_require() {
    let key = IssuerKey::ec("k1");
    // A key published for encryption only, and two keys sharing one `kid`.
    let enc = IssuerKey::ec("enc-only");
    let mut enc_jwk = enc.jwk.clone();
    enc_jwk.as_object_mut().expect("jwk").remove("use");
    enc_jwk["key_ops"] = json!(["encrypt", "wrapKey"]);
    let dup_ec = IssuerKey::ec("dup");
    let dup_rsa = IssuerKey::rsa("dup");
    let jwks = JwksServer::start(vec![
        key.jwk.clone(),
        enc_jwk,
        dup_ec.jwk.clone(),
        dup_rsa.jwk.clone(),
    ])
    .await;
    let app = external_app(&jwks, Duration::from_secs(30)).await;
    let admin = claims(ISSUER, json!(AUDIENCE), "registry_admin");
    let (status, body) = me(&app, &key.sign(&admin)).await;
    assert_eq!(status, 200, "the control token works: {body}");
    let typed = key.sign_with(|h| h.typ = Some("application/at+jwt".into()), &admin);
    assert_eq!(
        me(&app, &typed).await.0,
        200,
        "the media-type form of at+jwt"
    );

    let crit = key.sign_with(|h| h.crit = Some(vec!["urn:example:ext".into()]), &admin);
    assert_refused(&app, &crit, "an unknown critical header").await;
    let mut iss_array = admin.clone();
    iss_array["iss"] = json!([ISSUER, "https://evil.example"]);
    assert_refused(&app, &key.sign(&iss_array), "an iss array").await;
    let mut future = admin.clone();
    future["iat"] = (now() + 10 * 365 * 86_400).into();
    future["exp"] = (now() + 10 * 365 * 86_400 + 600).into();
    assert_refused(&app, &key.sign(&future), "iat ten years ahead").await;
    let id_token = key.sign_with(|h| h.typ = Some("JWT".into()), &admin);
    assert_refused(&app, &id_token, "typ JWT (an ID token)").await;
    let untyped = key.sign_with(|h| h.typ = None, &admin);
    assert_refused(&app, &untyped, "no typ").await;
    assert_refused(
        &app,
        &enc.sign(&admin),
        "a key with key_ops encrypt, wrapKey",
    )
    .await;
    assert_eq!(
        me(&app, &dup_ec.sign(&admin)).await.0,
        200,
        "ES256 under kid dup"
    );
    assert_eq!(
        me(&app, &dup_rsa.sign(&admin)).await.0,
        200,
        "RS256 under kid dup"
    );
    for (claim, value) in [
        ("sub", "admin\u{202E}nimda"),
        ("sub", "zero\u{200B}width"),
        ("scope", "person:read\u{2066}"),
        ("sub", "bell\u{7}"),
    ] {
        let mut c = admin.clone();
        c[claim] = value.into();
        assert_refused(&app, &key.sign(&c), &format!("{claim} {value:?}")).await;
    }
}

/// Issuers that do not type their access tokens: a configured claim marks them instead.
#[tokio::test]
async fn a_configured_claim_can_mark_access_tokens_of_issuers_without_typ() {
    let key = IssuerKey::ec("k1");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let url = jwks.url.clone();
    let app = TestApp::spawn_with(move |s| {
        s.external_issuer = Some(ExternalIssuer {
            access_claim: Some(("token_use".into(), "access".into())),
            ..ExternalIssuer::new(ISSUER, AUDIENCE, url)
        });
    })
    .await;
    let mut access = claims(ISSUER, json!(AUDIENCE), "auditor");
    access["token_use"] = "access".into();
    let jwt = |c: &Value| key.sign_with(|h| h.typ = Some("JWT".into()), c);
    assert_eq!(me(&app, &jwt(&access)).await.0, 200);
    let mut id = access.clone();
    id["token_use"] = "id".into();
    assert_refused(&app, &jwt(&id), "token_use id").await;
}

/// Token `sub` and other claims with Unicode control or format characters are refused on the
/// dev issuer too (issue 14).
#[tokio::test]
async fn dev_tokens_with_format_characters_in_claims_are_refused() {
    let (app, keys) = dev_app().await;
    let good = claims("urn:izgraph:dev", json!("izgraph"), "registry_admin");
    assert_eq!(me(&app, &keys.sign(&good).expect("sign")).await.0, 200);
    for sub in [
        "evil\u{202E}gpj.exe",
        "a\u{FEFF}b",
        "a\u{200D}b",
        "a\u{85}b",
    ] {
        let mut c = good.clone();
        c["sub"] = sub.into();
        assert_refused(&app, &keys.sign(&c).expect("sign"), &format!("{sub:?}")).await;
    }
}

#[tokio::test]
async fn introspection_refuses_refresh_tokens_and_never_sees_malformed_jwts() {
    let key = IssuerKey::ec("k1");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let introspection = IntrospectionServer::start().await;
    let app = introspecting_app(&jwks, &introspection).await;
    assert_eq!(me(&app, "opaque-admin").await.0, 200);
    assert_refused(&app, "opaque-refresh", "token_type refresh_token").await;
    let calls = introspection.calls();
    let admin = claims(ISSUER, json!(AUDIENCE), "registry_admin");
    assert_refused(&app, &unsigned("k1", &admin), "alg: none").await;
    let bad_header = format!("{}.{}.", b64(b"{\"alg\":\"XX256\"}"), b64(b"{}"));
    assert_refused(&app, &bad_header, "an unknown alg").await;
    assert_eq!(
        introspection.calls(),
        calls,
        "JWT-shaped tokens are refused locally, never sent to the issuer"
    );
}

/// 60 made-up opaque tokens against a slow issuer do not make a real user (from another
/// address) wait for them: the flood's calls are capped per source, the rest answered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_junk_token_flood_does_not_make_a_real_user_wait() {
    let key = IssuerKey::ec("k1");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let introspection = IntrospectionServer::start_with(Duration::from_secs(2)).await;
    let app = introspecting_app(&jwks, &introspection).await;
    let flood = (0..60).map(|i| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let (status, _, _) = me_with_header(app, Some(&format!("Bearer junk-token-{i}"))).await;
            (status, started.elapsed())
        }
    });
    let user = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Another source address on loopback.
        let client = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
            .build()
            .expect("client");
        let started = std::time::Instant::now();
        let resp = client
            .post(format!("{}/graphql", app.base))
            .bearer_auth("opaque-admin")
            .json(&json!({ "query": ME }))
            .send()
            .await
            .expect("send");
        (resp.status().as_u16(), started.elapsed())
    };
    let (flood, (status, waited)) = tokio::join!(futures::future::join_all(flood), user);
    assert_eq!(status, 200);
    assert!(
        waited < Duration::from_secs(5),
        "the real user waited {waited:?} (one call takes 2 s)"
    );
    assert!(
        flood.iter().all(|(s, _)| *s == 401 || *s == 503),
        "{flood:?}"
    );
    let slowest = flood.iter().map(|(_, d)| *d).max().unwrap_or_default();
    assert!(slowest < Duration::from_secs(8), "junk waited {slowest:?}");
    assert!(
        introspection.calls() <= 10,
        "the flood's calls are capped: {}",
        introspection.calls()
    );
}

/// An endless introspection answer is cut off at 256 KiB, not read into memory.
#[tokio::test]
async fn a_huge_introspection_answer_is_refused_without_reading_it_all() {
    let key = IssuerKey::ec("k1");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let introspection = IntrospectionServer::start().await;
    let app = introspecting_app(&jwks, &introspection).await;
    assert_refused(&app, "opaque-huge", "a 64 MiB answer").await;
    let sent = introspection.streamed.load(Ordering::SeqCst);
    assert!(
        sent < 16 << 20,
        "the gateway stopped reading early: {} MiB were sent",
        sent >> 20
    );
    assert_eq!(me(&app, "opaque-admin").await.0, 200);
}
