//! Input strategies: each request is drawn by proptest as a few choice sequences (and, for the
//! raw generators, byte vectors) and rendered into a concrete [`HttpRequest`]. Shrinking
//! works on the sequences, so a failure is reported as the smallest request that still fails.
//!
//! What is generated:
//! - `POST /graphql` JSON bodies: grammar-generated documents ([`crate::graphql_gen`]) in an
//!   envelope whose `query`, `variables`, `operationName` and `extensions` are right, missing,
//!   null, of the wrong type or random; APQ `persistedQuery` registrations, hash-only
//!   lookups, wrong and malformed hashes; padding up to and past the 1 MiB body limit;
//! - batches: up to 12 operations (the limit is 10), APQ register-then-use pairs, non-object
//!   items, nested and empty lists;
//! - raw bodies: random bytes, mutated valid JSON, and JSON edge cases (lone surrogates, deep
//!   nesting past serde's limit, huge numbers, duplicate keys, a BOM, trailing garbage), with
//!   valid, invalid and missing `Content-Type`s;
//! - `GET /graphql?…`: encoded requests, percent-encoding garbage, no query (GraphiQL), huge;
//! - mutations with every argument as a variable, `recordDose` most often (random CVX codes,
//!   dates, ids, lot numbers…), with the tokens of roles that write and of roles that may not;
//! - `GET /reports/roster/{id}.csv` with random ids, suffixes and parameters;
//! - `POST /oauth/token` form bodies: grants, client credentials in the form and in Basic
//!   auth (real, wrong, malformed), scopes;
//! - raw HTTP/1.1 on a socket: bad request lines and versions, conflicting or garbage
//!   `Content-Length`, chunked bodies with corrupt chunk sizes, `Transfer-Encoding` together
//!   with `Content-Length`, obs-folded, NUL-carrying and enormous header lines, pipelining;
//! - other methods and paths;
//! - on every request, headers: `Authorization` missing, valid (every role), byte-tampered,
//!   truncated, spliced from two tokens, `alg: none`, HS256 keyed with the public key, wrong
//!   scheme, garbage, huge, or signed by the real key with forged claims (expired, not yet
//!   valid, wrong issuer/audience, unknown role, missing org, non-UUID ids, odd scopes and
//!   purposes, hostile `kid`s); random `Accept`, `traceparent`, `x-request-id`, extra headers
//!   and very long header values.

use std::sync::Arc;

use base64::Engine as _;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::graphql_gen::{Chooser, Doc, Gen};
use crate::http::{HttpRequest, Kind};
use crate::model::Model;
use crate::world::World;

/// What the strategies render against.
pub struct Ctx {
    pub world: World,
    pub model: Model,
}

fn choices(max: usize) -> BoxedStrategy<Vec<u16>> {
    vec(any::<u16>(), 0..max).boxed()
}

const KEYS: &[&str] = &[
    "query",
    "variables",
    "operationName",
    "extensions",
    "persistedQuery",
    "sha256Hash",
    "version",
    "__proto__",
    "constructor",
    "",
    "a",
    "💉",
    "\u{0}",
    "i",
    "personId",
    "id",
];

/// Random JSON from a choice sequence (depth-bounded; long arrays hold only small items, so
/// a value stays within a few MiB).
pub fn json_of_choices(c: &mut Chooser<'_>, depth: usize) -> Value {
    json_sized(c, depth, true)
}

