//! Settings: read once from the environment (the contract in `shared/spec/cli-and-tokens.md`).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;

/// A value that must not appear in logs (connection strings carry passwords).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An external OpenID Connect issuer whose tokens the gateway accepts instead of dev tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIssuer {
    pub issuer: String,
    pub audience: String,
    /// `https://…`, or `http://` to a loopback address (a sidecar, a test).
    pub jwks_url: String,
    /// The least time between two fetches of the JWKS. A token naming an unknown `kid`
    /// triggers a re-fetch (key rotation), so without this floor anyone could make the
    /// gateway hammer the issuer.
    pub min_refresh_interval: Duration,
    /// RFC 7662 introspection of opaque (non-JWT) access tokens, when configured.
    pub introspection: Option<Introspection>,
    /// The longest time between two scheduled JWKS fetches (`IZGRAPH_JWKS_REFRESH_SECONDS`):
    /// the issuer's `Cache-Control: max-age` is honoured between `min_refresh_interval` and
    /// this, so a key the issuer removed stops verifying within it.
    pub refresh_interval: Duration,
    /// The JWT `typ` headers that mark an access token (`IZGRAPH_JWT_TYPES`, compared without
    /// case): RFC 9068's `at+jwt` by default, so an ID token is not taken for one.
    pub token_types: Vec<String>,
    /// For issuers that do not type their access tokens: a claim and the value that marks one
    /// (`IZGRAPH_ACCESS_TOKEN_CLAIM=token_use=access`); a token carrying it is accepted
    /// whatever its `typ`.
    pub access_claim: Option<(String, String)>,
}

/// Default of [`ExternalIssuer::refresh_interval`].
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(300);

impl ExternalIssuer {
    /// An issuer with the default refresh intervals and token types, without introspection.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        jwks_url: impl Into<String>,
    ) -> ExternalIssuer {
        ExternalIssuer {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: jwks_url.into(),
            min_refresh_interval: DEFAULT_JWKS_MIN_REFRESH,
            introspection: None,
            refresh_interval: DEFAULT_JWKS_REFRESH,
            token_types: vec!["at+jwt".into(), "application/at+jwt".into()],
            access_claim: None,
        }
    }
}

/// Limits on what one connection may hold (slowloris): how long its request headers and
/// body may take to arrive, and how many connections are served at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `IZGRAPH_HEADER_TIMEOUT_SECONDS`: from the first byte of a request (or the connection)
    /// to the end of its headers.
    pub header_timeout: Duration,
    /// `IZGRAPH_BODY_TIMEOUT_SECONDS`: for the whole request body to arrive.
    pub body_timeout: Duration,
    /// `IZGRAPH_MAX_CONNECTIONS`: connections served at once; more wait in the kernel's
    /// backlog until one closes.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// The issuer's token introspection endpoint and the gateway's credentials for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    /// Same rule as the JWKS URL: `https://`, or `http://` to loopback.
    pub url: String,
    pub client_id: String,
    pub client_secret: Secret,
}

/// Default of [`ExternalIssuer::min_refresh_interval`].
pub const DEFAULT_JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// Everything the gateway is configured by.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Serve `/metrics` on this address instead of `listen` (`IZGRAPH_METRICS_LISTEN`), so it
    /// can stay off the network clients reach.
    pub metrics_listen: Option<SocketAddr>,
    /// MLLP listener for HL7 interface engines (`IZGRAPH_MLLP_LISTEN`, with the registered
    /// client it acts as, `IZGRAPH_MLLP_CLIENT`); off unless both are set.
    pub mllp: Option<(SocketAddr, uuid::Uuid)>,
    /// Operation names labelled on their own in `/metrics` besides the trusted documents'
    /// (`IZGRAPH_METRICS_OPERATIONS`); every other name is counted as `other`.
    pub metrics_operations: Vec<String>,
    pub data_dir: PathBuf,
    /// `None`: SQLite in the data directory.
    pub database_url: Option<Secret>,
    /// A PostgreSQL read replica of `database_url` for scans (`DATABASE_READ_URL`).
    pub database_read_url: Option<Secret>,
    /// `None`: in-process cache.
    pub redis_url: Option<Secret>,
    /// `None`: the dev issuer with its key in the data directory.
    pub external_issuer: Option<ExternalIssuer>,
    pub timezone: Tz,
    /// Seed demo data when the database is empty on start.
    pub seed_demo: bool,
    pub max_connections: u32,
    /// Whose school requirements apply: a built-in jurisdiction code (`MN`).
    pub jurisdiction: String,
    /// A requirements file to load instead of the built-in one.
    pub requirements_file: Option<PathBuf>,
    /// The official record and its SMART Health Card (issue 18).
    pub records: RecordSettings,
    /// Depth, complexity, aliases, root fields and who may introspect.
    pub limits: schema::Limits,
    /// The largest request body (and GET query string) accepted.
    pub max_body_bytes: usize,
    /// The most operations in one batched POST.
    pub max_batch: usize,
    pub persisted: PersistedDocuments,
    pub cache: CacheSettings,
    /// Kept forecasts: bytes (`IZGRAPH_FORECAST_CACHE_BYTES`) and distinct `asOf` dates per
    /// request (`IZGRAPH_MAX_FORECAST_DATES`).
    pub forecasts: schema::ForecastCacheConfig,
    /// After SIGTERM, how long `/readyz` answers 503 while requests are still accepted, so
    /// load balancers take the instance out before its listener closes.
    pub shutdown_delay: Duration,
    /// Once the listener is closed, the most time in-flight requests get: a stalled client
    /// must not hold the process past the orchestrator's grace period.
    pub shutdown_timeout: Duration,
    /// A read replica further behind than this is not used (`IZGRAPH_REPLICA_MAX_LAG_MS`).
    pub replica_max_lag: Duration,
    pub connections: ConnectionLimits,
    /// Whether `GET /graphql` from a browser serves GraphiQL (`IZGRAPH_GRAPHIQL`); `None`:
    /// on with the dev issuer, off with an external one. See [`Settings::graphiql`].
    pub graphiql: Option<bool>,
    /// The key that seals pagination cursors (`IZGRAPH_CURSOR_KEY`, 64 hex digits); `None`:
    /// the `cursor-key` file in the data directory, created on first start.
    pub cursor_key: Option<Secret>,
    /// Signed checkpoints of the access log's head (`IZGRAPH_CHECKPOINT_*`).
    pub checkpoints: CheckpointSettings,
    /// Population jobs (`IZGRAPH_JOBS_*`, `IZGRAPH_REMINDER_INTERVAL_DAYS`).
    pub jobs: schema::population::PopulationConfig,
}

