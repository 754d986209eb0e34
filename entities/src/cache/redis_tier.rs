//! The shared tier: sealed record values in Redis (one node or a cluster), reached over
//! `redis://` or `rediss://` (TLS, verified against the system's roots or a configured CA),
//! with a password or ACL user in the URL when Redis asks for one.
//!
//! Reaching Redis and being refused by it are different failures. An unreachable Redis is an
//! outage: the gateway starts without its cache and a probe brings it back. A Redis that
//! refuses the password or ACL user, or whose certificate is not trusted, is a configuration
//! error that will not heal: start-up fails with it ([`CacheStartError`]), and should it
//! happen later (a password rotated on Redis first), `/readyz` names it.
//!
//! Redis holds payloads only: which version of a record is current is the database's to say
//! (see the module docs of `cache`), so nothing here has to reach Redis for a read to be
//! fresh, and a lost, evicted or flushed value is only a miss.
//!
//! Every call is bounded by the configured timeout (plus an allowance per key, so a roster's
//! thousands of keys are not held to one key's deadline). A failure marks the tier unhealthy:
//! reads and fills then skip Redis entirely (the database answers), a warning is logged once,
//! and a background probe brings the tier back.
//!
//! A slow read or fill is not yet an outage: on a saturated gateway the reply can sit unread
//! past its deadline while the runtime's threads are busy, and taking the tier down for that
//! would turn load into more load on the database. Such a call falls back to the database
//! alone; only [`TIMEOUTS_BEFORE_DOWN`] in a row, or any other failure, take the tier down. A
//! failed read-your-writes pin always does.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, RedisError, TlsCertificates, Value};
use uuid::Uuid;

/// A connection to one node (reconnecting) or to a cluster (slot-routing).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    /// `cmd`'s reply; an error reply (`-NOAUTH`, `-OOM`...) is an error, not a value (the
    /// raw call hands it back as [`Value::ServerError`]).
    async fn query(&mut self, cmd: &Cmd) -> Result<Value, RedisError> {
        let reply = match self {
            Conn::Single(c) => c.req_packed_command(cmd).await,
            Conn::Cluster(c) => c.req_packed_command(cmd).await,
        }?;
        reply.extract_error()
    }
}

/// How to reach Redis.
#[derive(Debug, Clone)]
enum Target {
    Single(String),
    Cluster(Vec<String>),
}

impl Target {
    /// `redis://h:p`, `rediss://…` (TLS), `redis+cluster://[user:pass@]h1:p1,h2:p2` (or
    /// `rediss+cluster://…`: the credentials apply to every node), or a comma-separated list of
    /// node URLs (a cluster).
    fn parse(url: &str) -> Target {
        for (scheme, node) in [
            ("redis+cluster://", "redis://"),
            ("rediss+cluster://", "rediss://"),
        ] {
            if let Some(rest) = url.strip_prefix(scheme) {
                let (auth, hosts) = match rest.rsplit_once('@') {
                    Some((auth, hosts)) => (format!("{auth}@"), hosts),
                    None => (String::new(), rest),
                };
                return Target::Cluster(
                    hosts
                        .split(',')
                        .map(|n| format!("{node}{auth}{}", n.trim()))
                        .collect(),
                );
            }
        }
        if url.contains(',') {
            return Target::Cluster(url.split(',').map(|n| n.trim().to_owned()).collect());
        }
        Target::Single(url.to_owned())
    }
}