fn json_sized(c: &mut Chooser<'_>, depth: usize, big: bool) -> Value {
    let nest = if depth > 0 { 12 } else { 0 };
    match c.weighted(&[10, 10, 15, 10, 20, nest, nest]) {
        0 => Value::Null,
        1 => Value::Bool(c.chance(50)),
        2 => {
            let n = *c.pick(&[
                0i128,
                1,
                -1,
                20,
                200,
                201,
                i128::from(i32::MAX),
                i128::from(i32::MIN),
                i128::from(i64::MAX),
                i128::from(i64::MIN),
                (1i128 << 53) + 1,
                i128::from(u64::MAX),
            ]);
            n.to_string()
                .parse::<serde_json::Number>()
                .map_or(Value::Null, Value::Number)
        }
        3 => serde_json::Number::from_f64(*c.pick(&[1e308, -0.0, 5e-324, 0.1, -1.5e300, 2.5]))
            .map_or(Value::Null, Value::Number),
        4 => Value::String(match c.below(3) {
            0 => (*c.pick(KEYS)).to_owned(),
            1 => c
                .pick(&[
                    "",
                    "x",
                    "{ me { role } }",
                    "2020-01-01",
                    "\u{0}",
                    "💉",
                    "null",
                ])
                .to_string(),
            _ => {
                let n = *c.pick(&[1, 100, 10_000, 200_000]);
                "y".repeat(if big { n } else { n.min(100) })
            }
        }),
        5 => {
            let n = match c.weighted(&[70, 25, if big { 5 } else { 0 }]) {
                0 => c.below(4),
                1 => 4 + c.below(20),
                _ => 5_000,
            };
            let item = json_sized(c, depth - 1, big && n <= 3);
            Value::Array(vec![item; n])
        }
        _ => {
            let n = c.below(5);
            let mut m = Map::new();
            for _ in 0..n {
                let k = (*c.pick(KEYS)).to_owned();
                m.insert(k, json_sized(c, depth - 1, big && n <= 1));
            }
            Value::Object(m)
        }
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Percent-encodes everything but the unreserved characters (`+` for spaces in forms).
fn percent(text: &[u8], form: bool) -> String {
    let mut out = String::new();
    for &b in text {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char);
            }
            b' ' if form => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Headers

const ACCEPTS: &[&str] = &[
    "application/json",
    "application/graphql-response+json",
    "application/graphql-response+json, application/json;q=0.9",
    "application/json;q=0.1, application/graphql-response+json;q=0.2",
    "*/*",
    "application/*",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/xml",
    "text/plain",
    "application/json;q=0",
    "application/json;q=abc",
    "application/json;q=NaN",
    "application/json;q=-1",
    "application/json;q=1e999",
    "",
    ",,,",
    ";",
    "APPLICATION/JSON",
    "application/json; charset=utf-16",
];

const BAD_TRACEPARENTS: &[&str] = &[
    "00-00000000000000000000000000000000-0000000000000000-01",
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
    "00--00f067aa0ba902b7-01",
    "-",
    "",
    "00-zz-zz-zz",
    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what",
];

const HEADER_NAMES: &[&str] = &[
    "x-forwarded-for",
    "forwarded",
    "cookie",
    "user-agent",
    "x-apollo-operation-name",
    "apollo-require-preflight",
    "origin",
    "referer",
    "accept-encoding",
    "accept-language",
    "if-none-match",
    "range",
    "x-request-id",
    "authorization",
    "tracestate",
    "baggage",
    "traceparent",
    "accept",
    "x-izgraph-role",
];

/// The tokens (by label, see `World::seed`) of roles that write, for mutations.
const WRITERS: &[&str] = &[
    "registry_admin",
    "provider@clinic",
    "provider@clinic2",
    "public_health",
    "provider read-only",
    "guardian",
    "individual",
    "provider purpose=PUBLIC_HEALTH",
    "provider@unknown-org",
];
/// The tokens of roles that read rosters (and some that may not).
const ROSTER_READERS: &[&str] = &[
    "school",
    "school2",
    "registry_admin",
    "school@clinic",
    "provider@clinic",
    "auditor",
];

fn tamper(token: &str, edits: &mut Chooser<'_>) -> Vec<u8> {
    let mut bytes = token.as_bytes().to_vec();
    let n = 1 + edits.below(4);
    for _ in 0..n {
        let at = edits.below(bytes.len().max(1));
        let raw = edits.raw();
        let new = if raw < u16::MAX / 10 {
            (raw >> 8) as u8
        } else {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
                [usize::from(raw) % 65]
        };
        if let Some(b) = bytes.get_mut(at) {
            *b = new;
        }
    }
    bytes
}

/// A JWT signed with the dev key, with a chosen header and claims.
fn sign(world: &World, header: &jsonwebtoken::Header, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&world.signing_pem).expect("dev key PEM");
    jsonwebtoken::encode(header, claims, &key).expect("sign forged claims")
}

/// Claims the real key signs that a principal must not be made of (or, sometimes, may).
fn forged_token(world: &World, c: &mut Chooser<'_>) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = Map::new();
    let roles = [
        "registry_admin",
        "provider",
        "public_health",
        "school",
        "health_plan",
        "guardian",
        "individual",
        "auditor",
        "superuser",
        "",
        "REGISTRY_ADMIN",
        "provider ",
        "admin",
    ];
    claims.insert("role".into(), json!(*c.pick(&roles)));
    let some_id = |c: &mut Chooser<'_>| -> Value {
        match c.below(6) {
            0 => json!(c.pick(&world.org_ids)),
            1 => json!(c.pick(&world.person_ids)),
            2 => json!(uuid::Uuid::nil().to_string()),
            3 => json!("not-a-uuid"),
            4 => json!(42),
            _ => Value::Null,
        }
    };
    if !c.chance(30) {
        let org = some_id(c);
        claims.insert("org".into(), org);
    }
    if c.chance(30) {
        let person = some_id(c);
        claims.insert("person".into(), person);
    }
    match c.below(6) {
        0 | 1 => {
            claims.insert("sub".into(), json!("fuzz"));
        }
        2 => {}
        3 => {
            claims.insert("sub".into(), json!(" "));
        }
        4 => {
            let sub = if c.chance(50) {
                "s".repeat(5000)
            } else {
                "a\u{0}b".to_owned()
            };
            claims.insert("sub".into(), json!(sub));
        }
        _ => {
            claims.insert("sub".into(), json!(7));
        }
    }
    let exp: Value = match c.below(10) {
        0..=2 => json!(now + 3600),
        3 => json!(now - 3600),
        4 => json!(now - 6),
        5 => json!(now - 4),
        6 => json!(i64::MAX),
        7 => json!(-1),
        8 => json!("tomorrow"),
        _ => Value::Null,
    };
    if !exp.is_null() {
        claims.insert("exp".into(), exp);
    }
    claims.insert("iat".into(), json!(now));
    if c.chance(20) {
        let nbf = *c.pick(&[now + 3600, now + 4, now - 10, i64::MIN]);
        claims.insert("nbf".into(), json!(nbf));
    }
    match c.below(5) {
        0..=2 => {
            claims.insert("iss".into(), json!(gateway::keys::DEV_ISSUER));
        }
        3 => {
            claims.insert("iss".into(), json!("https://evil.example"));
        }
        _ => {}
    }
    let aud = match c.below(6) {
        0..=2 => json!(gateway::keys::DEV_AUDIENCE),
        3 => json!([gateway::keys::DEV_AUDIENCE, "other"]),
        4 => json!("other"),
        _ => json!([]),
    };
    claims.insert("aud".into(), aud);
    if c.chance(30) {
        let scope = *c.pick(&[
            "person:read",
            "admin",
            "admin admin",
            "bogus",
            "",
            "   ",
            "person:read,dose:write",
            "audit:read roster:read person:write dose:write consent:write person:read admin",
        ]);
        claims.insert("scope".into(), json!(scope));
    }
    if c.chance(20) {
        let purpose = *c.pick(&["TREATMENT", "AUDIT", "SELF", "treatment", "WHATEVER", ""]);
        claims.insert("purpose".into(), json!(purpose));
    }
    if c.chance(10) {
        claims.insert("extra".into(), json_of_choices(c, 2));
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = match c.below(6) {
        0..=2 => Some(world.keys.kid().to_owned()),
        3 => None,
        4 => Some("../../../../etc/passwd".into()),
        _ => Some("k".repeat(4000)),
    };
    sign(world, &header, &Value::Object(claims))
}

/// The `Authorization` value (or none).
fn authorization(world: &World, c: &mut Chooser<'_>, preferred: &[&str]) -> Option<Vec<u8>> {
    let preferred: Vec<usize> = preferred
        .iter()
        .filter_map(|label| world.tokens.iter().position(|t| t.label == *label))
        .collect();
    let valid = |c: &mut Chooser<'_>| -> String {
        let i = if !preferred.is_empty() && c.chance(70) {
            *c.pick(&preferred)
        } else {
            c.below(world.tokens.len())
        };
        world.token(i).token.clone()
    };
    let bearer = |t: &[u8]| [b"Bearer ".as_slice(), t].concat();
    Some(match c.weighted(&[180, 3, 4, 1, 1, 5, 1, 1, 2, 2, 1, 1]) {
        0 => bearer(valid(c).as_bytes()),
        1 => return None,
        2 => {
            let t = valid(c);
            bearer(&tamper(&t, c))
        }
        3 => {
            let t = valid(c);
            let cut = c.below(t.len());
            bearer(&t.as_bytes()[..cut])
        }
        4 => {
            // Another token's claims under this token's header and signature.
            let (a, b) = (valid(c), valid(c));
            let pa: Vec<&str> = a.split('.').collect();
            let pb: Vec<&str> = b.split('.').collect();
            let spliced = match (pa.as_slice(), pb.as_slice()) {
                ([h, _, s], [_, p, _]) => format!("{h}.{p}.{s}"),
                _ => a.clone(),
            };
            bearer(spliced.as_bytes())
        }
        5 => bearer(forged_token(world, c).as_bytes()),
        6 => {
            let t = valid(c);
            let payload = t.split('.').nth(1).unwrap_or("").to_owned();
            let alg = *c.pick(&["none", "None", "NONE", "nOnE"]);
            let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
            bearer(format!("{header}.{payload}.").as_bytes())
        }
        7 => {
            let t = valid(c);
            let payload = t.split('.').nth(1).unwrap_or("");
            let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            let jwk = world.keys.jwk();
            let secret = if c.chance(50) {
                jwk.x
            } else {
                String::from_utf8_lossy(&world.signing_pem).into_owned()
            };
            let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            let forged = jsonwebtoken::encode(
                &header,
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
            )
            .unwrap_or_default();
            bearer(forged.as_bytes())
        }
        8 => {
            let t = valid(c);
            let scheme = *c.pick(&[
                "bearer ", "BEARER ", "Bearer  ", "Bearer\t", "Basic ", "Token ", "", "Bearer",
                " Bearer ",
            ]);
            if scheme == "Bearer" {
                b"Bearer".to_vec()
            } else {
                [scheme.as_bytes(), t.as_bytes()].concat()
            }
        }
        9 => {
            let junk = *c.pick(&[
                "Bearer not.a.jwt",
                "Bearer ...",
                "Bearer a.b.c.d",
                "Bearer eyJhbGciOiJFUzI1NiJ9..",
                "Bearer eyJ.eyJ.eyJ",
                "Bearer %00",
                "Bearer 💉",
                "Basic Zm9vOmJhcg==",
                "Bearer izs_secretlooking",
                "Negotiate YII=",
            ]);
            junk.as_bytes().to_vec()
        }
        10 => {
            let n = *c.pick(&[4_096, 65_536, 300_000]);
            bearer("A".repeat(n).as_bytes())
        }
        _ => {
            let n = c.below(60);
            (0..n).map(|_| (c.raw() % 256) as u8).collect()
        }
    })
}

