//! One fuzzed HTTP request, how it is sent (reqwest over loopback, or raw bytes on a TCP
//! socket for framing hyper must refuse), and what came back.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::world::World;

/// Longest wait for an answer; longer is a hang.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a response body that is kept (the rest is drained and dropped).
const MAX_KEPT: usize = 8 << 20;

/// Which endpoint family the request belongs to (for the oracle and the statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    PostJson,
    PostBatch,
    PostRaw,
    Get,
    Mutation,
    RosterCsv,
    OAuth,
    RawHttp,
    OtherRoute,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PostJson => "post-json",
            Kind::PostBatch => "post-batch",
            Kind::PostRaw => "post-raw",
            Kind::Get => "get",
            Kind::Mutation => "mutation",
            Kind::RosterCsv => "roster-csv",
            Kind::OAuth => "oauth-token",
            Kind::RawHttp => "raw-http",
            Kind::OtherRoute => "other-route",
        }
    }

    /// `/graphql` GET or POST: the answer must be GraphQL-over-HTTP JSON.
    pub fn is_graphql(self) -> bool {
        matches!(
            self,
            Kind::PostJson | Kind::PostBatch | Kind::PostRaw | Kind::Get | Kind::Mutation
        )
    }
}

/// A concrete request, as generated (and printed when it fails).
#[derive(Clone)]
pub struct HttpRequest {
    pub kind: Kind,
    pub method: String,
    /// Path and query, starting with `/`.
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// For [`Kind::RawHttp`]: the bytes written to the socket (the fields above unused).
    pub raw: Option<Vec<u8>>,
}

fn lossy(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    let text = format!("{text:?}");
    if bytes.len() > max {
        format!("{text}… ({} bytes in all)", bytes.len())
    } else {
        text
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(raw) = &self.raw {
            return write!(
                f,
                "[{}] raw bytes to the socket: {}",
                self.kind.as_str(),
                lossy(raw, 4000)
            );
        }
        writeln!(
            f,
            "[{}] {} {}",
            self.kind.as_str(),
            self.method,
            lossy(self.target.as_bytes(), 4000)
        )?;
        for (name, value) in &self.headers {
            writeln!(f, "    {name}: {}", lossy(value, 600))?;
        }
        write!(f, "    body: {}", lossy(&self.body, 6000))
    }
}

impl HttpRequest {
    /// The whole request, untruncated (written to a file when the run fails).
    pub fn full(&self) -> String {
        if let Some(raw) = &self.raw {
            return format!(
                "[{}] raw: {}\n",
                self.kind.as_str(),
                String::from_utf8_lossy(raw)
            );
        }
        let mut out = format!("[{}] {} {}\n", self.kind.as_str(), self.method, self.target);
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value)));
        }
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(&self.body));
        out.push('\n');
        out
    }

    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// What came back.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

#[derive(Debug)]
pub enum Outcome {
    Answered(HttpResponse),
    /// No answer within [`REQUEST_TIMEOUT`].
    TimedOut,
    /// The connection failed (reset, closed before a response…).
    Failed(String),
    /// Raw socket: the server closed without writing a response (what hyper does with some
    /// malformed framing).
    ClosedWithoutResponse,
    /// The generated request could not be expressed (an unparsable URL); not sent.
    NotSent(String),
}

/// Sends `req` to the gateway of `world` (loopback only).
pub async fn send(client: &reqwest::Client, world: &World, req: &HttpRequest) -> Outcome {
    let started = Instant::now();
    if let Some(raw) = &req.raw {
        return match tokio::time::timeout(REQUEST_TIMEOUT, raw_exchange(world, raw)).await {
            Err(_) => Outcome::TimedOut,
            Ok(Err(e)) => Outcome::Failed(e),
            Ok(Ok(bytes)) if bytes.is_empty() => Outcome::ClosedWithoutResponse,
            Ok(Ok(bytes)) => parse_raw_response(&bytes, started.elapsed()),
        };
    }
    if req.body.len() > 32 << 20 {
        return Outcome::NotSent("generated body over 32 MiB".into());
    }
    let url = match reqwest::Url::parse(&format!("{}{}", world.base, req.target)) {
        Ok(u) => u,
        Err(e) => return Outcome::NotSent(format!("url: {e}")),
    };
    if url.host_str() != Some("127.0.0.1") {
        return Outcome::NotSent("not loopback".into());
    }
    let method = match reqwest::Method::from_bytes(req.method.as_bytes()) {
        Ok(m) => m,
        Err(e) => return Outcome::NotSent(format!("method: {e}")),
    };
    let mut builder = client.request(method, url);
    for (name, value) in &req.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            builder = builder.header(n, v);
        }
    }
    if !req.body.is_empty() {
        builder = builder.body(req.body.clone());
    }
    let exchange = async {
        let resp = builder.send().await.map_err(|e| {
            if e.is_builder() {
                // The client cannot express it (a URI over 64 KiB): not the server's doing.
                (true, format!("{e}"))
            } else {
                (false, format!("{e:?}"))
            }
        })?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| (false, format!("reading the body: {e:?}")))?
        {
            if body.len() < MAX_KEPT {
                body.extend_from_slice(&chunk[..chunk.len().min(MAX_KEPT - body.len())]);
            }
        }
        Ok::<_, (bool, String)>(HttpResponse {
            status,
            content_type,
            body,
            elapsed: started.elapsed(),
        })
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Err(_) => Outcome::TimedOut,
        Ok(Err((true, e))) => Outcome::NotSent(e),
        Ok(Err((false, e))) => Outcome::Failed(shorten(&e, 2000)),
        Ok(Ok(r)) => Outcome::Answered(r),
    }
}

/// At most `max` bytes of `text` (on a character boundary), saying how long it was.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// Writes `raw`, closes the writing half and reads until the server closes.
async fn raw_exchange(world: &World, raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut stream = tokio::net::TcpStream::connect(world.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // The server may answer (and close) before reading everything: a failed write is fine.
    let _ = stream.write_all(raw).await;
    let _ = stream.shutdown().await;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                if out.len() < MAX_KEPT {
                    out.extend_from_slice(&buf[..n]);
                }
            }
            // A reset after (or instead of) the answer: the server dropped unread input.
            Err(e) if out.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(_) => break,
        }
    }
    Ok(out)
}

fn parse_raw_response(bytes: &[u8], elapsed: Duration) -> Outcome {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status else {
        return Outcome::Failed(format!("not an HTTP response: {}", lossy(bytes, 200)));
    };
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    Outcome::Answered(HttpResponse {
        status,
        content_type,
        body: bytes[(head_end + 4).min(bytes.len())..].to_vec(),
        elapsed,
    })
}