/// Where and how often the access log's head is signed and published (see
/// [`crate::checkpoints`]); the paths default to the data directory.
#[derive(Debug, Clone)]
pub struct CheckpointSettings {
    pub file: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub interval: Duration,
}

impl Default for CheckpointSettings {
    fn default() -> Self {
        CheckpointSettings {
            file: None,
            key: None,
            interval: Duration::from_secs(60),
        }
    }
}

/// Which record cache runs (`IZGRAPH_CACHE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    None,
    Memory,
    Redis,
}

/// The record cache's settings; see [`Settings::cache_config`].
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `None`: Redis when `REDIS_URL` is set, the in-process cache otherwise.
    pub mode: Option<CacheMode>,
    pub ttl: Duration,
    pub capacity: u64,
    pub timeout: Duration,
    pub near_cache: bool,
    /// `None`: derived from the database URL, so instances of one registry share entries and
    /// two registries on one Redis never do.
    pub namespace: Option<String>,
    /// The key values in Redis are sealed with (`IZGRAPH_CACHE_KEY`). `None`: a key generated
    /// once into the data directory (`cache.key`), shared by instances sharing that directory.
    pub key: Option<entities::cache::CacheKey>,
    /// Keys still accepted for reading during a rotation (`IZGRAPH_CACHE_KEY_PREVIOUS`).
    pub previous_keys: Vec<entities::cache::CacheKey>,
    /// PEM file of the authorities trusted for `rediss://` instead of the system's roots
    /// (`IZGRAPH_REDIS_CA_FILE`), for a Redis with a certificate from a private CA.
    pub redis_ca_file: Option<PathBuf>,
}

impl Default for CacheSettings {
    fn default() -> Self {
        let d = entities::CacheConfig::disabled();
        CacheSettings {
            mode: None,
            ttl: d.ttl,
            capacity: d.memory_capacity,
            timeout: d.timeout,
            near_cache: d.near_cache,
            namespace: None,
            key: None,
            previous_keys: Vec::new(),
            redis_ca_file: None,
        }
    }
}

/// How documents may be sent by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistedDocuments {
    /// Automatic persisted queries, at most this many documents kept.
    Automatic {
        capacity: usize,
    },
    /// Only the documents of this Apollo persisted-query manifest run.
    Trusted(PathBuf),
    Off,
}

/// Default of [`Settings::max_body_bytes`]: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("IZGRAPH_LISTEN `{0}` is not an address like 127.0.0.1:8080")]
    Listen(String),
    #[error("IZGRAPH_TIMEZONE `{0}` is not an IANA time zone like America/Chicago")]
    Timezone(String),
    #[error("IZGRAPH_ISSUER, IZGRAPH_AUDIENCE and IZGRAPH_JWKS_URL must be set together")]
    PartialIssuer,
    #[error("IZGRAPH_INTROSPECTION_URL, IZGRAPH_INTROSPECTION_CLIENT_ID and IZGRAPH_INTROSPECTION_CLIENT_SECRET must be set together, and only with an external issuer")]
    PartialIntrospection,
    #[error("cache key file {path}: {why}")]
    CacheKeyFile { path: String, why: String },
    #[error("IZGRAPH_REDIS_CA_FILE {path}: {why}")]
    RedisCaFile { path: String, why: String },
    #[error("{name} `{value}` is not valid: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: &'static str,
    },
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: None,
            mllp: None,
            metrics_operations: Vec::new(),
            data_dir: PathBuf::from("./.izgraph"),
            database_url: None,
            database_read_url: None,
            redis_url: None,
            external_issuer: None,
            timezone: chrono_tz::America::Chicago,
            seed_demo: true,
            max_connections: 16,
            jurisdiction: "MN".into(),
            requirements_file: None,
            records: RecordSettings::default(),
            limits: schema::Limits::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_batch: 10,
            persisted: PersistedDocuments::Automatic { capacity: 1000 },
            cache: CacheSettings::default(),
            forecasts: schema::ForecastCacheConfig::default(),
            jobs: schema::population::PopulationConfig::default(),
            shutdown_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(30),
            replica_max_lag: Duration::from_secs(30),
            connections: ConnectionLimits::default(),
            graphiql: None,
            checkpoints: CheckpointSettings::default(),
            cursor_key: None,
        }
    }
}