/// Common headers: authorization, accept, traceparent, x-request-id and extras.
fn headers(world: &World, c: &mut Chooser<'_>, preferred: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(a) = authorization(world, c, preferred) {
        out.push(("authorization".to_owned(), a));
    }
    match c.weighted(&[86, 12, 2]) {
        0 => {}
        1 => out.push(("accept".into(), c.pick(ACCEPTS).as_bytes().to_vec())),
        _ => {
            let n = c.below(60);
            let v: Vec<u8> = (0..n).map(|_| 0x20 + (c.raw() % 95) as u8).collect();
            out.push(("accept".into(), v));
        }
    }
    match c.weighted(&[80, 10, 8, 2]) {
        0 => {}
        1 => {
            let hex: String = (0..24).map(|_| format!("{:02x}", c.raw() as u8)).collect();
            out.push((
                "traceparent".into(),
                format!("00-{}-{}-01", &hex[..32], &hex[32..48]).into_bytes(),
            ));
        }
        2 => out.push((
            "traceparent".into(),
            c.pick(BAD_TRACEPARENTS).as_bytes().to_vec(),
        )),
        _ => out.push((
            "traceparent".into(),
            "0".repeat(*c.pick(&[100, 10_000, 100_000])).into_bytes(),
        )),
    }
    match c.weighted(&[80, 10, 6, 4]) {
        0 => {}
        1 => {
            let n = 1 + c.below(64);
            let v: String = (0..n)
                .map(|_| char::from(b"abcXYZ019-_"[c.below(11)]))
                .collect();
            out.push(("x-request-id".into(), v.into_bytes()));
        }
        2 => out.push((
            "x-request-id".into(),
            c.pick(&[
                "",
                "a b",
                "../x",
                "x".repeat(65).as_str(),
                "ü",
                "\u{202e}",
                "<script>",
            ])
            .as_bytes()
            .to_vec(),
        )),
        _ => out.push((
            "x-request-id".into(),
            "r".repeat(*c.pick(&[1_000, 50_000])).into_bytes(),
        )),
    }
    if c.chance(10) {
        let n = 1 + c.below(3);
        for _ in 0..n {
            let name = if c.chance(80) {
                (*c.pick(HEADER_NAMES)).to_owned()
            } else {
                format!("x-fuzz-{}", c.below(1000))
            };
            let value = match c.below(4) {
                0 => c
                    .pick(&[
                        "127.0.0.1",
                        "a=b; c=d",
                        "gzip, br",
                        "bytes=0-1",
                        "*",
                        "W/\"x\"",
                    ])
                    .as_bytes()
                    .to_vec(),
                1 => (0..c.below(80)).map(|_| (c.raw() % 256) as u8).collect(),
                2 => "v".repeat(*c.pick(&[8_000, 64_000])).into_bytes(),
                _ => "é💉".as_bytes().to_vec(),
            };
            out.push((name, value));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// GraphQL envelopes

/// Pads a document up to (and past) the body limit: whitespace, comments, commas, BOMs.
fn pad(c: &mut Chooser<'_>, q: &mut String) {
    if !c.chance(4) {
        return;
    }
    let len = *c.pick(&[1_000, 1_000, 60_000, 60_000, 500_000, 1_048_000, 1_100_000]);
    let unit = *c.pick(&[" ", "\n", ",", "\t", "#comment\n", "\u{feff}"]);
    let padding = unit.repeat(len / unit.len());
    if c.chance(50) {
        q.push_str(&padding);
    } else {
        q.insert_str(0, &padding);
    }
}

/// The JSON body of one operation.
fn envelope(c: &mut Chooser<'_>, doc: &Doc) -> Value {
    let mut map = Map::new();
    let mut query = None;
    match c.weighted(&[94, 2, 1, 1, 1, 1]) {
        0 => {
            let mut q = doc.text.clone();
            pad(c, &mut q);
            map.insert("query".into(), Value::String(q.clone()));
            query = Some(q);
        }
        1 => {}
        2 => {
            map.insert("query".into(), Value::Null);
        }
        3 => {
            map.insert("query".into(), json_of_choices(c, 2));
        }
        4 => {
            map.insert("query".into(), json!(""));
        }
        _ => {
            map.insert("query".into(), json!(" \n\t "));
        }
    }
    match c.weighted(&[70, 8, 6, 5, 4, 4, 3]) {
        0 if !doc.variables.is_empty() || c.chance(30) => {
            map.insert("variables".into(), Value::Object(doc.variables.clone()));
        }
        1 => {
            let mut vars = doc.variables.clone();
            for _ in 0..1 + c.below(3) {
                let k = (*c.pick(KEYS)).to_owned();
                vars.insert(k, json_of_choices(c, 3));
            }
            map.insert("variables".into(), Value::Object(vars));
        }
        2 => {
            let mut vars = Map::new();
            for name in doc.variables.keys() {
                vars.insert(name.clone(), json_of_choices(c, 3));
            }
            map.insert("variables".into(), Value::Object(vars));
        }
        3 => {
            map.insert("variables".into(), json_of_choices(c, 2));
        }
        4 => {
            map.insert("variables".into(), Value::Null);
        }
        5 => {
            map.insert(
                "variables".into(),
                Value::String(Value::Object(doc.variables.clone()).to_string()),
            );
        }
        _ => {}
    }
    match c.weighted(&[85, 4, 4, 3, 4]) {
        0 => {
            if let Some(n) = &doc.operation_name {
                map.insert("operationName".into(), json!(n));
            }
        }
        1 => {
            let n = *c.pick(&["Q", "Other", "Nope", "", "x y", "Ünïcödé"]);
            map.insert("operationName".into(), json!(n));
        }
        2 => {
            map.insert("operationName".into(), Value::Null);
        }
        3 => {
            map.insert("operationName".into(), json_of_choices(c, 1));
        }
        _ => {}
    }
    let text = query.clone().unwrap_or_else(|| doc.text.clone());
    match c.weighted(&[78, 7, 5, 4, 3, 3]) {
        0 => {}
        1 => {
            // APQ registration: the document with its hash.
            let hash = if c.chance(20) {
                sha256_hex(&text).to_uppercase()
            } else {
                sha256_hex(&text)
            };
            map.insert(
                "extensions".into(),
                json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }),
            );
        }
        2 => {
            // Hash only: found if registered before, otherwise PERSISTED_QUERY_NOT_FOUND.
            map.remove("query");
            let hash = if c.chance(60) {
                sha256_hex(&doc.text)
            } else {
                (0..32).map(|_| format!("{:02x}", c.raw() as u8)).collect()
            };
            map.insert(
                "extensions".into(),
                json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }),
            );
        }
        3 => {
            let pq = match c.below(8) {
                0 => json!({ "version": 2, "sha256Hash": sha256_hex(&text) }),
                1 => json!({ "version": "1", "sha256Hash": sha256_hex(&text) }),
                2 => json!({ "sha256Hash": sha256_hex(&text) }),
                3 => json!({ "version": 1, "sha256Hash": "abc" }),
                4 => json!({ "version": 1, "sha256Hash": "z".repeat(64) }),
                5 => json!({ "version": 1, "sha256Hash": 12345 }),
                6 => json!({ "version": 1 }),
                _ => json!("persisted"),
            };
            map.insert("extensions".into(), json!({ "persistedQuery": pq }));
        }
        4 => {
            map.insert("extensions".into(), json_of_choices(c, 3));
        }
        _ => {
            let mut ext = Map::new();
            ext.insert((*c.pick(KEYS)).to_owned(), json_of_choices(c, 2));
            map.insert("extensions".into(), Value::Object(ext));
        }
    }
    if c.chance(5) {
        let k = format!("x{}", c.below(100));
        map.insert(k, json_of_choices(c, 2));
    }
    Value::Object(map)
}

