//! The running service's shared state and its start-up: storage, files, CA, time-stamping,
//! SMS gateway, clock, and the signals between handlers and background loops.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::ca::{Ca, CaError, CaOrigin};
use crate::clock::{AdjustableClock, Clock, SystemClock};
use crate::config::Config;
use crate::error::ApiError;
use crate::pades::Timestamper;
use crate::sms::{FileOutbox, SmsGateway, OUTBOX_FILE};
use crate::store::files::Files;
use crate::store::sqlite::DB_FILE;
use crate::store::{SqliteStore, Store, StoreError};
use crate::timestamping::{EmbeddedTsa, ExternalTsa, TimestampingError};

/// Shared state of handlers and background loops.
pub type State = Arc<Service>;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database or the file layout failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CA failed.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// The time-stamping side failed.
    #[error(transparent)]
    Timestamping(#[from] TimestampingError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The service.
pub struct Service {
    /// Configuration.
    pub config: Config,
    /// Records.
    pub store: Arc<dyn Store>,
    /// Files of the data directory.
    pub files: Files,
    /// The CA.
    pub ca: Arc<Ca>,
    /// The SMS gateway.
    pub sms: Arc<dyn SmsGateway>,
    /// The clock every rule uses.
    pub clock: Arc<dyn Clock>,
    /// The same clock when it can be moved (`--test-hooks`).
    pub test_clock: Option<Arc<AdjustableClock>>,
    /// Time-stamps for B-T.
    pub timestamper: Arc<dyn Timestamper + Send + Sync>,
    /// The embedded time-stamp unit, when used.
    pub embedded_tsa: Option<Arc<EmbeddedTsa>>,
    /// Rung when an action is created or changes (wakes long polls).
    pub changes: Notify,
    /// Rung when finalizations should be retried now.
    pub finalize_kick: Notify,
    /// Actions being finalized by this process right now.
    pub finalizing: Mutex<HashSet<String>>,
    /// HTTP client for webhooks.
    pub http: reqwest::Client,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Opens everything under `config.data_dir`, creating the database, the CA and the dev
    /// keys on first start. Must run inside a Tokio runtime.
    ///
    /// # Errors
    /// [`StartError`].
    pub fn open(config: Config) -> Result<State, StartError> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir).map_err(|source| StartError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let store = SqliteStore::open(&dir.join(DB_FILE))?;
        let files = Files::open(dir)?;
        let (ca, origin) = Ca::load_or_create(dir)?;
        if origin == CaOrigin::Created {
            tracing::info!(root = %ca.root_path.display(), "created the development CA");
        }
        let (timestamper, embedded_tsa): (Arc<dyn Timestamper + Send + Sync>, _) =
            match &config.tsa_url {
                Some(url) => (Arc::new(ExternalTsa::new(url)?), None),
                None => {
                    let tsa = Arc::new(EmbeddedTsa::open(&ca, &dir.join("tsa").join("tokens.db"))?);
                    (tsa.clone(), Some(tsa))
                }
            };
        let test_clock = config.test_hooks.then(AdjustableClock::system);
        let clock: Arc<dyn Clock> = match &test_clock {
            Some(c) => c.clone(),
            None => Arc::new(SystemClock),
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Ok(Arc::new(Self {
            sms: Arc::new(FileOutbox::new(&dir.join(OUTBOX_FILE))),
            store: Arc::new(store),
            files,
            ca: Arc::new(ca),
            clock,
            test_clock,
            timestamper,
            embedded_tsa,
            changes: Notify::new(),
            finalize_kick: Notify::new(),
            finalizing: Mutex::new(HashSet::new()),
            http,
            config,
        }))
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Runs a store call on the blocking pool.
    ///
    /// # Errors
    /// The store's error as an internal [`ApiError`].
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || f(&*store)).await??)
    }

    /// Wakes long polls and the background loops after a change.
    pub fn changed(&self) {
        self.changes.notify_waiters();
    }

    /// Flushes what must be flushed before exit.
    pub fn close(&self) {
        if let Some(tsa) = &self.embedded_tsa {
            tsa.close();
        }
    }
}
