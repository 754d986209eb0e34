//! Building and running the server: what `izgraph serve` does and what tests spawn.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode, Version};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use entities::seed::SeedOptions;
use entities::{Store, StoreError};
use schema::IzSchema;
use serde_json::json;
use tokio::net::TcpListener;

use crate::auth::jwks::JwksError;
use crate::auth::Authenticator;
use crate::checkpoints::Publisher;
use crate::config::{PersistedDocuments, Settings};
use crate::http::persisted::{BoundedDocuments, ManifestError, Persisted, TrustedDocuments};
use crate::keys::{DevKeys, KeyError};
use crate::metrics::Metrics;

/// Persons seeded into an empty embedded database on first start.
pub const DEMO_PERSONS: u64 = 400;
/// The seed of the demo data, so every fresh clone shows the same records.
pub const DEMO_SEED: u64 = 2026;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the forecasting schedule is invalid: {0}")]
    Schedule(String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("external issuer: {0}")]
    ExternalIssuer(#[from] JwksError),
    #[error("school requirements: {0}")]
    Requirements(#[from] crate::school::RequirementsLoadError),
    #[error(transparent)]
    TrustedDocuments(#[from] ManifestError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("access log checkpoints: {0}")]
    Checkpoints(#[from] crate::checkpoints::CheckpointError),
    #[error(transparent)]
    Cache(#[from] entities::cache::CacheStartError),
}

/// Shared by every request handler.
#[derive(Clone)]
pub struct AppState {
    pub schema: IzSchema,
    pub store: Store,
    pub auth: Arc<Authenticator>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    pub persisted: Arc<Persisted>,
    /// Forecasts kept across requests, bounded in bytes (`IZGRAPH_FORECAST_CACHE_BYTES`).
    pub forecasts: schema::ForecastCache,
    /// Parsed documents by text (see [`crate::http::documents`]).
    pub documents: crate::http::documents::Documents,
    /// Signs the SMART Health Cards of official records (public key in `/.well-known/jwks.json`).
    pub card_issuer: Arc<record::shc::Issuer>,
    /// Verified SOAP credentials of HL7 senders, remembered briefly.
    pub hl7_credentials: Arc<crate::hl7::credentials::Credentials>,
}

/// A configured, bound, not yet serving gateway.
pub struct Application {
    listener: TcpListener,
    /// `/metrics` alone, when `IZGRAPH_METRICS_LISTEN` is set.
    metrics_listener: Option<TcpListener>,
    /// HL7 over MLLP, when `IZGRAPH_MLLP_LISTEN` is set, with the client it acts as.
    mllp_listener: Option<(TcpListener, uuid::Uuid)>,
    state: AppState,
    checkpoints: Publisher,
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Connects to the configured database and applies migrations.
pub async fn open_store(settings: &Settings) -> Result<Store, StartError> {
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartError::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
    }
    let mut store = Store::connect(
        settings.effective_database_url().expose(),
        settings.max_connections,
    )
    .await?;
    store.migrate().await?;
    if let Some(read) = &settings.database_read_url {
        store = store
            .with_read_replica(
                read.expose(),
                settings.max_connections,
                settings.replica_max_lag,
            )
            .await?;
    }
    Ok(store)
}

impl Application {
    /// Connects, migrates, seeds demo data into an empty database (when enabled), loads the
    /// dev key or the external issuer's JWKS, and binds the listener.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        // The forecasting schedule is parsed and validated once, before anything is served.
        let schedule =
            forecast::Schedule::embedded().map_err(|e| StartError::Schedule(e.to_string()))?;
        let requirements = Arc::new(crate::school::load_requirements(&settings, schedule)?);
        let cache = entities::RecordCache::new(settings.cache_config()?).await?;
        let cursor_key = crate::keys::cursor_key(
            settings.cursor_key.as_ref().map(|k| k.expose()),
            &settings.data_dir,
        )?;
        let store = open_store(&settings)
            .await?
            .with_cache(cache)
            .with_cursor_key(cursor_key);
        if settings.seed_demo && store.is_empty().await? {
            store
                .seed(
                    SeedOptions {
                        persons: DEMO_PERSONS,
                        seed: DEMO_SEED,
                        today: settings.today(),
                    },
                    |_| {},
                )
                .await?;
        }
        let auth = match &settings.external_issuer {
            None => Authenticator::dev(DevKeys::load_or_create(&settings.data_dir)?),
            Some(issuer) => Authenticator::external(issuer).await?,
        };
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let persisted = match &settings.persisted {
            PersistedDocuments::Automatic { capacity } => {
                Persisted::Automatic(Arc::new(BoundedDocuments::new(*capacity)))
            }
            PersistedDocuments::Trusted(path) => {
                Persisted::Trusted(Arc::new(TrustedDocuments::load(path)?))
            }
            PersistedDocuments::Off => Persisted::Off,
        };
        let checkpoints = Publisher::new(
            store.clone(),
            &settings.checkpoint_key(),
            settings.checkpoint_file(),
        )?;
        let forecasts = schema::ForecastCache::new(settings.forecasts);
        let card_issuer = Arc::new(crate::keys::card_issuer(
            &settings.card_key(),
            &settings.records.card_issuer,
        )?);
        let metrics_listener = match settings.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let mllp_listener = match settings.mllp {
            Some((addr, client)) => Some((
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
                client,
            )),
            None => None,
        };
        let mut known_operations = settings.metrics_operations.clone();
        if let Persisted::Trusted(documents) = &persisted {
            known_operations.extend(documents.operation_names());
        }
        // Spans first, so a limit's refusal shows inside the phase that made it.
        let schema = schema::build()
            .extension(schema::Spans)
            .extension(settings.limits.clone())
            .data(store.clone())
            .data(requirements)
            .data(settings.jobs.clone())
            .finish();
        Ok(Application {
            listener,
            metrics_listener,
            state: AppState {
                schema,
                store,
                auth: Arc::new(auth),
                settings: Arc::new(settings),
                metrics: Arc::new(Metrics::with_operations(known_operations)),
                persisted: Arc::new(persisted),
                forecasts,
                documents: Default::default(),
                card_issuer,
                hl7_credentials: Arc::new(crate::hl7::credentials::Credentials::new()),
            },
            mllp_listener,
            checkpoints,
        })
    }

    /// The address actually bound (port 0 resolved).
    pub fn address(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The separate metrics listener's address, when `IZGRAPH_METRICS_LISTEN` is set.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// What every request handler shares (for commands that process messages in-process,
    /// like `izgraph import hl7`).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The MLLP listener's address, when `IZGRAPH_MLLP_LISTEN` is set.
    pub fn mllp_address(&self) -> Option<SocketAddr> {
        self.mllp_listener
            .as_ref()
            .and_then(|(l, _)| l.local_addr().ok())
    }

    /// The dev signing key; with an external issuer, an in-memory key nothing trusts.
    pub fn keys(&self) -> &DevKeys {
        self.state.auth.keys()
    }

    /// Serves until `shutdown` resolves, then drains: for `IZGRAPH_SHUTDOWN_DELAY_SECONDS`
    /// `/readyz` answers 503 while requests are still served (a load balancer polling it stops
    /// sending here before the port closes), then the listener closes and in-flight requests
    /// get up to `IZGRAPH_SHUTDOWN_TIMEOUT_SECONDS` to finish. Past that deadline the
    /// remaining connections are abandoned and an error is returned, so the exit status says
    /// that requests were cut off.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let delay = self.state.settings.shutdown_delay;
        let timeout = self.state.settings.shutdown_timeout;
        let Application {
            listener,
            state,
            checkpoints: publisher,
            metrics_listener,
            mllp_listener,
        } = self;
        let _mllp = mllp_listener.map(|(listener, client)| {
            AbortOnDrop(tokio::spawn(crate::hl7::mllp::serve(
                listener,
                state.clone(),
                client,
            )))
        });
        // `/metrics` on its own listener; ends with this function (aborted when dropped).
        let _metrics = metrics_listener.map(|listener| {
            let router = crate::http::metrics_router(state.clone());
            AbortOnDrop(tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            }))
        });
        // This instance's share of the population jobs; ends with this function.
        let _jobs = (state.settings.jobs.workers > 0).then(|| {
            AbortOnDrop(tokio::spawn(schema::population::run_workers(
                state.store.clone(),
                state.settings.jobs.clone(),
            )))
        });
        let periodic = tokio::spawn(
            publisher
                .clone()
                .run_every(state.settings.checkpoints.interval),
        );
        let served = serve(listener, state, shutdown, delay, timeout).await;
        periodic.abort();
        // The head as the drained gateway leaves it: the last entries are covered too.
        if let Err(e) = publisher.publish().await {
            tracing::error!(error = %e, "access log checkpoint not published at shutdown");
        }
        served
    }
}

/// Serves until `shutdown`, then drains (see [`Application::run_until`]).
async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    delay: std::time::Duration,
    timeout: std::time::Duration,
) -> std::io::Result<()> {
    let draining = Draining::default();
    let limits = state.settings.connections;
    let router = crate::http::router(state)
        .layer(axum::middleware::from_fn_with_state(
            limits.body_timeout,
            crate::serve::body_deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            draining.clone(),
            while_draining,
        ));
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    let stop_accepting = async move {
        shutdown.await;
        draining.start();
        tracing::info!(
            delay_seconds = delay.as_secs(),
            "shutting down: /readyz reports draining, requests still served"
        );
        tokio::time::sleep(delay).await;
        tracing::info!(
            timeout_seconds = timeout.as_secs(),
            "listener closed: waiting for in-flight requests"
        );
        let _ = closed_tx.send(());
    };
    let serve = crate::serve::serve(listener, router, limits, stop_accepting);
    let deadline = async move {
        match closed_rx.await {
            Ok(()) => tokio::time::sleep(timeout).await,
            // The server ended without being told to stop: it has its own answer.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = serve => served,
        () = deadline => {
            tracing::warn!(
                timeout_seconds = timeout.as_secs(),
                "drain deadline passed with requests still in flight: closing them"
            );
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "requests still in flight {}s after the listener closed \
                     (IZGRAPH_SHUTDOWN_TIMEOUT_SECONDS)",
                    timeout.as_secs()
                ),
            ))
        }
    }
}

/// Set once shutdown begins; read by every request while the delay runs.
#[derive(Clone, Default)]
struct Draining(Arc<AtomicBool>);

impl Draining {
    fn start(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn started(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// While draining, readiness fails (whatever the database says) and HTTP/1 responses carry
/// `Connection: close`, so a client or proxy holding a keep-alive connection reconnects —
/// to another instance — instead of racing the close of an idle connection later.
async fn while_draining(
    State(draining): State<Draining>,
    request: Request,
    next: Next,
) -> Response {
    if !draining.started() {
        return next.run(request).await;
    }
    let http1 = request.version() < Version::HTTP_2;
    let mut response = if request.uri().path() == "/readyz" {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        )
            .into_response()
    } else {
        next.run(request).await
    };
    if http1 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