fn json_content_type(c: &mut Chooser<'_>) -> Option<Vec<u8>> {
    Some(match c.weighted(&[85, 4, 3, 2, 2, 2, 2]) {
        0 => b"application/json".to_vec(),
        1 => b"application/json; charset=utf-8".to_vec(),
        2 => b"APPLICATION/JSON".to_vec(),
        3 => b"application/graphql-response+json".to_vec(),
        4 => b"application/jsonp".to_vec(),
        5 => b"text/plain".to_vec(),
        _ => return None,
    })
}

fn request(
    kind: Kind,
    method: &str,
    target: String,
    mut headers: Vec<(String, Vec<u8>)>,
    content_type: Option<Vec<u8>>,
    body: Vec<u8>,
) -> HttpRequest {
    if let Some(ct) = content_type {
        headers.push(("content-type".into(), ct));
    }
    HttpRequest {
        kind,
        method: method.to_owned(),
        target,
        headers,
        body,
        raw: None,
    }
}

fn post_json(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (choices(400), choices(40), choices(60))
        .prop_map(move |(d, e, h)| {
            let (w, m) = (&ctx.world, &ctx.model);
            let doc = Gen::new(m, w, &d).document();
            let mut c = Chooser::new(&e);
            let body = envelope(&mut c, &doc);
            let ct = json_content_type(&mut c);
            let hs = headers(w, &mut Chooser::new(&h), &[]);
            request(
                Kind::PostJson,
                "POST",
                "/graphql".into(),
                hs,
                ct,
                body.to_string().into_bytes(),
            )
        })
        .boxed()
}

