//! Persisted documents: automatic persisted queries (APQ, Apollo's protocol) and the trusted
//! documents allow-list.
//!
//! A client sends `extensions.persistedQuery.sha256Hash` instead of a long document; the
//! first time, it sends both and the gateway keeps the document. What is kept is the document
//! text only (data), never whether a caller may run it: every request is authenticated,
//! validated, limited and authorized as if the text had been sent.
//!
//! In trusted-documents mode the list loaded at start-up is all there is: a document whose hash
//! is not on it is refused, whether sent by hash or in full, and nothing new is kept.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_graphql::Value;
use schema::ErrorCode;
use sha2::{Digest, Sha256};

use crate::metrics::{CacheResult, Metrics};

/// Where APQ documents are kept, by the hex SHA-256 of their text.
///
/// The in-process [`BoundedDocuments`] is the only implementation until the shared cache
/// (Redis and in-process tiers) lands in `entities`; it will implement this trait so that
/// every gateway replica sees a document registered with any of them.
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync {
    async fn get(&self, hash: &str) -> Option<Arc<str>>;
    async fn put(&self, hash: String, document: Arc<str>);
}

/// The most document text [`BoundedDocuments`] keeps, whatever its capacity: a document may
/// be as long as a request body (1 MiB by default), so a count alone would let any caller make
/// the gateway hold `capacity` × that (about 1 GiB with the defaults).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// At most `capacity` documents, and [`MAX_DOCUMENT_BYTES`] of text, in this process; the
/// oldest registered is dropped first.
pub struct BoundedDocuments {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Documents>,
}

#[derive(Default)]
struct Documents {
    by_hash: HashMap<String, Arc<str>>,
    /// Registration order, oldest first.
    order: VecDeque<String>,
    /// Length of the text kept.
    bytes: usize,
}

impl BoundedDocuments {
    pub fn new(capacity: usize) -> Self {
        Self::with_max_bytes(capacity, MAX_DOCUMENT_BYTES)
    }

    pub fn with_max_bytes(capacity: usize, max_bytes: usize) -> Self {
        BoundedDocuments {
            capacity: capacity.max(1),
            max_bytes,
            inner: Mutex::new(Documents::default()),
        }
    }
}

#[async_trait::async_trait]
impl DocumentStore for BoundedDocuments {
    async fn get(&self, hash: &str) -> Option<Arc<str>> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.by_hash.get(hash).cloned()
    }

    async fn put(&self, hash: String, document: Arc<str>) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let docs = &mut *guard;
        docs.bytes += document.len();
        match docs.by_hash.insert(hash.clone(), document) {
            None => docs.order.push_back(hash),
            Some(previous) => docs.bytes -= previous.len(),
        }
        while docs.by_hash.len() > self.capacity || docs.bytes > self.max_bytes {
            match docs.order.pop_front() {
                Some(oldest) => {
                    if let Some(dropped) = docs.by_hash.remove(&oldest) {
                        docs.bytes -= dropped.len();
                    }
                }
                None => break,
            }
        }
    }
}

/// The trusted documents: hash → text, from an Apollo persisted-query manifest.
#[derive(Debug, Default)]
pub struct TrustedDocuments(HashMap<String, Arc<str>>);

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the trusted documents {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the trusted documents {path} are not a persisted-query manifest: {why}")]
    Format {
        path: std::path::PathBuf,
        why: String,
    },
}

#[derive(serde::Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

#[derive(serde::Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