/// `true`/`false` (and `1`/`0`, `yes`/`no`) of variable `name`, whose value is `value`.
fn boolean(name: &'static str, value: Option<String>) -> Result<Option<bool>, ConfigError> {
    match value {
        None => Ok(None),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" => Ok(Some(false)),
            _ => Err(ConfigError::Invalid {
                name,
                value: v,
                why: "expected true or false",
            }),
        },
    }
}

/// Keys fetched (or introspection answers received) in clear text could be swapped by anyone
/// on the path, and every token "verified" with them forged: only HTTPS, or plain HTTP to this
/// machine, is accepted.
/// A whole number in `range`, or the default when unset.
fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: std::ops::RangeInclusive<u64>,
    why: &'static str,
) -> Result<Option<u64>, ConfigError> {
    match lookup(name) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError::Invalid {
                name,
                value: v,
                why,
            }),
        },
    }
}

fn cache_settings(lookup: &impl Fn(&str) -> Option<String>) -> Result<CacheSettings, ConfigError> {
    let mut c = CacheSettings::default();
    if let Some(v) = lookup("IZGRAPH_CACHE") {
        c.mode = Some(match v.to_ascii_lowercase().as_str() {
            "none" | "off" => CacheMode::None,
            "memory" => CacheMode::Memory,
            "redis" => CacheMode::Redis,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_CACHE",
                    value: v,
                    why: "expected none, memory or redis",
                })
            }
        });
    }
    if let Some(n) = number(
        lookup,
        "IZGRAPH_CACHE_TTL_SECONDS",
        1..=86_400,
        "expected 1 to 86400",
    )? {
        c.ttl = Duration::from_secs(n);
    }
    if let Some(n) = number(
        lookup,
        "IZGRAPH_CACHE_CAPACITY",
        0..=100_000_000,
        "expected 0 to 100000000",
    )? {
        c.capacity = n;
    }
    if let Some(n) = number(
        lookup,
        "IZGRAPH_CACHE_TIMEOUT_MS",
        1..=10_000,
        "expected 1 to 10000",
    )? {
        c.timeout = Duration::from_millis(n);
    }
    if let Some(v) = lookup("IZGRAPH_CACHE_NEAR") {
        c.near_cache = match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_CACHE_NEAR",
                    value: v,
                    why: "expected true or false",
                })
            }
        };
    }
    c.namespace = lookup("IZGRAPH_CACHE_NAMESPACE");
    c.redis_ca_file = lookup("IZGRAPH_REDIS_CA_FILE").map(PathBuf::from);
    let bad_key = |name| {
        ConfigError::Invalid {
        name,
        value: "(hidden)".into(),
        why: "expected 32 random bytes in base64 (44 characters) or hex (64); several previous keys separated by commas",
    }
    };
    if let Some(v) = lookup("IZGRAPH_CACHE_KEY") {
        c.key =
            Some(entities::cache::CacheKey::parse(&v).map_err(|_| bad_key("IZGRAPH_CACHE_KEY"))?);
    }
    if let Some(v) = lookup("IZGRAPH_CACHE_KEY_PREVIOUS") {
        c.previous_keys = v
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(entities::cache::CacheKey::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| bad_key("IZGRAPH_CACHE_KEY_PREVIOUS"))?;
    }
    Ok(c)
}

/// The generated cache key in `dir` (`cache.key`), created (owner-only) when missing.
fn key_file(dir: &std::path::Path) -> Result<entities::cache::CacheKey, ConfigError> {
    let path = dir.join("cache.key");
    let failed = |why: String| ConfigError::CacheKeyFile {
        path: path.display().to_string(),
        why,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => entities::cache::CacheKey::parse(&text).map_err(|e| failed(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::io::Write;
            std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
            let key = entities::cache::CacheKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut f) => {
                    f.write_all(key.to_base64().as_bytes())
                        .map_err(|e| failed(e.to_string()))?;
                    Ok(key)
                }
                // Another instance on this directory wrote it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => key_file(dir),
                Err(e) => Err(failed(e.to_string())),
            }
        }
        Err(e) => Err(failed(e.to_string())),
    }
}

fn check_url(name: &'static str, url: &str) -> Result<(), ConfigError> {
    let invalid = |why| ConfigError::Invalid {
        name,
        value: url.to_owned(),
        why,
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("not a URL"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(
            "expected https:// (or http:// to a loopback address)",
        )),
    }
}