fn post_batch(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (
        vec((choices(200), choices(30)), 0..=12),
        choices(30),
        choices(60),
    )
        .prop_map(move |(ops, e, h)| {
            let (w, m) = (&ctx.world, &ctx.model);
            let mut c = Chooser::new(&e);
            let mut items: Vec<Value> = ops
                .iter()
                .map(|(d, e)| envelope(&mut Chooser::new(e), &Gen::new(m, w, d).document()))
                .collect();
            match c.weighted(&[60, 15, 10, 10, 5]) {
                0 => {}
                1 => {
                    // Register a document and use it by hash in the same batch.
                    let doc = Gen::new(m, w, ops.first().map_or(&[][..], |o| &o.0)).document();
                    let hash = sha256_hex(&doc.text);
                    let pq = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
                    items = vec![
                        json!({ "query": doc.text, "variables": doc.variables, "extensions": pq }),
                        json!({ "variables": doc.variables, "extensions": pq }),
                    ];
                }
                2 => {
                    let junk = json_of_choices(&mut c, 2);
                    let at = c.below(items.len() + 1);
                    items.insert(at, junk);
                }
                3 => items = vec![Value::Array(items)],
                _ => items.clear(),
            }
            let ct = json_content_type(&mut c);
            let hs = headers(w, &mut Chooser::new(&h), &[]);
            request(
                Kind::PostBatch,
                "POST",
                "/graphql".into(),
                hs,
                ct,
                Value::Array(items).to_string().into_bytes(),
            )
        })
        .boxed()
}

