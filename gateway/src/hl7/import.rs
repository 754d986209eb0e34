//! `izgraph import hl7 FILE --client ID`: a batch file (FHS/BHS … BTS/FTS, or bare messages one
//! after another) processed message by message as the registered client `ID` would submit them
//! (same policy, same MSH-4 check), with the acknowledgements written to `FILE.ack` as a batch
//! in the order of the messages, and a progress bar on stderr.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use hl7::AckCode;
use uuid::Uuid;

use super::{process, response_header, Hl7Failure};
use crate::app::AppState;
use crate::auth::principal_of_client;

/// Messages processed at once.
const IN_FLIGHT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no registered client {0}")]
    UnknownClient(Uuid),
    #[error("client {0} cannot act as a sender: {1}")]
    BadClient(Uuid, String),
    #[error("the registry is unavailable: {0}")]
    Unavailable(String),
    #[error("message {0} could not be processed; nothing after it was")]
    Failed(usize),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub messages: usize,
    pub accepted: usize,
    pub with_errors: usize,
    pub rejected: usize,
    pub ack_file: PathBuf,
}

/// Splits a batch into its messages: each begins at an `MSH` segment; the batch envelope
/// segments (FHS, BHS, BTS, FTS) are dropped.
pub fn split_batch(text: &str) -> Vec<String> {
    let mut messages = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.split(['\r', '\n']).filter(|l| !l.trim().is_empty()) {
        let name = line.get(..3).unwrap_or("");
        match name {
            "FHS" | "BHS" | "BTS" | "FTS" => {
                if !current.is_empty() {
                    messages.push(current.join("\r"));
                    current.clear();
                }
            }
            "MSH" => {
                if !current.is_empty() {
                    messages.push(current.join("\r"));
                    current.clear();
                }
                current.push(line);
            }
            _ => current.push(line),
        }
    }
    if !current.is_empty() {
        messages.push(current.join("\r"));
    }
    messages
}

/// Imports `file` as client `client`, writing `<file>.ack`.
pub async fn import_file(
    state: &AppState,
    file: &Path,
    client: Uuid,
    progress: impl Fn(usize, usize),
) -> Result<ImportSummary, ImportError> {
    let text = std::fs::read(file).map_err(|source| ImportError::Read {
        path: file.to_owned(),
        source,
    })?;
    let text = String::from_utf8_lossy(&text);
    let client_row = state
        .store
        .oauth_client(client)
        .await
        .map_err(|e| ImportError::Unavailable(e.to_string()))?
        .ok_or(ImportError::UnknownClient(client))?;
    let principal = principal_of_client(&client_row)
        .map_err(|e| ImportError::BadClient(client, e.to_string()))?;
    let messages = split_batch(&text);
    let total = messages.len();
    let batch_id = Uuid::now_v7().simple().to_string();
    let mut answers = Vec::with_capacity(total);
    let mut summary = ImportSummary {
        messages: total,
        ..ImportSummary::default()
    };
    let mut stream = futures_util::stream::iter(messages.into_iter().enumerate())
        .map(|(i, m)| {
            let principal = principal.clone();
            let rid = format!("import-{batch_id}-{i}");
            async move { (i, process(state, principal, &m, rid).await) }
        })
        .buffered(IN_FLIGHT);
    while let Some((i, answer)) = stream.next().await {
        match answer {
            Ok(a) => {
                match a.ack {
                    AckCode::Accept => summary.accepted += 1,
                    AckCode::Error => summary.with_errors += 1,
                    AckCode::Reject => summary.rejected += 1,
                }
                answers.push(a.text);
            }
            Err(Hl7Failure::Unavailable) | Err(Hl7Failure::Internal) => {
                return Err(ImportError::Failed(i + 1))
            }
        }
        progress(i + 1, total);
    }
    let header = response_header(state);
    let mut out = String::new();
    out.push_str(&format!(
        "FHS|^~\\&|{app}|{fac}|||{time}||||{batch_id}\r",
        app = header.application.join("^"),
        fac = header.facility.join("^"),
        time = header.time
    ));
    out.push_str(&format!(
        "BHS|^~\\&|{app}|{fac}|||{time}||||{batch_id}\r",
        app = header.application.join("^"),
        fac = header.facility.join("^"),
        time = header.time
    ));
    for a in &answers {
        out.push_str(a);
        if !a.ends_with('\r') {
            out.push('\r');
        }
    }
    out.push_str(&format!("BTS|{}\rFTS|1\r", answers.len()));
    let mut ack_path = file.as_os_str().to_owned();
    ack_path.push(".ack");
    let ack_file = PathBuf::from(ack_path);
    std::fs::write(&ack_file, out).map_err(|source| ImportError::Write {
        path: ack_file.clone(),
        source,
    })?;
    summary.ack_file = ack_file;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_split_into_messages_without_their_envelope() {
        let text =
            "FHS|^~\\&|A\rBHS|^~\\&|A\rMSH|^~\\&|1\rPID|1\rMSH|^~\\&|2\nPID|2\r\nBTS|2\rFTS|1\r";
        assert_eq!(
            split_batch(text),
            vec!["MSH|^~\\&|1\rPID|1", "MSH|^~\\&|2\rPID|2"]
        );
        assert_eq!(split_batch("MSH|a\rPID|b"), vec!["MSH|a\rPID|b"]);
        assert!(split_batch("").is_empty());
    }
}
