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

    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
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
                    axum::Json(json!({ "keys": keys }))
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
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks_url: url,
            min_refresh_interval: min_refresh,
            introspection: None,
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

    // Dev-issuer surfaces are gone: nothing here mints or publishes dev keys.
    for path in ["/oauth/token", "/.well-known/jwks.json"] {
        let resp = app
            .client
            .post(format!("{}{path}", app.base))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 404, "{path}");
    }

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
    settings.external_issuer = Some(ExternalIssuer {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: format!("http://{closed}/jwks"),
        min_refresh_interval: Duration::from_secs(30),
        introspection: None,
    });
    let err = gateway::Application::build(settings)
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().contains("JWKS"), "{err}");
}

/// An RFC 7662 introspection endpoint on loopback, counting calls. It knows two opaque
/// tokens and requires the gateway's client credentials.
struct IntrospectionServer {
    url: String,
    calls: Arc<AtomicUsize>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl IntrospectionServer {
    async fn start() -> IntrospectionServer {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
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
                        let (counter, expected) = (counter.clone(), expected.clone());
                        async move {
                            counter.fetch_add(1, Ordering::SeqCst);
                            if headers.get("authorization").and_then(|v| v.to_str().ok())
                                != Some(expected.as_str())
                            {
                                return (
                                    axum::http::StatusCode::UNAUTHORIZED,
                                    axum::Json(json!({})),
                                );
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
                                _ => json!({ "active": false }),
                            };
                            (axum::http::StatusCode::OK, axum::Json(answer))
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
            _shutdown: tx,
        }
    }
}

#[tokio::test]
async fn opaque_tokens_are_introspected_at_the_issuer_and_cached() {
    let key = IssuerKey::ec("k1");
    let jwks = JwksServer::start(vec![key.jwk.clone()]).await;
    let introspection = IntrospectionServer::start().await;
    let (jwks_url, introspection_url) = (jwks.url.clone(), introspection.url.clone());
    let app = TestApp::spawn_with(move |s| {
        s.external_issuer = Some(ExternalIssuer {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks_url,
            min_refresh_interval: Duration::from_secs(30),
            introspection: Some(gateway::config::Introspection {
                url: introspection_url,
                client_id: "gateway".into(),
                client_secret: gateway::config::Secret::new("gw-secret"),
            }),
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
