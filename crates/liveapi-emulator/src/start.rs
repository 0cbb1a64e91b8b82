//! Starting an emulator: checking the configuration, reading the state file, opening the
//! socket and spawning the server; and how that can fail.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::books::donate::Donate;
use crate::books::ledger::{Ledger, Retention};
use crate::faults::FaultInjector;
use crate::http::connections::{self, ConnectionLimits, Connections};
use crate::http::request_log::RequestLog;
use crate::persistence::{self, Books, Layout, Store};
use crate::shared::{Limits, LinkvEntry, PolyvEntry, Shared};
use crate::vendors::rate_limit::RateLimiter;
use crate::{EmulatorBuilder, EmulatorClock, FaultsError, LinkvApp, PolyvApp, RunningEmulator};

impl EmulatorBuilder {
    /// Starts the emulator on the current tokio runtime and returns once it accepts
    /// connections.
    ///
    /// # Errors
    /// [`StartError::Config`] for an unusable configuration (duplicate apps, bad faults),
    /// [`StartError::StateFile`] if the state file exists but cannot be read,
    /// [`StartError::Bind`] if the address cannot be listened on.
    pub async fn start(self) -> Result<RunningEmulator, StartError> {
        let (linkv_apps, polyv_apps) = self.apps()?;
        // `apps` refuses a configuration without an app of each vendor.
        let (Some(linkv_app), Some(polyv_app)) =
            (linkv_apps.first().cloned(), polyv_apps.first().cloned())
        else {
            return Err(StartError::Config("no apps".into()));
        };
        self.faults
            .validate()
            .map_err(|e| StartError::Config(e.to_string()))?;
        let conns = Arc::new(Connections::new(self.connection_limits()?));
        let retention = Retention {
            idempotency_window_ms: u64::try_from(self.idempotency_window.as_millis())
                .unwrap_or(u64::MAX),
            idempotency_capacity: self.idempotency_capacity,
            journal_capacity: self.journal_capacity,
        };

        let layout = Layout {
            linkv: &linkv_apps,
            polyv: &polyv_apps,
            seed: self.seed,
            retention,
            compact_after: self.state_compact_after,
        };
        let (store, mut books) = match &self.state_file {
            Some(path) => {
                let path = path.clone();
                // Reading and replaying is blocking IO: off the runtime's threads.
                let opened = {
                    let (linkv, polyv) = (linkv_apps.clone(), polyv_apps.clone());
                    let (seed, compact_after) = (self.seed, self.state_compact_after);
                    tokio::task::spawn_blocking(move || {
                        persistence::open(
                            &path,
                            &Layout {
                                linkv: &linkv,
                                polyv: &polyv,
                                seed,
                                retention,
                                compact_after,
                            },
                        )
                    })
                    .await
                    .map_err(io::Error::other)
                    .and_then(|opened| opened)
                };
                let (store, books) = opened.map_err(|source| StartError::StateFile {
                    path: self.state_file.clone().unwrap_or_default(),
                    source,
                })?;
                (Some(Arc::new(store)), books)
            }
            None => (None, Books::fresh(&layout)),
        };

        let clock = EmulatorClock::new(self.clock);
        if let Some(mode) = books.clock {
            clock.restore(mode);
        }
        let faults = match books.faults.take() {
            Some(setting) => {
                setting
                    .faults
                    .validate()
                    .map_err(|e| StartError::Config(format!("stored faults: {e}")))?;
                FaultInjector::new(setting.faults, setting.seed)
            }
            None => FaultInjector::new(self.faults, self.seed),
        };
        let mut linkv = HashMap::new();
        let mut last_seq = 0;
        for app in &linkv_apps {
            let ledger = books
                .ledgers
                .remove(&app.app_key)
                .unwrap_or_else(|| Ledger::new(&app.app_key, self.seed, retention));
            last_seq = last_seq.max(ledger.last_seq());
            linkv.insert(
                app.app_key.clone(),
                LinkvEntry {
                    app: app.clone(),
                    ledger: Mutex::new(ledger),
                },
            );
        }
        let mut polyv = HashMap::new();
        for app in &polyv_apps {
            let donate = books
                .donates
                .remove(&app.app_id)
                .unwrap_or_else(|| Donate::new(app.channels.iter().copied()));
            polyv.insert(
                app.app_id.clone(),
                PolyvEntry {
                    app: app.clone(),
                    donate: Mutex::new(donate),
                },
            );
        }

        let listener = TcpListener::bind(self.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.listen,
            source,
        })?;

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            limits: Limits {
                body_limit: self.body_limit,
                linkv_nonce_window: self.linkv_nonce_window,
                polyv_timestamp_window: self.polyv_timestamp_window,
                linkv_answers: self.linkv_answers,
            },
            clock,
            faults,
            log: RequestLog::new(self.request_log_capacity),
            limiter: RateLimiter::new(self.rate_limit),
            linkv,
            polyv,
            journal_seq: AtomicU64::new(last_seq),
            store,
            settings: Mutex::new(()),
            shutdown: shutdown_rx.clone(),
        });
        if let Some(store) = &shared.store {
            let store = Arc::clone(store);
            shared
                .clock
                .observe(Box::new(move |mode| store.clock_changed(mode)));
        }
        Store::start(&shared).map_err(|source| StartError::StateFile {
            path: self.state_file.clone().unwrap_or_default(),
            source,
        })?;
        let server = tokio::spawn(crate::http::server::serve(
            listener,
            Arc::clone(&shared),
            Arc::clone(&conns),
            shutdown_rx.clone(),
        ));
        Ok(RunningEmulator {
            addr,
            shared,
            conns,
            linkv_app,
            linkv_apps,
            polyv_app,
            polyv_apps,
            shutdown: shutdown_tx,
            server: Some(server),
        })
    }

    fn connection_limits(&self) -> Result<ConnectionLimits, StartError> {
        let limits = ConnectionLimits {
            header_read_timeout: self.header_read_timeout,
            body_read_timeout: self.body_read_timeout,
            keep_alive_timeout: self.keep_alive_timeout,
            max_connections: self
                .max_connections
                .unwrap_or_else(connections::default_max_connections),
        };
        limits.validate().map_err(StartError::Config)?;
        Ok(limits)
    }

    fn apps(&self) -> Result<(Vec<LinkvApp>, Vec<PolyvApp>), StartError> {
        let mut linkv = self.linkv_apps.clone();
        let mut polyv = self.polyv_apps.clone();
        if self.demo_apps {
            let demo = LinkvApp::demo();
            if !linkv.iter().any(|a| a.app_key == demo.app_key) {
                linkv.insert(0, demo);
            }
            let demo = PolyvApp::demo();
            if !polyv.iter().any(|a| a.app_id == demo.app_id) {
                polyv.insert(0, demo);
            }
        }
        let config = |m: String| Err(StartError::Config(m));
        if linkv.is_empty() || polyv.is_empty() {
            return config("at least one LinkV app and one Polyv account are needed".into());
        }
        let mut keys = HashSet::new();
        for app in &linkv {
            if app.app_key.is_empty() || app.app_secret.is_empty() {
                return config("a LinkV app has an empty app_key or app_secret".into());
            }
            if !keys.insert(app.app_key.as_str()) {
                return config(format!(
                    "LinkV app_key `{}` is configured twice",
                    app.app_key
                ));
            }
        }
        let mut ids = HashSet::new();
        for app in &polyv {
            if app.app_id.is_empty() || app.secret.is_empty() {
                return config("a Polyv account has an empty appId or secret".into());
            }
            if !ids.insert(app.app_id.as_str()) {
                return config(format!("Polyv appId `{}` is configured twice", app.app_id));
            }
            if app.channels.contains(&0) {
                return config(format!("Polyv appId `{}` has channel 0", app.app_id));
            }
        }
        Ok((linkv, polyv))
    }
}

/// An emulator could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration cannot work.
    Config(String),
    /// The state file exists but cannot be read or is not a state file, or its log is damaged
    /// anywhere but in a torn last record (the message names the file and the byte offset).
    /// Nothing is loaded in part.
    StateFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The listening socket could not be opened.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(why) => write!(f, "invalid emulator configuration: {why}"),
            Self::StateFile { path, source } => {
                write!(f, "cannot read state file {}: {source}", path.display())
            }
            Self::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(_) => None,
            Self::StateFile { source, .. } | Self::Bind { source, .. } => Some(source),
        }
    }
}

impl From<FaultsError> for StartError {
    fn from(e: FaultsError) -> Self {
        Self::Config(e.to_string())
    }
}
