//! Signed checkpoints of the access log's chain head, published outside the database.
//!
//! The hash chain proves that the entries still in the table were not edited, but whoever can
//! rewrite the table can also delete the newest entries (and move the head back) or rebuild
//! the whole chain without one entry: both verify as intact on their own. So the gateway signs
//! the head (sequence number and hash) with a key of the registry, at an interval and on
//! shutdown, and publishes it where the table's administrator cannot rewrite it along with
//! the table — an append-only file (on the embedded default, in the data directory) and the
//! log stream. `izgraph audit verify` checks that the chain still contains every head so
//! signed.
//!
//! A checkpoint is one JSON line: `{"seq":…,"hash":"…","at":"…","kid":"…","jws":"…"}`. The
//! `jws` is a compact ES256 JWS (the dev issuer's key format, with a key of its own) whose
//! payload carries the same `seq` and `hash` under issuer and audience values no bearer
//! token has; only what the signature covers is believed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use entities::repo::access_log::Checkpoint;
use entities::{Store, StoreError};
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::keys::{DevKeys, KeyError};

/// `iss` of a checkpoint's signed payload.
const ISSUER: &str = "urn:izgraph:access-log";
/// `aud` of a checkpoint's signed payload: never the audience of a bearer token.
const AUDIENCE: &str = "urn:izgraph:access-log-checkpoint";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot read or write the checkpoint file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint file {path}, line {line}: {why}")]
    Invalid {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

/// The signed payload.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    iat: i64,
    seq: i64,
    hash: String,
}

/// One line of the checkpoint file.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    seq: i64,
    hash: String,
    at: String,
    kid: String,
    jws: String,
}

/// Signs checkpoints and appends them to the file; shared by the interval task and shutdown.
#[derive(Clone)]
pub struct Publisher {
    store: Store,
    keys: DevKeys,
    file: PathBuf,
    /// The last sequence number published by this process: an idle log is not re-signed.
    last: Arc<Mutex<i64>>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// Loads (or creates) the signing key at `key` and publishes to `file`.
    pub fn new(store: Store, key: &Path, file: PathBuf) -> Result<Publisher, CheckpointError> {
        Ok(Publisher {
            store,
            keys: DevKeys::load_or_create_file(key)?,
            file,
            last: Arc::new(Mutex::new(0)),
        })
    }

    /// Signs the current head and publishes it, unless this process already published it or
    /// the log is empty. Returns the checkpoint published.
    pub async fn publish(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let mut last = self.last.lock().await;
        let head = self.store.access_log_head().await?;
        if head.seq <= *last || head.seq == 0 {
            return Ok(None);
        }
        let now = chrono::Utc::now();
        let jws = self.keys.sign(&Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            seq: head.seq,
            hash: head.hash.clone(),
        })?;
        let line = Line {
            seq: head.seq,
            hash: head.hash.clone(),
            at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            kid: self.keys.kid().to_owned(),
            jws,
        };
        let text = serde_json::to_string(&line).unwrap_or_default();
        append_line(&self.file, &text).map_err(|source| CheckpointError::Io {
            path: self.file.clone(),
            source,
        })?;
        // The log stream is the second place: shipped off the machine by whatever collects
        // the gateway's logs.
        tracing::info!(
            target: "izgraph::audit",
            checkpoint_seq = line.seq,
            checkpoint_hash = %line.hash,
            checkpoint_kid = %line.kid,
            checkpoint_jws = %line.jws,
            "access log checkpoint"
        );
        *last = head.seq;
        Ok(Some(Checkpoint {
            seq: head.seq,
            hash: head.hash,
        }))
    }

    /// Publishes every `interval` until the task is dropped; a failure is logged and the next
    /// tick tries again.
    pub async fn run_every(self, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(e) = self.publish().await {
                tracing::error!(error = %e, "access log checkpoint not published");
            }
        }
    }
}

/// Appends one line and syncs it to disk before returning.
fn append_line(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(format!("{text}\n").as_bytes())?;
    f.sync_data()
}

/// Reads a checkpoint file and checks every line's signature with the key at `key`; a line
/// that does not verify is an error (a forged or altered checkpoint is itself tampering).
pub fn read(path: &Path, key: &Path) -> Result<Vec<Checkpoint>, CheckpointError> {
    let text = std::fs::read_to_string(path).map_err(|source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    })?;
    if !key.exists() {
        return Err(CheckpointError::Io {
            path: key.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the checkpoint signing key is missing",
            ),
        });
    }
    let keys = DevKeys::load_or_create_file(key)?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.validate_exp = false;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let invalid = |why: String| CheckpointError::Invalid {
            path: path.to_owned(),
            line: i + 1,
            why,
        };
        let line: Line =
            serde_json::from_str(raw).map_err(|e| invalid(format!("not a checkpoint: {e}")))?;
        let claims = jsonwebtoken::decode::<Claims>(&line.jws, keys.decoding_key(), &validation)
            .map_err(|e| invalid(format!("signature does not verify: {e}")))?
            .claims;
        if claims.seq != line.seq || claims.hash != line.hash {
            return Err(invalid("seq or hash differ from what is signed".into()));
        }
        out.push(Checkpoint {
            seq: claims.seq,
            hash: claims.hash,
        });
    }
    Ok(out)
}