/// Failure of one Redis call (including a timeout).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TierError {
    #[error("redis: {0}")]
    Redis(#[from] RedisError),
    #[error("unexpected redis reply: {0}")]
    Reply(#[from] redis::ParsingError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("redis is unavailable")]
    Down,
}

impl TierError {
    /// Whether Redis answered and refused this client: a wrong password or ACL user, a
    /// command the ACL user may not run, a server certificate not trusted, or a URL the client
    /// cannot use. Retrying does not help; the configuration must change.
    fn is_refusal(&self) -> bool {
        let TierError::Redis(e) = self else {
            return false;
        };
        let text = e.to_string();
        matches!(
            e.kind(),
            ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig
        ) || matches!(e.code(), Some("NOAUTH" | "WRONGPASS" | "NOPERM"))
            // A refusal inside the connection's set-up pipeline carries no code of its own.
            || ["NOAUTH", "WRONGPASS", "NOPERM"].iter().any(|c| text.contains(c))
            // rustls' verdicts reach us as I/O errors; their text is all that says so.
            || (e.kind() == ErrorKind::Io && text.contains("certificate"))
    }
}

/// Redis was reached and refused the gateway's configuration.
#[derive(Debug, thiserror::Error)]
#[error("Redis refused the cache's connection: {0} (check the password or ACL user in REDIS_URL and, for rediss://, the CA in IZGRAPH_REDIS_CA_FILE)")]
pub struct CacheStartError(String);

/// Consecutive read or fill timeouts that count as an outage.
pub(crate) const TIMEOUTS_BEFORE_DOWN: u32 = 3;

/// Deadline allowance per key of a multi-key call.
const PER_KEY: Duration = Duration::from_micros(20);

/// Keys per `MGET`: a roster's thousands go as several commands in flight at once, so no single
/// reply holds Redis (single-threaded) or one deadline for the whole batch.
const MGET_CHUNK: usize = 512;

/// What a call is for, which decides what its failure means (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Call {
    /// Reads and fills: the database can answer instead.
    Read,
    /// Sharing a read-your-writes pin: a failure is a guarantee lost.
    Invalidate,
}

pub(crate) struct RedisTier {
    target: Target,
    /// PEM roots for `rediss://` instead of the system's.
    tls_ca: Option<Vec<u8>>,
    /// Why the tier last went down, until it recovers (for `/readyz`).
    last_error: Mutex<Option<String>>,
    conn: RwLock<Option<Conn>>,
    prefix: String,
    timeout: Duration,
    healthy: AtomicBool,
    probing: AtomicBool,
    outages: AtomicU64,
    timeouts_in_a_row: AtomicU32,
}

impl RedisTier {
    /// Connects and checks that Redis accepts commands, or starts unhealthy (and probing)
    /// when Redis cannot be reached: the gateway must come up without its cache. Redis
    /// refusing the client (see [`TierError::is_refusal`]) is an error.
    pub(crate) async fn connect(
        url: &str,
        tls_ca: Option<Vec<u8>>,
        prefix: String,
        timeout: Duration,
    ) -> Result<Arc<RedisTier>, CacheStartError> {
        let tier = Arc::new(RedisTier {
            target: Target::parse(url),
            tls_ca,
            last_error: Mutex::new(None),
            conn: RwLock::new(None),
            prefix,
            timeout,
            healthy: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            outages: AtomicU64::new(0),
            timeouts_in_a_row: AtomicU32::new(0),
        });
        let opened = match tier.open().await {
            Ok(conn) => {
                tier.set_conn(conn.clone());
                // A connection is made before any command is refused (NOAUTH without a
                // password): ask once, with the connection's deadline.
                let deadline = tier.timeout.max(Duration::from_millis(500)) * 2;
                match tokio::time::timeout(deadline, conn.clone().query(&redis::cmd("PING"))).await
                {
                    Ok(answer) => answer.map(|_| ()).map_err(TierError::Redis),
                    Err(_) => Err(TierError::Timeout(deadline)),
                }
            }
            Err(e) => Err(e),
        };
        match opened {
            Ok(()) => tier.healthy.store(true, Ordering::Release),
            Err(e) if e.is_refusal() => return Err(CacheStartError(e.to_string())),
            Err(e) => tier.fail(&e),
        }
        Ok(tier)
    }