/// JSON texts serde and async-graphql must refuse (or accept) without falling over.
fn json_template(c: &mut Chooser<'_>) -> Vec<u8> {
    let q = r#"{ me { role } }"#;
    match c.below(18) {
        0 => format!(r#"{{"query":"{}"}}"#, "[".repeat(200)).into_bytes(),
        1 => format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        2 => format!(r#"{{"query":"{q}","variables":{}1{}}}"#, "{\"a\":".repeat(120), "}".repeat(120)).into_bytes(),
        3 => format!(r#"{{"query":"{q}","variables":{{"a":{}1{}}}}}"#, "[".repeat(300), "]".repeat(300)).into_bytes(),
        4 => br#"{"query":"{ person(id: \"\ud800\") { id } }"}"#.to_vec(),
        5 => br#"{"query":"\ud83d\ude00 { me { role } }"}"#.to_vec(),
        6 => br#"{"query":"query($n: Int) { persons(filter: {lastName: \"a\"}, first: $n) { edges { cursor } } }","variables":{"n":1e400}}"#.to_vec(),
        7 => br#"{"query":"query($n: Int) { persons(filter: {lastName: \"a\"}, first: $n) { edges { cursor } } }","variables":{"n":123456789012345678901234567890}}"#.to_vec(),
        8 => br#"{"query":"{ __typename }","query":"{ me { role } }"}"#.to_vec(),
        9 => [b"\xef\xbb\xbf".as_slice(), br#"{"query":"{ me { role } }"}"#].concat(),
        10 => br#"{"query":"{ me { role } }"} trailing"#.to_vec(),
        11 => br#"{"query":"{ me { role } }", /* comment */ "variables":{}}"#.to_vec(),
        12 => br#"{"query":"{ me { role } }","variables":{"x":NaN,"y":Infinity}}"#.to_vec(),
        13 => br#"{"query":"{ me { role } }","variables":{"x":-0,"y":1E+2,"z":0.0000000000000000000000001}}"#.to_vec(),
        14 => b"{\"query\":\"{ me { role } }\x00\"}".to_vec(),
        15 => br#"{"query":"{ me { role } }\u0000"}"#.to_vec(),
        16 => format!(r#"{{"query":"{}"}}"#, "{ me ".repeat(5_000)).into_bytes(),
        _ => (*c.pick(&["{}", "[]", "[{}]", "null", "\"str\"", "123", "[[]]", "[null]", "{\"query\":{}}", " ", "\n[\n"]))
            .as_bytes()
            .to_vec(),
    }
}

fn post_raw(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (
        vec(any::<u8>(), 0..1024),
        choices(300),
        choices(30),
        choices(60),
    )
        .prop_map(move |(bytes, d, e, h)| {
            let w = &ctx.world;
            let mut c = Chooser::new(&e);
            let body = match c.weighted(&[25, 35, 30, 5, 5]) {
                0 => bytes.clone(),
                1 => {
                    let doc = Gen::new(&ctx.model, w, &d).document();
                    let mut text = envelope(&mut c, &doc).to_string().into_bytes();
                    for pair in bytes.chunks(2).take(1 + c.below(6)) {
                        if text.is_empty() {
                            break;
                        }
                        let at = usize::from(pair[0]) * text.len() / 256;
                        match c.below(3) {
                            0 => text[at] = *pair.get(1).unwrap_or(&b'"'),
                            1 => {
                                text.remove(at);
                            }
                            _ => text.insert(at, *pair.get(1).unwrap_or(&b'{')),
                        }
                    }
                    text
                }
                2 => json_template(&mut c),
                3 => Vec::new(),
                _ => {
                    let unit = *c.pick(&[" ", "[", "{\"a\":", "💉", "\u{0}"]);
                    unit.repeat(*c.pick(&[100_000, 1_048_577]) / unit.len())
                        .into_bytes()
                }
            };
            let ct = match c.weighted(&[55, 45]) {
                0 => json_content_type(&mut c),
                _ => match c.below(9) {
                    0 => None,
                    1 => Some(b"application/graphql".to_vec()),
                    2 => Some(b"multipart/form-data; boundary=x".to_vec()),
                    3 => Some(b"application/x-www-form-urlencoded".to_vec()),
                    4 => Some(b"".to_vec()),
                    5 => Some(b"application/json\xff".to_vec()),
                    6 => Some(b"application/json-patch+json".to_vec()),
                    7 => Some(b"; application/json".to_vec()),
                    _ => Some(
                        bytes
                            .iter()
                            .take(30)
                            .copied()
                            .filter(|b| *b >= 0x20 && *b != 0x7f)
                            .collect(),
                    ),
                },
            };
            let hs = headers(w, &mut Chooser::new(&h), &[]);
            request(Kind::PostRaw, "POST", "/graphql".into(), hs, ct, body)
        })
        .boxed()
}

fn get(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (choices(300), choices(40), choices(60))
        .prop_map(move |(d, e, h)| {
            let (w, m) = (&ctx.world, &ctx.model);
            let mut c = Chooser::new(&e);
            let query = match c.weighted(&[60, 25, 8, 5, 2]) {
                0 => {
                    let doc = Gen::new(m, w, &d).document();
                    let env = envelope(&mut c, &doc);
                    let form = c.chance(50);
                    let mut pairs = Vec::new();
                    if let Value::Object(map) = env {
                        for (k, v) in map {
                            let v = match v {
                                Value::String(s) => s,
                                other => other.to_string(),
                            };
                            pairs.push(format!(
                                "{}={}",
                                percent(k.as_bytes(), form),
                                percent(v.as_bytes(), form)
                            ));
                        }
                    }
                    if c.chance(5) && !pairs.is_empty() {
                        let dup = pairs[0].clone();
                        pairs.push(dup);
                    }
                    Some(pairs.join("&"))
                }
                1 => {
                    let parts = [
                        "query=",
                        "variables=",
                        "operationName=",
                        "extensions=",
                        "&",
                        "=",
                        "%",
                        "%Z",
                        "%FF",
                        "%00",
                        "%E2%82",
                        "+",
                        "query",
                        "%7B",
                        "%7D",
                        "me",
                        "%20",
                        "%C0%AF",
                        "%ED%A0%80",
                        "%F0%9F%92%89",
                        ";",
                        "[]",
                        "query[]=",
                    ];
                    let n = 1 + c.below(12);
                    Some((0..n).map(|_| *c.pick(&parts)).collect::<String>())
                }
                2 => None,
                3 => Some(format!("query={}", "%20".repeat(*c.pick(&[1_000, 21_000])))),
                _ => Some("variables=%7B%7D".into()),
            };
            let mut hs = headers(w, &mut Chooser::new(&h), &[]);
            if query.is_none() && c.chance(60) {
                hs.retain(|(n, _)| n != "accept");
                hs.push(("accept".into(), b"text/html".to_vec()));
            }
            let path = match c.weighted(&[94, 2, 2, 2]) {
                0 => "/graphql",
                1 => "/graphql/",
                2 => "/graphql;x",
                _ => "/%67raphql",
            };
            let target = match query {
                Some(q) => format!("{path}?{q}"),
                None => path.to_owned(),
            };
            request(Kind::Get, "GET", target, hs, None, Vec::new())
        })
        .boxed()
}

fn mutation(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (choices(300), choices(30), choices(60))
        .prop_map(move |(d, e, h)| {
            let (w, m) = (&ctx.world, &ctx.model);
            let mut c = Chooser::new(&e);
            let field = if c.chance(55) {
                None
            } else {
                Some("recordDose")
            };
            let doc = Gen::new(m, w, &d).mutation_call(field);
            let body = json!({ "query": doc.text, "variables": doc.variables });
            let hs = headers(w, &mut Chooser::new(&h), WRITERS);
            request(
                Kind::Mutation,
                "POST",
                "/graphql".into(),
                hs,
                Some(b"application/json".to_vec()),
                body.to_string().into_bytes(),
            )
        })
        .boxed()
}

fn roster_csv(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (choices(40), choices(60))
        .prop_map(move |(e, h)| {
            let w = &ctx.world;
            let mut c = Chooser::new(&e);
            let id = match c.weighted(&[60, 10, 10, 20]) {
                0 => c.pick(&w.school_ids).clone(),
                1 => c.pick(&w.org_ids).clone(),
                2 => uuid::Uuid::new_v4().to_string(),
                _ => (*c.pick(&["", "x", "..", "%FF", "%2F..%2F", "%00", "💉", "null", "5"]))
                    .to_owned(),
            };
            let suffix = *c.pick(&[
                ".csv", ".csv", ".csv", ".csv", ".csv", "", ".CSV", ".csv.csv", ".json", "/x.csv",
            ]);
            let id = if id.starts_with('%') {
                id
            } else {
                percent(id.as_bytes(), false)
            };
            let mut params = Vec::new();
            if c.chance(40) {
                let mut g = Gen::new(&ctx.model, w, &e);
                let y = g.string("schoolYear");
                params.push(format!("schoolYear={}", percent(y.as_bytes(), true)));
            }
            if c.chance(40) {
                let mut g = Gen::new(&ctx.model, w, &e[e.len().min(3)..]);
                let y = g.string("grade");
                params.push(format!("grade={}", percent(y.as_bytes(), true)));
            }
            if c.chance(15) {
                params.push(
                    (*c.pick(&[
                        "schoolYear=1&schoolYear=2",
                        "grade=%FF",
                        "x=%ZZ",
                        "=",
                        "&&",
                        "status=COMPLIANT",
                        "first=1",
                    ]))
                    .to_owned(),
                );
            }
            let target = if params.is_empty() {
                format!("/reports/roster/{id}{suffix}")
            } else {
                format!("/reports/roster/{id}{suffix}?{}", params.join("&"))
            };
            let hs = headers(w, &mut Chooser::new(&h), ROSTER_READERS);
            request(Kind::RosterCsv, "GET", target, hs, None, Vec::new())
        })
        .boxed()
}

fn oauth(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (choices(40), vec(any::<u8>(), 0..200))
        .prop_map(move |(e, bytes)| {
            let w = &ctx.world;
            let mut c = Chooser::new(&e);
            let (id, secret) = (&w.client.0, &w.client.1);
            let mut form: Vec<(String, String)> = Vec::new();
            match c.weighted(&[80, 5, 5, 5, 5]) {
                0 => form.push(("grant_type".into(), "client_credentials".into())),
                1 => form.push(("grant_type".into(), "password".into())),
                2 => {}
                3 => form.push(("grant_type".into(), String::new())),
                _ => {
                    form.push(("grant_type".into(), "client_credentials".into()));
                    form.push(("grant_type".into(), "client_credentials".into()));
                }
            }
            let mut basic = None;
            let wrong = "izs_wrong".to_owned();
            match c.weighted(&[30, 15, 10, 10, 20, 10, 5]) {
                0 => {
                    form.push(("client_id".into(), id.clone()));
                    form.push(("client_secret".into(), secret.clone()));
                }
                1 => {
                    form.push(("client_id".into(), id.clone()));
                    form.push(("client_secret".into(), wrong));
                }
                2 => {
                    form.push(("client_id".into(), uuid::Uuid::new_v4().to_string()));
                    form.push(("client_secret".into(), secret.clone()));
                }
                3 => {
                    form.push((
                        "client_id".into(),
                        (*c.pick(&["", "x", "💉", "%", "a:b"])).to_owned(),
                    ));
                    form.push(("client_secret".into(), "s".into()));
                }
                4 => {
                    let pair = if c.chance(50) {
                        format!("{id}:{secret}")
                    } else {
                        format!("{id}:{wrong}")
                    };
                    basic = Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ));
                }
                5 => {
                    basic = Some(
                        (*c.pick(&[
                            "Basic",
                            "Basic !!!",
                            "Basic Zm9v",
                            "Basic /w==",
                            "Bearer x",
                            "Basic JUZGOiVGRg==",
                        ]))
                        .to_owned(),
                    );
                }
                _ => {}
            }
            if c.chance(30) {
                let scope = *c.pick(&[
                    "person:read",
                    "person:read dose:write",
                    "admin",
                    "bogus",
                    "",
                    "  ",
                    "person:read person:read",
                ]);
                form.push(("scope".into(), scope.into()));
            }
            let body = if c.chance(10) {
                bytes.clone()
            } else {
                form.iter()
                    .map(|(k, v)| {
                        format!(
                            "{}={}",
                            percent(k.as_bytes(), true),
                            percent(v.as_bytes(), true)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("&")
                    .into_bytes()
            };
            let ct = match c.weighted(&[80, 5, 5, 5, 5]) {
                0 => Some(b"application/x-www-form-urlencoded".to_vec()),
                1 => Some(b"application/x-www-form-urlencoded; charset=utf-8".to_vec()),
                2 => Some(b"application/json".to_vec()),
                3 => None,
                _ => Some(b"APPLICATION/X-WWW-FORM-URLENCODED".to_vec()),
            };
            let mut hs = Vec::new();
            if let Some(b) = basic {
                hs.push(("authorization".to_owned(), b.into_bytes()));
            }
            request(Kind::OAuth, "POST", "/oauth/token".into(), hs, ct, body)
        })
        .boxed()
}

fn raw_http(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (choices(60), choices(200), vec(any::<u8>(), 0..300))
        .prop_map(move |(e, d, bytes)| {
            let w = &ctx.world;
            let mut c = Chooser::new(&e);
            let eol: &[u8] = if c.chance(10) { b"\n" } else { b"\r\n" };
            let method = *c.pick(&[
                "POST", "POST", "GET", "PUT", "OPTIONS", "HEAD", "FOO", "", "P OST",
            ]);
            let long_query = format!(
                "/graphql?query={}",
                "+".repeat(*c.pick(&[70_000, 300_000, 1_100_000]))
            );
            let target = *c.pick(&[
                "/graphql",
                "/graphql?query=%7Bme%7Brole%7D%7D",
                "*",
                "http://127.0.0.1/graphql",
                "/oauth/token",
                "/reports/roster/x.csv",
                "graphql",
                "/graphql#frag",
                "/../../graphql",
                long_query.as_str(),
            ]);
            let version = *c.pick(&[
                "HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "HTTP/9",
                "", "http/1.1",
            ]);
            let body: Vec<u8> = if c.chance(60) {
                let doc = Gen::new(&ctx.model, w, &d).document();
                json!({ "query": doc.text, "variables": doc.variables })
                    .to_string()
                    .into_bytes()
            } else {
                bytes.clone()
            };
            let mut head = format!("{method} {target} {version}").into_bytes();
            let line = |h: &mut Vec<u8>, l: &[u8]| {
                h.extend_from_slice(eol);
                h.extend_from_slice(l);
            };
            if !c.chance(10) {
                line(&mut head, b"Host: 127.0.0.1");
            }
            if c.chance(60) {
                let t = format!("Authorization: Bearer {}", w.token(0).token);
                line(&mut head, t.as_bytes());
            }
            if c.chance(70) {
                line(&mut head, b"Content-Type: application/json");
            }
            for _ in 0..c.weighted(&[70, 20, 10]) {
                let extra: Vec<u8> = match c.below(7) {
                    0 => b"X-Folded: a\r\n  continued".to_vec(),
                    1 => b"NoColonHere".to_vec(),
                    2 => b"X-Nul: a\x00b".to_vec(),
                    3 => [
                        b"X-Long: ".as_slice(),
                        &b"a".repeat(*c.pick(&[10_000, 100_000, 500_000])),
                    ]
                    .concat(),
                    4 => (0..150)
                        .flat_map(|i| format!("X-H{i}: v\r\n").into_bytes())
                        .collect::<Vec<u8>>()
                        .strip_suffix(b"\r\n")
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default(),
                    5 => b" : empty name".to_vec(),
                    _ => [b"X-Bin: ".as_slice(), &bytes[..bytes.len().min(40)]].concat(),
                };
                line(&mut head, &extra);
            }
            let len = body.len();
            let mut payload = body.clone();
            match c.below(10) {
                0 | 1 => line(&mut head, format!("Content-Length: {len}").as_bytes()),
                2 => {
                    let delta = 1 + c.below(1000);
                    let v = if c.chance(50) {
                        len + delta
                    } else {
                        len.saturating_sub(delta)
                    };
                    line(&mut head, format!("Content-Length: {v}").as_bytes());
                }
                3 => {
                    let v = *c.pick(&[
                        "abc",
                        "-1",
                        "99999999999999999999",
                        "1, 2",
                        " 5",
                        "+5",
                        "0x10",
                        "",
                    ]);
                    line(&mut head, format!("Content-Length: {v}").as_bytes());
                }
                4 => {
                    line(&mut head, format!("Content-Length: {len}").as_bytes());
                    line(&mut head, format!("Content-Length: {}", len + 1).as_bytes());
                }
                5 | 6 => {
                    line(&mut head, b"Transfer-Encoding: chunked");
                    let corrupt = c.below(3) == 0;
                    let mut chunked = Vec::new();
                    for part in body.chunks(1 + c.below(64)) {
                        let size = if corrupt && c.chance(30) {
                            (*c.pick(&["zz", "ffffffffffffffff", "-1", "1;ext=\"x", ""])).to_owned()
                        } else {
                            format!("{:x}", part.len())
                        };
                        chunked.extend_from_slice(size.as_bytes());
                        chunked.extend_from_slice(b"\r\n");
                        chunked.extend_from_slice(part);
                        chunked.extend_from_slice(b"\r\n");
                    }
                    if !(corrupt && c.chance(50)) {
                        chunked.extend_from_slice(b"0\r\n\r\n");
                    }
                    payload = chunked;
                }
                7 => {
                    line(&mut head, b"Transfer-Encoding: chunked");
                    line(&mut head, format!("Content-Length: {len}").as_bytes());
                }
                8 => {
                    let te = *c.pick(&[
                        "gzip, chunked",
                        "chunked, identity",
                        "xchunked",
                        "chunked\x0b",
                    ]);
                    line(&mut head, format!("Transfer-Encoding: {te}").as_bytes());
                }
                _ => {}
            }
            head.extend_from_slice(eol);
            head.extend_from_slice(eol);
            head.extend_from_slice(&payload);
            if c.chance(15) {
                head.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            }
            HttpRequest {
                kind: Kind::RawHttp,
                method: String::new(),
                target: String::new(),
                headers: Vec::new(),
                body: Vec::new(),
                raw: Some(head),
            }
        })
        .boxed()
}

fn other_route(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    (choices(20), choices(60), vec(any::<u8>(), 0..64))
        .prop_map(move |(e, h, bytes)| {
            let w = &ctx.world;
            let mut c = Chooser::new(&e);
            let method = *c.pick(&[
                "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FUZZ", "GET", "POST",
            ]);
            let path = match c.below(14) {
                0 => "/graphql".to_owned(),
                1 => "/".to_owned(),
                2 => "/healthz".to_owned(),
                3 => "/readyz".to_owned(),
                4 => "/metrics".to_owned(),
                5 => "/.well-known/jwks.json".to_owned(),
                6 => "/oauth/token".to_owned(),
                7 => "/reports/roster/".to_owned(),
                8 => "/reports/roster/a/b.csv".to_owned(),
                9 => "/GRAPHQL".to_owned(),
                10 => "/graphql/..%2F..%2Fhealthz".to_owned(),
                11 => format!("/{}", percent(&bytes, false)),
                12 => "/%".to_owned(),
                _ => format!("/healthz?{}", percent(&bytes, true)),
            };
            let hs = headers(w, &mut Chooser::new(&h), &[]);
            let body = if c.chance(30) {
                bytes.clone()
            } else {
                Vec::new()
            };
            request(Kind::OtherRoute, method, path, hs, None, body)
        })
        .boxed()
}

/// One request of any kind.
pub fn any_request(ctx: Arc<Ctx>) -> BoxedStrategy<HttpRequest> {
    prop_oneof![
        24 => post_json(ctx.clone()),
        6 => post_batch(ctx.clone()),
        8 => post_raw(ctx.clone()),
        9 => get(ctx.clone()),
        9 => mutation(ctx.clone()),
        4 => roster_csv(ctx.clone()),
        1 => oauth(ctx.clone()),
        3 => raw_http(ctx.clone()),
        2 => other_route(ctx),
    ]
    .boxed()
}

/// One fuzz case: up to eight requests sent at once.
pub fn case(ctx: Arc<Ctx>) -> BoxedStrategy<Vec<HttpRequest>> {
    vec(any_request(ctx), 1..=8).boxed()
}