impl TrustedDocuments {
    /// Reads `{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
    /// [{"id": <sha256 of body>, "body": …}]}`; an id that is not its body's hash is refused,
    /// so the list cannot say one thing and run another.
    pub fn load(path: &Path) -> Result<TrustedDocuments, ManifestError> {
        let format = |why: String| ManifestError::Format {
            path: path.to_owned(),
            why,
        };
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
        if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
            return Err(format(
                "expected format apollo-persisted-query-manifest, version 1".into(),
            ));
        }
        let mut documents = HashMap::new();
        for op in manifest.operations {
            if sha256_hex(&op.body) != op.id.to_ascii_lowercase() {
                return Err(format(format!(
                    "operation {} is not its body's SHA-256",
                    op.id
                )));
            }
            documents.insert(op.id.to_ascii_lowercase(), Arc::from(op.body));
        }
        Ok(TrustedDocuments(documents))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The names of the operations the documents define (for metrics labels).
    pub fn operation_names(&self) -> Vec<String> {
        use async_graphql::parser::types::DocumentOperations;
        let mut names: Vec<String> = self
            .0
            .values()
            .filter_map(|body| async_graphql::parser::parse_query(&**body).ok())
            .flat_map(|doc| match doc.operations {
                DocumentOperations::Single(_) => Vec::new(),
                DocumentOperations::Multiple(ops) => {
                    ops.into_keys().map(|n| n.to_string()).collect()
                }
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How documents may be referred to by hash.
pub enum Persisted {
    /// APQ: documents are registered by the clients that send them.
    Automatic(Arc<dyn DocumentStore>),
    /// Only the listed documents run.
    Trusted(Arc<TrustedDocuments>),
    /// No persisted documents: a hash alone is not understood.
    Off,
}

/// A refusal to run the request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

fn refusal(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The `extensions.persistedQuery.sha256Hash` of a request, if any.
fn requested_hash(request: &async_graphql::Request) -> Result<Option<String>, Refusal> {
    let Some(pq) = request.extensions.0.get("persistedQuery") else {
        return Ok(None);
    };
    let bad = || {
        refusal(
            ErrorCode::BadUserInput,
            "extensions.persistedQuery must be {version: 1, sha256Hash: <hex>}",
        )
    };
    let Value::Object(pq) = pq else {
        return Err(bad());
    };
    match pq.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => return Err(bad()),
    }
    match pq.get("sha256Hash") {
        Some(Value::String(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        _ => Err(bad()),
    }
}

/// Whose APQ documents a principal shares: its organization's, or (for principals acting for
/// no organization: guardians, individuals, auditors, registry staff) its own. Probing a hash
/// therefore reveals only what the caller's own organization ran.
pub fn apq_scope(principal: &policies::Principal) -> String {
    match principal.org {
        Some(org) => format!("org:{org}"),
        None => format!("{}:{}", principal.role.as_str(), principal.subject),
    }
}

impl Persisted {
    /// Fills in `request.query` from a hash, registers a new APQ document, or refuses. APQ
    /// documents are kept per `scope` (see [`apq_scope`]).
    pub async fn resolve(
        &self,
        request: &mut async_graphql::Request,
        scope: &str,
        metrics: &Metrics,
    ) -> Result<(), Refusal> {
        let hash = requested_hash(request)?;
        let has_text = !request.query.trim().is_empty();
        match self {
            Persisted::Off => {
                if hash.is_some() && !has_text {
                    return Err(refusal(
                        ErrorCode::PersistedQueryNotFound,
                        "PersistedQueryNotSupported",
                    ));
                }
                Ok(())
            }
            Persisted::Trusted(list) => {
                let hash = match hash {
                    Some(h) => h,
                    None if has_text => sha256_hex(&request.query),
                    None => return Ok(()),
                };
                match list.0.get(&hash) {
                    Some(text) if !has_text || sha256_hex(&request.query) == hash => {
                        request.query = text.to_string();
                        Ok(())
                    }
                    _ => Err(refusal(
                        ErrorCode::PersistedQueryNotInList,
                        "this gateway runs trusted documents only, and this one is not on its list",
                    )),
                }
            }
            Persisted::Automatic(store) => {
                let Some(hash) = hash else {
                    return Ok(());
                };
                if has_text {
                    if sha256_hex(&request.query) != hash {
                        return Err(refusal(
                            ErrorCode::BadUserInput,
                            "provided sha does not match query",
                        ));
                    }
                    let span = tracing::info_span!("cache.put", cache = "apq");
                    let put = store.put(scoped(scope, &hash), Arc::from(request.query.as_str()));
                    tracing::Instrument::instrument(put, span).await;
                    return Ok(());
                }
                let found = {
                    let span = tracing::info_span!(
                        "cache.get",
                        cache = "apq",
                        hit = tracing::field::Empty
                    );
                    let found = tracing::Instrument::instrument(
                        store.get(&scoped(scope, &hash)),
                        span.clone(),
                    )
                    .await;
                    span.record("hit", found.is_some());
                    found
                };
                metrics.cache(
                    "apq",
                    if found.is_some() {
                        CacheResult::Hit
                    } else {
                        CacheResult::Miss
                    },
                );
                match found {
                    Some(text) => {
                        request.query = text.to_string();
                        Ok(())
                    }
                    None => Err(refusal(
                        ErrorCode::PersistedQueryNotFound,
                        "PersistedQueryNotFound",
                    )),
                }
            }
        }
    }
}

/// The store key of an APQ document: its hash within its scope.
fn scoped(scope: &str, hash: &str) -> String {
    format!("{scope}\u{1f}{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_bounded_store_drops_the_oldest_document() {
        let store = BoundedDocuments::new(2);
        store.put("a".into(), Arc::from("{ a }")).await;
        store.put("b".into(), Arc::from("{ b }")).await;
        store.put("c".into(), Arc::from("{ c }")).await;
        assert!(store.get("a").await.is_none());
        assert_eq!(store.get("c").await.as_deref(), Some("{ c }"));
        assert_eq!(store.get("b").await.as_deref(), Some("{ b }"));
    }

    #[tokio::test]
    async fn the_bounded_store_keeps_at_most_its_bytes() {
        let store = BoundedDocuments::with_max_bytes(100, 10);
        store.put("a".into(), Arc::from("aaaa")).await;
        store.put("b".into(), Arc::from("bbbb")).await;
        store.put("a".into(), Arc::from("aaaa")).await;
        assert!(store.get("a").await.is_some() && store.get("b").await.is_some());
        store.put("c".into(), Arc::from("cccc")).await;
        assert!(store.get("a").await.is_none(), "the oldest goes first");
        assert_eq!(store.get("c").await.as_deref(), Some("cccc"));
        store
            .put("d".into(), Arc::from("d".repeat(11).as_str()))
            .await;
        assert!(
            store.get("d").await.is_none(),
            "a document over the bound is not kept"
        );
        assert_eq!(store.inner.lock().expect("lock").bytes, 0);
    }

    #[test]
    fn a_manifest_whose_id_is_not_its_body_hash_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("m.json");
        let body = "{ me { role } }";
        let good = serde_json::json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": sha256_hex(body), "body": body, "name": "Me", "type": "query" }]
        });
        std::fs::write(&path, good.to_string()).expect("write");
        assert_eq!(TrustedDocuments::load(&path).expect("loads").len(), 1);
        let bad = serde_json::json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": sha256_hex("{ x }"), "body": body }]
        });
        std::fs::write(&path, bad.to_string()).expect("write");
        assert!(TrustedDocuments::load(&path).is_err());
    }
}