    /// A client for one node, with the configured roots for `rediss://`.
    fn client(&self, url: &str) -> Result<redis::Client, RedisError> {
        match &self.tls_ca {
            Some(ca) if url.starts_with("rediss://") => redis::Client::build_with_tls(
                url,
                TlsCertificates {
                    client_tls: None,
                    root_cert: Some(ca.clone()),
                },
            ),
            _ => redis::Client::open(url),
        }
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        if self.is_healthy() {
            return None;
        }
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    async fn open(&self) -> Result<Conn, TierError> {
        let connect_timeout = self.timeout.max(Duration::from_millis(500));
        let fut = async {
            match &self.target {
                Target::Single(url) => {
                    let client = self.client(url)?;
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(connect_timeout))
                        // Each call's own deadline (`raw`) is the one that counts; this only
                        // bounds a reply that never comes.
                        .set_response_timeout(Some(connect_timeout * 2))
                        .set_number_of_retries(1)
                        .set_max_delay(Duration::from_millis(200));
                    Ok::<_, RedisError>(Conn::Single(
                        ConnectionManager::new_with_config(client, config).await?,
                    ))
                }
                Target::Cluster(nodes) => {
                    let mut builder = ClusterClientBuilder::new(nodes.clone());
                    if let Some(ca) = &self.tls_ca {
                        builder = builder.certs(TlsCertificates {
                            client_tls: None,
                            root_cert: Some(ca.clone()),
                        });
                    }
                    let client = builder
                        .connection_timeout(connect_timeout)
                        .response_timeout(connect_timeout * 2)
                        .retries(1)
                        .build()?;
                    Ok(Conn::Cluster(client.get_async_connection().await?))
                }
            }
        };
        match tokio::time::timeout(connect_timeout * 2, fut).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(TierError::Timeout(connect_timeout * 2)),
        }
    }

    fn set_conn(&self, conn: Conn) {
        if let Ok(mut slot) = self.conn.write() {
            *slot = Some(conn);
        }
    }

    pub(crate) fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    pub(crate) fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// Marks the tier down (logging once per outage) and starts the recovery probe.
    pub(crate) fn fail(self: &Arc<Self>, error: &TierError) {
        self.note(error);
        if self.healthy.swap(false, Ordering::AcqRel) || self.outages() == 0 {
            self.outages.fetch_add(1, Ordering::Relaxed);
            if error.is_refusal() {
                tracing::error!(%error, "Redis refused the cache's connection (password, ACL user or certificate): serving from the database");
            } else {
                tracing::warn!(%error, "Redis cache unavailable: serving from the database until it returns");
            }
        }
        if !self.probing.swap(true, Ordering::AcqRel) {
            let tier = self.clone();
            tokio::spawn(async move { tier.recover().await });
        }
    }

    /// Keeps `error` as the reason the tier is down.
    fn note(&self, error: &TierError) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(if error.is_refusal() {
                format!("refused: {error}")
            } else {
                error.to_string()
            });
        }
    }

    /// Probes until Redis answers, then reopens the tier. Nothing needs retiring: values are
    /// only ever read under the versions the database holds.
    async fn recover(self: Arc<Self>) {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let conn = match self.current() {
                Some(c) => c,
                None => match self.open().await {
                    Ok(c) => {
                        self.set_conn(c.clone());
                        c
                    }
                    Err(e) => {
                        self.note(&e);
                        continue;
                    }
                },
            };
            let answered = self.raw(conn, &redis::cmd("PING"), 1).await;
            if let Err(e) = &answered {
                self.note(e);
            }
            if answered.is_ok() {
                self.timeouts_in_a_row.store(0, Ordering::Relaxed);
                self.healthy.store(true, Ordering::Release);
                self.probing.store(false, Ordering::Release);
                tracing::info!("Redis cache available again");
                return;
            }
        }
    }

    /// The connection, if the tier is healthy.
    fn healthy_conn(&self) -> Result<Conn, TierError> {
        if !self.is_healthy() {
            return Err(TierError::Down);
        }
        self.current().ok_or(TierError::Down)
    }

    fn current(&self) -> Option<Conn> {
        self.conn.read().ok().and_then(|c| c.clone())
    }

    /// `cmd` on `conn` within the timeout, stretched by [`PER_KEY`] for each of `keys`.
    async fn raw(&self, mut conn: Conn, cmd: &Cmd, keys: usize) -> Result<Value, TierError> {
        let deadline = self.timeout + PER_KEY * u32::try_from(keys).unwrap_or(u32::MAX);
        match tokio::time::timeout(deadline, conn.query(cmd)).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(TierError::Timeout(deadline)),
        }
    }

    /// Runs `cmd` (touching `keys` keys) when the tier is healthy; a failure marks it down,
    /// except a read's timeout short of [`TIMEOUTS_BEFORE_DOWN`] in a row.
    pub(super) async fn run(
        self: &Arc<Self>,
        cmd: &Cmd,
        call: Call,
        keys: usize,
    ) -> Result<Value, TierError> {
        let conn = self.healthy_conn()?;
        let result = self.raw(conn, cmd, keys).await;
        self.account(call, result.as_ref().err());
        result
    }

    /// Books one call's (or one batch's) outcome against the tier's health.
    fn account(self: &Arc<Self>, call: Call, failure: Option<&TierError>) {
        match failure {
            None => self.timeouts_in_a_row.store(0, Ordering::Relaxed),
            Some(e @ TierError::Timeout(_)) if call == Call::Read => {
                let in_a_row = self.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                if in_a_row >= TIMEOUTS_BEFORE_DOWN {
                    self.fail(e);
                } else {
                    tracing::debug!(error = %e, in_a_row, "slow Redis read; the database answers it");
                }
            }
            Some(TierError::Down) => {}
            Some(e) => self.fail(e),
        }
    }

    /// Sends `cmds` together on the multiplexed connection; the first failure, if any. The
    /// batch counts as one call towards the tier's health: a fill of a thousand records that
    /// runs late is one slow call, not a thousand.
    async fn run_all(self: &Arc<Self>, cmds: &[Cmd], call: Call) -> Result<(), TierError> {
        let conn = self.healthy_conn()?;
        let results =
            futures::future::join_all(cmds.iter().map(|c| self.raw(conn.clone(), c, 1))).await;
        let failure = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .find(|e| !matches!(e, TierError::Timeout(_)))
            .or_else(|| results.iter().find_map(|r| r.as_ref().err()));
        self.account(call, failure);
        first_failure(results)
    }

    /// `MGET` of `keys` in chunks of [`MGET_CHUNK`], all in flight at once; the values in
    /// order.
    async fn mget(self: &Arc<Self>, keys: Vec<String>) -> Result<Vec<Value>, TierError> {
        let cmds: Vec<(Cmd, usize)> = keys
            .chunks(MGET_CHUNK)
            .map(|chunk| {
                let mut cmd = redis::cmd("MGET");
                for k in chunk {
                    cmd.arg(k);
                }
                (cmd, chunk.len())
            })
            .collect();
        let conn = self.healthy_conn()?;
        let replies =
            futures::future::join_all(cmds.iter().map(|(cmd, n)| self.raw(conn.clone(), cmd, *n)))
                .await;
        let failure = replies.iter().find_map(|r| r.as_ref().err());
        self.account(Call::Read, failure);
        let mut values = Vec::with_capacity(keys.len());
        for reply in replies {
            match reply? {
                Value::Array(items) => values.extend(items),
                other => {
                    return Err(TierError::Reply(redis::ParsingError::from(format!(
                        "MGET answered {other:?}"
                    ))))
                }
            }
        }
        Ok(values)
    }

    /// The key of a named value in this namespace (not a record: no epoch, no version).
    pub(super) fn named_key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.prefix)
    }

    /// The key of a person's answer at a record version (`None`: the person does not exist).
    /// The id is a hash tag (`{id}`), spreading persons over a cluster's masters.
    pub(crate) fn record_key(&self, id: Uuid, version: Option<i64>) -> String {
        match version {
            Some(v) => format!("{}:r:{{{id}}}:{v}", self.prefix),
            None => format!("{}:r:{{{id}}}:none", self.prefix),
        }
    }

    /// Values at `keys`, `None` where absent.
    pub(crate) async fn get_many(
        self: &Arc<Self>,
        keys: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, TierError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        Ok(redis::from_redis_value(Value::Array(
            self.mget(keys.to_vec()).await?,
        ))?)
    }

    /// Stores values with a TTL.
    pub(crate) async fn set_many(
        self: &Arc<Self>,
        entries: Vec<(String, Vec<u8>)>,
        ttl: Duration,
    ) -> Result<(), TierError> {
        let secs = ttl.as_secs().max(1);
        let cmds: Vec<Cmd> = entries
            .into_iter()
            .map(|(k, v)| {
                let mut c = redis::cmd("SET");
                c.arg(k).arg(v).arg("EX").arg(secs);
                c
            })
            .collect();
        self.run_all(&cmds, Call::Read).await
    }
}

fn first_failure(results: Vec<Result<Value, TierError>>) -> Result<(), TierError> {
    results
        .into_iter()
        .find_map(Result::err)
        .map_or(Ok(()), Err)
}
