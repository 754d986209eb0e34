//! MLLP over TCP for interface engines (`IZGRAPH_MLLP_LISTEN`, off unless set): each frame
//! (`0x0B` message `0x1C 0x0D`) is processed as a message of the registered client named by
//! `IZGRAPH_MLLP_CLIENT` — an MLLP link carries no credentials, so it is configured for one
//! sending system — and answered with its ACK or RSP in a frame. The client is read from the
//! database for every message, so removing it stops the link at once. A frame over
//! [`super::soap::MAX_MESSAGE_BYTES`] closes the connection; an unreadable message gets an AR.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use super::soap::MAX_MESSAGE_BYTES;
use super::{process, Hl7Failure};
use crate::app::AppState;
use crate::auth::principal_of_client;

const START: u8 = 0x0b;
const END: u8 = 0x1c;
const CR: u8 = 0x0d;
/// A connection idle this long is closed.
const IDLE: Duration = Duration::from_secs(300);

/// Serves MLLP on `listener` for client `client` until the task is dropped.
pub async fn serve(listener: TcpListener, state: AppState, client: Uuid) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, &state, client).await {
                tracing::info!(peer = %peer, error = %e, "MLLP connection closed");
            }
        });
    }
}

/// Reads one frame's payload; `None` at a clean end of stream.
async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    // Skip anything before the start byte (line noise, keep-alive newlines).
    loop {
        let mut b = [0u8; 1];
        match tokio::time::timeout(IDLE, r.read(&mut b)).await {
            Err(_) => return Ok(None),
            Ok(Ok(0)) => return Ok(None),
            Ok(Ok(_)) if b[0] == START => break,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => return Err(e),
        }
    }
    let mut payload = Vec::new();
    loop {
        let b = r.read_u8().await?;
        if b == END {
            let next = r.read_u8().await?;
            if next == CR {
                return Ok(Some(payload));
            }
            payload.push(b);
            payload.push(next);
        } else {
            payload.push(b);
        }
        if payload.len() > MAX_MESSAGE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "MLLP frame larger than the message limit",
            ));
        }
    }
}

async fn connection(stream: TcpStream, state: &AppState, client: Uuid) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    while let Some(payload) = read_frame(&mut r).await? {
        let text = String::from_utf8_lossy(&payload).into_owned();
        let answer = match state.store.oauth_client(client).await {
            Ok(Some(c)) => match principal_of_client(&c) {
                Ok(principal) => {
                    match process(state, principal, &text, Uuid::new_v4().to_string()).await {
                        Ok(a) => a.text,
                        Err(Hl7Failure::Unavailable) | Err(Hl7Failure::Internal) => {
                            // No answer is better than a false one: the engine resends.
                            return Err(std::io::Error::other("message not processed"));
                        }
                    }
                }
                Err(_) => return Err(std::io::Error::other("the MLLP client is not valid")),
            },
            Ok(None) => return Err(std::io::Error::other("the MLLP client was removed")),
            Err(_) => return Err(std::io::Error::other("the registry is unavailable")),
        };
        let mut frame = Vec::with_capacity(answer.len() + 3);
        frame.push(START);
        frame.extend_from_slice(answer.as_bytes());
        frame.extend_from_slice(&[END, CR]);
        w.write_all(&frame).await?;
    }
    Ok(())
}
