//! Building and running the server: what `izgraph serve` does and what tests spawn.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use entities::seed::SeedOptions;
use entities::{Store, StoreError};
use schema::IzSchema;
use tokio::net::TcpListener;

use crate::auth::jwks::JwksError;
use crate::auth::Authenticator;
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
}

/// A configured, bound, not yet serving gateway.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

/// Connects to the configured database and applies migrations.
pub async fn open_store(settings: &Settings) -> Result<Store, StartError> {
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartError::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
    }
    let store = Store::connect(
        settings.effective_database_url().expose(),
        settings.max_connections,
    )
    .await?;
    store.migrate().await?;
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
        let cache = entities::RecordCache::new(settings.cache_config()?).await;
        let store = open_store(&settings).await?.with_cache(cache);
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
        // Spans first, so a limit's refusal shows inside the phase that made it.
        let schema = schema::build()
            .extension(schema::Spans)
            .extension(settings.limits.clone())
            .data(store.clone())
            .data(requirements)
            .finish();
        Ok(Application {
            listener,
            state: AppState {
                schema,
                store,
                auth: Arc::new(auth),
                settings: Arc::new(settings),
                metrics: Arc::new(Metrics::new()),
                persisted: Arc::new(persisted),
            },
        })
    }

    /// The address actually bound (port 0 resolved).
    pub fn address(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The dev signing key; with an external issuer, an in-memory key nothing trusts.
    pub fn keys(&self) -> &DevKeys {
        self.state.auth.keys()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = crate::http::router(self.state);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    }
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