/// `all`, `none`, or role names (`registry_admin provider`).
fn parse_roles(text: &str) -> Option<Vec<policies::Role>> {
    match text.trim() {
        "all" => Some(policies::Role::ALL.to_vec()),
        "none" => Some(Vec::new()),
        list => list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|r| !r.is_empty())
            .map(|r| r.parse().ok())
            .collect(),
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        if let Some(listen) = lookup("IZGRAPH_LISTEN") {
            s.listen = listen.parse().map_err(|_| ConfigError::Listen(listen))?;
        }
        if let Some(listen) = lookup("IZGRAPH_METRICS_LISTEN") {
            s.metrics_listen = Some(listen.parse().map_err(|_| ConfigError::Invalid {
                name: "IZGRAPH_METRICS_LISTEN",
                value: listen,
                why: "expected an address like 127.0.0.1:9090",
            })?);
        }
        match (lookup("IZGRAPH_MLLP_LISTEN"), lookup("IZGRAPH_MLLP_CLIENT")) {
            (None, None) => {}
            (Some(listen), Some(client)) => {
                let addr = listen.parse().map_err(|_| ConfigError::Invalid {
                    name: "IZGRAPH_MLLP_LISTEN",
                    value: listen,
                    why: "expected an address like 127.0.0.1:2575",
                })?;
                let id = client.trim().parse().map_err(|_| ConfigError::Invalid {
                    name: "IZGRAPH_MLLP_CLIENT",
                    value: client,
                    why: "expected the id of a registered client (izgraph client add)",
                })?;
                s.mllp = Some((addr, id));
            }
            (Some(listen), None) => {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_MLLP_LISTEN",
                    value: listen,
                    why: "IZGRAPH_MLLP_CLIENT must name the client the link acts as",
                })
            }
            (None, Some(client)) => {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_MLLP_CLIENT",
                    value: client,
                    why: "set IZGRAPH_MLLP_LISTEN too",
                })
            }
        }
        if let Some(names) = lookup("IZGRAPH_METRICS_OPERATIONS") {
            s.metrics_operations = names
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(dir) = lookup("IZGRAPH_DATA_DIR") {
            s.data_dir = PathBuf::from(dir);
        }
        s.database_url = lookup("DATABASE_URL").map(Secret::new);
        if let Some(key) = lookup("IZGRAPH_CURSOR_KEY") {
            if crate::keys::cursor_key_from_hex(key.trim()).is_none() {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_CURSOR_KEY",
                    value: "(hidden)".into(),
                    why: "expected 64 hexadecimal digits (a 256-bit key)",
                });
            }
            s.cursor_key = Some(Secret::new(key.trim()));
        }
        s.database_read_url = lookup("DATABASE_READ_URL").map(Secret::new);
        if let Some(read) = &s.database_read_url {
            let primary_pg = s
                .database_url
                .as_ref()
                .is_some_and(|u| u.expose().starts_with("postgres"));
            if !primary_pg || !read.expose().starts_with("postgres") {
                return Err(ConfigError::Invalid {
                    name: "DATABASE_READ_URL",
                    value: "(hidden)".into(),
                    why: "a read replica needs a postgres:// URL, and DATABASE_URL a PostgreSQL primary",
                });
            }
        }
        s.redis_url = lookup("REDIS_URL").map(Secret::new);
        if let Some(tz) = lookup("IZGRAPH_TIMEZONE") {
            s.timezone = tz.parse().map_err(|_| ConfigError::Timezone(tz))?;
        }
        s.external_issuer = match (
            lookup("IZGRAPH_ISSUER"),
            lookup("IZGRAPH_AUDIENCE"),
            lookup("IZGRAPH_JWKS_URL"),
        ) {
            (None, None, None) => None,
            (Some(issuer), Some(audience), Some(jwks_url)) => {
                check_url("IZGRAPH_JWKS_URL", &jwks_url)?;
                let min_refresh_interval = match lookup("IZGRAPH_JWKS_MIN_REFRESH_SECONDS") {
                    None => DEFAULT_JWKS_MIN_REFRESH,
                    Some(v) => v
                        .parse()
                        .ok()
                        .filter(|n| (1..=86_400).contains(n))
                        .map(Duration::from_secs)
                        .ok_or(ConfigError::Invalid {
                            name: "IZGRAPH_JWKS_MIN_REFRESH_SECONDS",
                            value: v,
                            why: "expected 1 to 86400",
                        })?,
                };
                let mut external = ExternalIssuer {
                    min_refresh_interval,
                    ..ExternalIssuer::new(issuer, audience, jwks_url)
                };
                if let Some(n) = number(
                    &lookup,
                    "IZGRAPH_JWKS_REFRESH_SECONDS",
                    1..=86_400,
                    "expected 1 to 86400",
                )? {
                    external.refresh_interval = Duration::from_secs(n);
                }
                if external.refresh_interval < external.min_refresh_interval {
                    return Err(ConfigError::Invalid {
                        name: "IZGRAPH_JWKS_REFRESH_SECONDS",
                        value: external.refresh_interval.as_secs().to_string(),
                        why: "must be at least IZGRAPH_JWKS_MIN_REFRESH_SECONDS",
                    });
                }
                if let Some(v) = lookup("IZGRAPH_JWT_TYPES") {
                    external.token_types = v
                        .split(',')
                        .map(|t| t.trim().to_ascii_lowercase())
                        .filter(|t| !t.is_empty())
                        .collect();
                }
                if let Some(v) = lookup("IZGRAPH_ACCESS_TOKEN_CLAIM") {
                    external.access_claim = match v.split_once('=') {
                        Some((name, value)) if !name.trim().is_empty() && !value.is_empty() => {
                            Some((name.trim().to_owned(), value.to_owned()))
                        }
                        _ => {
                            return Err(ConfigError::Invalid {
                                name: "IZGRAPH_ACCESS_TOKEN_CLAIM",
                                value: v,
                                why: "expected claim=value, like token_use=access",
                            })
                        }
                    };
                }
                if external.token_types.is_empty() && external.access_claim.is_none() {
                    return Err(ConfigError::Invalid {
                        name: "IZGRAPH_JWT_TYPES",
                        value: String::new(),
                        why: "no way left to tell an access token: set a type or IZGRAPH_ACCESS_TOKEN_CLAIM",
                    });
                }
                Some(external)
            }
            _ => return Err(ConfigError::PartialIssuer),
        };
        let introspection = match (
            lookup("IZGRAPH_INTROSPECTION_URL"),
            lookup("IZGRAPH_INTROSPECTION_CLIENT_ID"),
            lookup("IZGRAPH_INTROSPECTION_CLIENT_SECRET"),
        ) {
            (None, None, None) => None,
            (Some(url), Some(client_id), Some(secret)) => {
                check_url("IZGRAPH_INTROSPECTION_URL", &url)?;
                Some(Introspection {
                    url,
                    client_id,
                    client_secret: Secret::new(secret),
                })
            }
            _ => return Err(ConfigError::PartialIntrospection),
        };
        match (&mut s.external_issuer, introspection) {
            (_, None) => {}
            (Some(issuer), introspection) => issuer.introspection = introspection,
            (None, Some(_)) => return Err(ConfigError::PartialIntrospection),
        }
        s.cache = cache_settings(&lookup)?;
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_FORECAST_CACHE_BYTES",
            0..=(1 << 40),
            "expected 0 to 1099511627776",
        )? {
            s.forecasts.max_bytes = n;
        }
        if let Some(n) = number(&lookup, "IZGRAPH_JOBS_WORKERS", 0..=64, "expected 0 to 64")? {
            s.jobs.workers = usize::try_from(n).unwrap_or(0);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_JOBS_LEASE_SECONDS",
            1..=3600,
            "expected 1 to 3600",
        )? {
            s.jobs.lease = Duration::from_secs(n);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_JOBS_SHARD_SIZE",
            1..=1_000_000,
            "expected 1 to 1000000",
        )? {
            s.jobs.shard_size = u32::try_from(n).unwrap_or(5000);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_REMINDER_INTERVAL_DAYS",
            0..=3650,
            "expected 0 to 3650",
        )? {
            s.jobs.frequency_cap_days = u32::try_from(n).unwrap_or(30);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_MAX_FORECAST_DATES",
            1..=366,
            "expected 1 to 366",
        )? {
            s.forecasts.max_dates_per_request = usize::try_from(n).unwrap_or(366);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_SHUTDOWN_DELAY_SECONDS",
            0..=300,
            "expected 0 to 300",
        )? {
            s.shutdown_delay = Duration::from_secs(n);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_SHUTDOWN_TIMEOUT_SECONDS",
            1..=3600,
            "expected 1 to 3600",
        )? {
            s.shutdown_timeout = Duration::from_secs(n);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_REPLICA_MAX_LAG_MS",
            100..=300_000,
            "expected 100 to 300000 (the read-your-writes pins last 300 s)",
        )? {
            s.replica_max_lag = Duration::from_millis(n);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_HEADER_TIMEOUT_SECONDS",
            1..=600,
            "expected 1 to 600",
        )? {
            s.connections.header_timeout = Duration::from_secs(n);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_BODY_TIMEOUT_SECONDS",
            1..=3600,
            "expected 1 to 3600",
        )? {
            s.connections.body_timeout = Duration::from_secs(n);
        }
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_MAX_CONNECTIONS",
            1..=1_000_000,
            "expected 1 to 1000000",
        )? {
            s.connections.max_connections = n as usize;
        }
        s.graphiql = boolean("IZGRAPH_GRAPHIQL", lookup("IZGRAPH_GRAPHIQL"))?;
        s.checkpoints.file = lookup("IZGRAPH_CHECKPOINT_FILE").map(PathBuf::from);
        s.checkpoints.key = lookup("IZGRAPH_CHECKPOINT_KEY").map(PathBuf::from);
        if let Some(n) = number(
            &lookup,
            "IZGRAPH_CHECKPOINT_INTERVAL_SECONDS",
            1..=86_400,
            "expected 1 to 86400",
        )? {
            s.checkpoints.interval = Duration::from_secs(n);
        }
        if let Some(v) = lookup("IZGRAPH_SEED_DEMO") {
            s.seed_demo = match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "IZGRAPH_SEED_DEMO",
                        value: v,
                        why: "expected true or false",
                    })
                }
            };
        }
        if let Some(j) = lookup("IZGRAPH_JURISDICTION") {
            s.jurisdiction = j.trim().to_owned();
        }
        s.requirements_file = lookup("IZGRAPH_REQUIREMENTS_FILE").map(PathBuf::from);
        if let Some(v) = lookup("IZGRAPH_REGISTRY_NAME") {
            s.records.registry_name = v.trim().to_owned();
        }
        if let Some(v) = lookup("IZGRAPH_CARD_ISSUER") {
            let v = v.trim().to_owned();
            if !v.starts_with("https://") || v.ends_with('/') {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_CARD_ISSUER",
                    value: v,
                    why: "a SMART Health Card issuer is an https:// URL without a trailing slash",
                });
            }
            s.records.card_issuer = v;
        }
        s.records.card_key = lookup("IZGRAPH_CARD_KEY").map(PathBuf::from);
        if let Some(v) = lookup("IZGRAPH_RECORD_ACR") {
            s.records.accepted_acr = v
                .split([' ', ','])
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = lookup("IZGRAPH_DB_MAX_CONNECTIONS") {
            s.max_connections =
                v.parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or(ConfigError::Invalid {
                        name: "IZGRAPH_DB_MAX_CONNECTIONS",
                        value: v,
                        why: "expected 1 to 1000",
                    })?;
        }
        let limit = |name: &'static str, max: usize, default: usize| match lookup(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or(ConfigError::Invalid {
                    name,
                    value: v,
                    why: "expected a positive whole number within the documented range",
                }),
        };
        s.limits.max_depth = limit("IZGRAPH_MAX_DEPTH", 1000, s.limits.max_depth)?;
        s.limits.max_complexity = limit(
            "IZGRAPH_MAX_COMPLEXITY",
            100_000_000,
            s.limits.max_complexity,
        )?;
        s.limits.max_aliases = limit("IZGRAPH_MAX_ALIASES", 100_000, s.limits.max_aliases)?;
        s.limits.max_root_fields =
            limit("IZGRAPH_MAX_ROOT_FIELDS", 100_000, s.limits.max_root_fields)?;
        s.max_body_bytes = limit("IZGRAPH_MAX_BODY_BYTES", 64 << 20, s.max_body_bytes)?;
        s.max_batch = limit("IZGRAPH_MAX_BATCH", 1000, s.max_batch)?;
        if let Some(v) = lookup("IZGRAPH_INTROSPECTION") {
            s.limits.introspection_roles = parse_roles(&v).ok_or(ConfigError::Invalid {
                name: "IZGRAPH_INTROSPECTION",
                value: v,
                why: "expected `all`, `none` or role names separated by spaces or commas",
            })?;
        }
        s.persisted = match (lookup("IZGRAPH_TRUSTED_DOCUMENTS"), lookup("IZGRAPH_APQ_CAPACITY")) {
            (Some(path), None) => PersistedDocuments::Trusted(PathBuf::from(path)),
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_APQ_CAPACITY",
                    value: "set".into(),
                    why: "automatic persisted queries are off with IZGRAPH_TRUSTED_DOCUMENTS; set one or the other",
                })
            }
            (None, None) => s.persisted,
            (None, Some(v)) => match v.parse::<usize>() {
                Ok(0) => PersistedDocuments::Off,
                Ok(capacity) if capacity <= 1_000_000 => {
                    PersistedDocuments::Automatic { capacity }
                }
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "IZGRAPH_APQ_CAPACITY",
                        value: v,
                        why: "expected 0 (off) to 1000000",
                    })
                }
            },
        };
        Ok(s)
    }

    /// The database URL in effect: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> Secret {
        self.database_url.clone().unwrap_or_else(|| {
            Secret::new(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("izgraph.db").display()
            ))
        })
    }

    /// Where access-log checkpoints are appended: `IZGRAPH_CHECKPOINT_FILE`, or
    /// `access-log-checkpoints.jsonl` in the data directory.
    pub fn checkpoint_file(&self) -> PathBuf {
        self.checkpoints
            .file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("access-log-checkpoints.jsonl"))
    }

    /// The key that signs SMART Health Cards: `IZGRAPH_CARD_KEY`, or `card-signing-key.pem`
    /// in the data directory (created on first use).
    pub fn card_key(&self) -> PathBuf {
        self.records
            .card_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("card-signing-key.pem"))
    }

    /// The key that signs checkpoints: `IZGRAPH_CHECKPOINT_KEY`, or
    /// `checkpoint-signing-key.pem` in the data directory (created on first use).
    pub fn checkpoint_key(&self) -> PathBuf {
        self.checkpoints
            .key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("checkpoint-signing-key.pem"))
    }

    /// The record cache this configuration asks for. `IZGRAPH_CACHE=redis` without
    /// `REDIS_URL` is refused at start-up rather than silently run uncached.
    pub fn cache_config(&self) -> Result<entities::CacheConfig, ConfigError> {
        use sha2::Digest;
        let mode = self.cache.mode.unwrap_or(if self.redis_url.is_some() {
            CacheMode::Redis
        } else {
            CacheMode::Memory
        });
        let backend = match (mode, &self.redis_url) {
            (CacheMode::None, _) => entities::CacheBackend::None,
            (CacheMode::Memory, _) => entities::CacheBackend::Memory,
            (CacheMode::Redis, Some(url)) => entities::CacheBackend::Redis {
                url: url.expose().to_owned(),
            },
            (CacheMode::Redis, None) => {
                return Err(ConfigError::Invalid {
                    name: "IZGRAPH_CACHE",
                    value: "redis".into(),
                    why: "REDIS_URL is not set",
                })
            }
        };
        let namespace = self.cache.namespace.clone().unwrap_or_else(|| {
            let digest = sha2::Sha256::digest(self.effective_database_url().expose().as_bytes());
            hex::encode(&digest[..8])
        });
        let keys = match (&backend, &self.cache.key) {
            (entities::CacheBackend::Redis { .. }, Some(key)) => Some(key.clone()),
            (entities::CacheBackend::Redis { .. }, None) => Some(key_file(&self.data_dir)?),
            _ => None,
        }
        .map(|current| entities::cache::CacheKeys {
            current,
            previous: self.cache.previous_keys.clone(),
        });
        let tls_ca = match &self.cache.redis_ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| ConfigError::RedisCaFile {
                    path: path.display().to_string(),
                    why: e.to_string(),
                })?;
                if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                    return Err(ConfigError::RedisCaFile {
                        path: path.display().to_string(),
                        why: "no PEM certificate in it".into(),
                    });
                }
                Some(pem)
            }
            None => None,
        };
        Ok(entities::CacheConfig {
            backend,
            ttl: self.cache.ttl,
            memory_capacity: self.cache.capacity,
            near_cache: self.cache.near_cache,
            timeout: self.cache.timeout,
            namespace,
            keys,
            tls_ca,
        })
    }

    /// Whether GraphiQL is served: as configured, else only with the dev issuer (a
    /// production deployment with an external issuer does not serve a browser IDE unasked).
    pub fn graphiql(&self) -> bool {
        self.graphiql.unwrap_or(self.external_issuer.is_none())
    }

    /// The registry's calendar date now.
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn no_configuration_means_the_embedded_default() {
        let s = settings(&[]).expect("defaults");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert!(s
            .effective_database_url()
            .expose()
            .starts_with("sqlite://./.izgraph/"));
        assert_eq!(s.timezone, chrono_tz::America::Chicago);
        assert!(s.external_issuer.is_none());
    }

    #[test]
    fn a_partial_issuer_configuration_is_refused() {
        assert!(matches!(
            settings(&[("IZGRAPH_ISSUER", "https://id.example")]),
            Err(ConfigError::PartialIssuer)
        ));
    }

    #[test]
    fn an_issuer_needs_an_https_or_loopback_jwks_url() {
        let with = |url: &str| {
            settings(&[
                ("IZGRAPH_ISSUER", "https://id.example"),
                ("IZGRAPH_AUDIENCE", "izgraph"),
                ("IZGRAPH_JWKS_URL", url),
            ])
        };
        let ok = with("https://id.example/jwks").expect("https");
        let issuer = ok.external_issuer.expect("issuer");
        assert_eq!(issuer.min_refresh_interval, DEFAULT_JWKS_MIN_REFRESH);
        assert!(with("http://127.0.0.1:9000/jwks").is_ok());
        assert!(with("http://[::1]:9000/jwks").is_ok());
        let err = with("http://id.example/jwks").expect_err("clear text");
        assert!(err.to_string().contains("IZGRAPH_JWKS_URL"), "{err}");
        assert!(with("not a url").is_err());
    }

    #[test]
    fn introspection_needs_all_its_variables_and_an_issuer() {
        let issuer = [
            ("IZGRAPH_ISSUER", "https://id.example"),
            ("IZGRAPH_AUDIENCE", "izgraph"),
            ("IZGRAPH_JWKS_URL", "https://id.example/jwks"),
        ];
        let introspection = [
            ("IZGRAPH_INTROSPECTION_URL", "https://id.example/introspect"),
            ("IZGRAPH_INTROSPECTION_CLIENT_ID", "izgraph"),
            ("IZGRAPH_INTROSPECTION_CLIENT_SECRET", "s3cret-value"),
        ];
        let both: Vec<_> = issuer.iter().chain(&introspection).copied().collect();
        let s = settings(&both).expect("ok");
        assert!(!format!("{s:?}").contains("s3cret-value"));
        let i = s
            .external_issuer
            .and_then(|i| i.introspection)
            .expect("set");
        assert_eq!(i.client_secret.expose(), "s3cret-value");
        assert!(matches!(
            settings(&introspection),
            Err(ConfigError::PartialIntrospection)
        ));
        assert!(matches!(
            settings(&both[..4]),
            Err(ConfigError::PartialIntrospection)
        ));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = settings(&[("IZGRAPH_TIMEZONE", "Mars/Olympus")]).expect_err("bad tz");
        assert!(err.to_string().contains("IZGRAPH_TIMEZONE"));
    }

    #[test]
    fn operation_limits_and_persisted_documents_are_configurable() {
        let s = settings(&[
            ("IZGRAPH_MAX_DEPTH", "5"),
            ("IZGRAPH_MAX_BATCH", "3"),
            ("IZGRAPH_INTROSPECTION", "registry_admin, auditor"),
            ("IZGRAPH_APQ_CAPACITY", "0"),
        ])
        .expect("ok");
        assert_eq!(s.limits.max_depth, 5);
        assert_eq!(s.max_batch, 3);
        assert_eq!(
            s.limits.introspection_roles,
            vec![policies::Role::RegistryAdmin, policies::Role::Auditor]
        );
        assert_eq!(s.persisted, PersistedDocuments::Off);
        assert!(settings(&[("IZGRAPH_MAX_DEPTH", "0")]).is_err());
        assert!(settings(&[("IZGRAPH_INTROSPECTION", "wizard")]).is_err());
        assert!(settings(&[
            ("IZGRAPH_TRUSTED_DOCUMENTS", "/x.json"),
            ("IZGRAPH_APQ_CAPACITY", "10")
        ])
        .is_err());
        let none = settings(&[("IZGRAPH_INTROSPECTION", "none")]).expect("ok");
        assert!(none.limits.introspection_roles.is_empty());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = settings(&[("DATABASE_URL", "postgres://u:hunter2@h/db")]).expect("ok");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn edge_settings_are_read_and_bounded() {
        let s = settings(&[]).expect("defaults");
        assert!(s.graphiql(), "GraphiQL on with the dev issuer");
        assert_eq!(s.connections, ConnectionLimits::default());
        let issuer = [
            ("IZGRAPH_ISSUER", "https://id.example"),
            ("IZGRAPH_AUDIENCE", "izgraph"),
            ("IZGRAPH_JWKS_URL", "https://id.example/jwks"),
        ];
        let external = settings(&issuer).expect("issuer");
        assert!(
            !external.graphiql(),
            "off by default with an external issuer"
        );
        let e = external.external_issuer.expect("issuer");
        assert_eq!(e.token_types, ["at+jwt", "application/at+jwt"]);
        assert_eq!(e.refresh_interval, DEFAULT_JWKS_REFRESH);
        let mut vars = issuer.to_vec();
        vars.extend([
            ("IZGRAPH_JWKS_REFRESH_SECONDS", "60"),
            ("IZGRAPH_ACCESS_TOKEN_CLAIM", "token_use=access"),
            ("IZGRAPH_GRAPHIQL", "true"),
            ("IZGRAPH_HEADER_TIMEOUT_SECONDS", "5"),
            ("IZGRAPH_BODY_TIMEOUT_SECONDS", "6"),
            ("IZGRAPH_MAX_CONNECTIONS", "100"),
            ("IZGRAPH_REPLICA_MAX_LAG_MS", "2000"),
        ]);
        let s = settings(&vars).expect("all set");
        assert!(s.graphiql());
        assert_eq!(s.connections.header_timeout, Duration::from_secs(5));
        assert_eq!(s.connections.body_timeout, Duration::from_secs(6));
        assert_eq!(s.connections.max_connections, 100);
        assert_eq!(s.replica_max_lag, Duration::from_millis(2000));
        let e = s.external_issuer.expect("issuer");
        assert_eq!(e.refresh_interval, Duration::from_secs(60));
        assert_eq!(e.access_claim, Some(("token_use".into(), "access".into())));
        for bad in [
            ("IZGRAPH_JWKS_REFRESH_SECONDS", "10"),
            ("IZGRAPH_ACCESS_TOKEN_CLAIM", "token_use"),
            ("IZGRAPH_JWT_TYPES", ","),
            ("IZGRAPH_MAX_CONNECTIONS", "0"),
            ("IZGRAPH_REPLICA_MAX_LAG_MS", "600000"),
            ("IZGRAPH_GRAPHIQL", "maybe"),
        ] {
            let mut vars = issuer.to_vec();
            vars.push(bad);
            assert!(settings(&vars).is_err(), "{bad:?}");
        }
    }
}

/// The official immunization record and its SMART Health Card.
#[derive(Debug, Clone)]
pub struct RecordSettings {
    /// Printed on the record as its issuer (`IZGRAPH_REGISTRY_NAME`).
    pub registry_name: String,
    /// The cards' `iss` (`IZGRAPH_CARD_ISSUER`): verifiers fetch
    /// `<iss>/.well-known/jwks.json`, so it is the registry's public https origin.
    pub card_issuer: String,
    /// The P-256 key cards are signed with (`IZGRAPH_CARD_KEY`).
    pub card_key: Option<PathBuf>,
    /// `acr` values a guardian's or individual's token must carry to download a record
    /// (`IZGRAPH_RECORD_ACR`): identity proofed at NIST 800-63 IAL2 or above.
    pub accepted_acr: Vec<String>,
}

impl Default for RecordSettings {
    fn default() -> Self {
        RecordSettings {
            registry_name: "izgraph Immunization Registry".into(),
            card_issuer: "https://izgraph.localhost".into(),
            card_key: None,
            accepted_acr: [
                "IAL2",
                "IAL3",
                "http://idmanagement.gov/ns/assurance/ial/2",
                "http://idmanagement.gov/ns/assurance/ial/3",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}
