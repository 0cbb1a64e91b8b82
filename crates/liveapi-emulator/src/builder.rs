//! Configuring and starting an emulator, and the handle to a running one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveapi_model::polyv::{DonateSettings, PolyvResponse};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::books::donate::Donate;
use crate::books::ledger::{Ledger, Retention};
use crate::faults::FaultInjector;
use crate::http::connections::{
    self, ConnectionLimits, ConnectionStats, Connections, DEFAULT_BODY_READ_TIMEOUT,
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT,
};
use crate::http::reply::LinkvAnswers;
use crate::http::request_log::RequestLog;
use crate::persistence::store::{self, Books, Layout, Store};
use crate::shared::{Limits, LinkvEntry, PolyvEntry, Shared, lock};
use crate::vendors::rate_limit::RateLimiter;
use crate::{
    AppliedChange, ClockStart, EmulatorClock, FaultStats, Faults, FaultsError, IpRateLimit,
    LinkvApp, PolyvApp, RequestRecord,
};

/// Where an emulator listens unless told otherwise: a free port on the IPv4 loopback.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
/// The largest request body accepted by default (1 MiB); larger ones get HTTP 413.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// How long a `request_id` is remembered by default: 24 hours of emulator time.
pub const DEFAULT_IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 3_600);
/// How many `request_id`s an app remembers at most by default, however recent.
pub const DEFAULT_IDEMPOTENCY_CAPACITY: usize = 1_000_000;
/// How many applied changes an app's journal keeps by default.
pub const DEFAULT_JOURNAL_CAPACITY: usize = 100_000;
/// How many requests the request log keeps by default.
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 1_000;

/// The LinkV and Polyv emulator. Start one with [`Emulator::builder`] (or [`Emulator::start`]
/// for the defaults).
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, the demo apps, no faults, seed 0, the
    /// system clock, Polyv's rate limit, a 1 MiB body limit, no state file, 10-second header
    /// and body read timeouts, a 60-second keep-alive timeout, and a cap of 1024 open
    /// connections (fewer under a lower file limit).
    #[must_use]
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts an emulator with the defaults.
    ///
    /// # Errors
    /// See [`EmulatorBuilder::start`].
    pub async fn start() -> Result<RunningEmulator, StartError> {
        Self::builder().start().await
    }
}

/// How an emulator will run. Every setting has a default; see [`Emulator::builder`].
///
/// ```
/// use std::time::Duration;
/// use liveapi_emulator::{ClockStart, Emulator, Faults, PolyvApp, IpRateLimit};
///
/// let builder = Emulator::builder()
///     .polyv_app(PolyvApp::new("my_app", "my_secret", [42]))
///     .faults(Faults::new(0.1))
///     .seed(7)
///     .clock(ClockStart::Behind(Duration::from_secs(30)))
///     .rate_limit(Some(IpRateLimit::new(100, Duration::from_secs(1))))
///     .body_limit(64 * 1024);
/// assert!(!format!("{builder:?}").contains("my_secret"));
/// ```
#[derive(Clone, Debug)]
pub struct EmulatorBuilder {
    listen: SocketAddr,
    demo_apps: bool,
    linkv_apps: Vec<LinkvApp>,
    polyv_apps: Vec<PolyvApp>,
    faults: Faults,
    seed: u64,
    clock: ClockStart,
    rate_limit: Option<IpRateLimit>,
    body_limit: usize,
    state_file: Option<PathBuf>,
    state_compact_after: u64,
    idempotency_window: Duration,
    idempotency_capacity: usize,
    journal_capacity: usize,
    request_log_capacity: usize,
    linkv_nonce_window: Duration,
    polyv_timestamp_window: Duration,
    linkv_answers: LinkvAnswers,
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    keep_alive_timeout: Duration,
    /// `None`: derived from the file limit at start.
    max_connections: Option<usize>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            demo_apps: true,
            linkv_apps: Vec::new(),
            polyv_apps: Vec::new(),
            faults: Faults::none(),
            seed: 0,
            clock: ClockStart::System,
            rate_limit: Some(IpRateLimit::default()),
            body_limit: DEFAULT_BODY_LIMIT,
            state_file: None,
            state_compact_after: store::DEFAULT_COMPACT_AFTER,
            idempotency_window: DEFAULT_IDEMPOTENCY_WINDOW,
            idempotency_capacity: DEFAULT_IDEMPOTENCY_CAPACITY,
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
            request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY,
            linkv_nonce_window: liveapi_sign::linkv::DEFAULT_WINDOW,
            polyv_timestamp_window: liveapi_sign::polyv::DEFAULT_WINDOW,
            linkv_answers: LinkvAnswers::default(),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_connections: None,
        }
    }
}

impl EmulatorBuilder {
    /// The address to listen on; port 0 picks a free one (see [`RunningEmulator::addr`]).
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Adds a LinkV app. The demo app stays unless [`without_demo_apps`](Self::without_demo_apps)
    /// is called or this app has the demo app's key.
    #[must_use]
    pub fn linkv_app(mut self, app: LinkvApp) -> Self {
        self.linkv_apps.push(app);
        self
    }

    /// Adds a Polyv account. The demo account stays unless
    /// [`without_demo_apps`](Self::without_demo_apps) is called or this one has its `appId`.
    #[must_use]
    pub fn polyv_app(mut self, app: PolyvApp) -> Self {
        self.polyv_apps.push(app);
        self
    }

    /// Leaves out the demo apps. At least one app of each vendor must then be added.
    #[must_use]
    pub fn without_demo_apps(mut self) -> Self {
        self.demo_apps = false;
        self
    }

    /// The faults to inject from the start (none by default); see [`Faults`].
    #[must_use]
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The seed of every deterministic choice: which requests get faults, and tokens.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How the emulator's clock starts (the system time by default).
    #[must_use]
    pub fn clock(mut self, clock: ClockStart) -> Self {
        self.clock = clock;
        self
    }

    /// Polyv's per-IP rate limit, or `None` for no limit (for load tests).
    #[must_use]
    pub fn rate_limit(mut self, limit: Option<IpRateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The largest request body accepted; larger ones get HTTP 413.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Keeps the state durably at `path`: a snapshot at `path` and a write-ahead log beside
    /// it at `path` + `.log` (see the crate documentation, "State file"). Every change is in
    /// the log, synced to disk, before its answer goes out; both files are read at start.
    /// A state file of the earlier format (one JSON file) is read as a snapshot.
    #[must_use]
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// How large the state file's log may grow before it is compacted into a new snapshot
    /// (64 MiB by default). A snapshot rewrites the whole state, so a small value trades
    /// throughput for a shorter replay at start.
    #[must_use]
    pub fn state_compact_after(mut self, bytes: u64) -> Self {
        self.state_compact_after = bytes;
        self
    }

    /// How long, in emulator time, a `request_id` is remembered: a repeat after that is applied
    /// again. 24 hours by default.
    #[must_use]
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        self.idempotency_window = window;
        self
    }

    /// How many `request_id`s an app remembers at most, however recent (the oldest are
    /// forgotten first). A million by default.
    #[must_use]
    pub fn idempotency_capacity(mut self, entries: usize) -> Self {
        self.idempotency_capacity = entries;
        self
    }

    /// How many applied changes an app's journal keeps (the oldest are dropped first).
    #[must_use]
    pub fn journal_capacity(mut self, entries: usize) -> Self {
        self.journal_capacity = entries;
        self
    }

    /// How many requests the request log keeps; 0 keeps none.
    #[must_use]
    pub fn request_log_capacity(mut self, entries: usize) -> Self {
        self.request_log_capacity = entries;
        self
    }

    /// How far a LinkV nonce's time may be from the emulator's clock (5 minutes by default).
    #[must_use]
    pub fn linkv_nonce_window(mut self, window: Duration) -> Self {
        self.linkv_nonce_window = window;
        self
    }

    /// How far a Polyv `timestamp` may be from the emulator's clock (3 minutes by default).
    #[must_use]
    pub fn polyv_timestamp_window(mut self, window: Duration) -> Self {
        self.polyv_timestamp_window = window;
        self
    }

    /// Whether LinkV errors carry the HTTP status matching their `status` (400, 403, 500…)
    /// instead of HTTP 200.
    ///
    /// Off by default: the real server answers its errors with HTTP 200 and the error in the
    /// body (`{"status":"403","msg":"sign err","data":[]}`; API-NOTES, "How the real server
    /// answers"). Turn it on to test a client's handling of HTTP error statuses too. Injected
    /// faults keep their own HTTP form either way.
    ///
    /// ```
    /// let builder = liveapi_emulator::Emulator::builder().linkv_error_http_status(true);
    /// # drop(builder);
    /// ```
    #[must_use]
    pub fn linkv_error_http_status(mut self, on: bool) -> Self {
        self.linkv_answers.error_http_status = on;
        self
    }

    /// Whether LinkV answers say `Content-Type: application/json;charset=UTF-8` instead of
    /// `text/html; charset=UTF-8`.
    ///
    /// Off by default: the real server most likely answers `text/html`, PHP's default (the
    /// official Node SDK would break on a JSON content type; API-NOTES, "How the real server
    /// answers"). The body is the same JSON either way. Polyv answers are always JSON.
    #[must_use]
    pub fn linkv_json_content_type(mut self, on: bool) -> Self {
        self.linkv_answers.json_content_type = on;
        self
    }

    /// How long a client has to send a whole request head: from the connection's start for
    /// its first request, from the request's first byte for the next ones. A connection that
    /// has not sent it by then is closed without an answer. 10 seconds by default
    /// ([`DEFAULT_HEADER_READ_TIMEOUT`](crate::DEFAULT_HEADER_READ_TIMEOUT)).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = liveapi_emulator::Emulator::builder()
    ///     .header_read_timeout(Duration::from_secs(5))
    ///     .body_read_timeout(Duration::from_secs(5))
    ///     .keep_alive_timeout(Duration::from_secs(30))
    ///     .max_connections(256);
    /// # drop(builder);
    /// ```
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a request body may stall: the longest wait for its next bytes, so that a slow
    /// but steady upload goes through. A stalled body gets HTTP 408 (in the vendor's envelope)
    /// and the connection is closed. The same wait bounds how long an answer waits for a
    /// client that does not read it. 10 seconds by default
    /// ([`DEFAULT_BODY_READ_TIMEOUT`](crate::DEFAULT_BODY_READ_TIMEOUT)).
    #[must_use]
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// How long a connection may sit idle between requests before it is closed. 60 seconds
    /// by default ([`DEFAULT_KEEP_ALIVE_TIMEOUT`](crate::DEFAULT_KEEP_ALIVE_TIMEOUT)), under
    /// the 90 seconds that common client pools keep idle connections.
    #[must_use]
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout;
        self
    }

    /// How many connections may be open at once. A connection over the cap gets a
    /// `503 Service Unavailable` with `Connection: close` at once, its request unread.
    ///
    /// By default [`DEFAULT_MAX_CONNECTIONS`](crate::DEFAULT_MAX_CONNECTIONS) (1024), or less
    /// where the process may open fewer files (Linux: the soft `RLIMIT_NOFILE` minus 64
    /// descriptors for the emulator's own use, or half of a limit under 128), so that the cap
    /// is reached before the descriptors run out.
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = Some(connections);
        self
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
                        store::open(
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
}

/// An emulator could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration cannot work.
    Config(String),
    /// The state file exists but cannot be read or is not a state file.
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

/// A running emulator: its address, its apps' credentials, its state, and control over its
/// clock and faults.
///
/// Dropping it stops the emulator too, without the final write of the state file that
/// [`shutdown`](Self::shutdown) makes.
pub struct RunningEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    conns: Arc<Connections>,
    /// The first of the apps, kept apart so that handing it out cannot fail.
    linkv_app: LinkvApp,
    linkv_apps: Vec<LinkvApp>,
    polyv_app: PolyvApp,
    polyv_apps: Vec<PolyvApp>,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .field("linkv_apps", &self.linkv_apps)
            .field("polyv_apps", &self.polyv_apps)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of both APIs: `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of `path` (which starts with `/`).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The first LinkV app: the demo app unless it was left out.
    #[must_use]
    pub fn linkv_app(&self) -> &LinkvApp {
        &self.linkv_app
    }

    /// Every LinkV app.
    #[must_use]
    pub fn linkv_apps(&self) -> &[LinkvApp] {
        &self.linkv_apps
    }

    /// The first Polyv account: the demo account unless it was left out.
    #[must_use]
    pub fn polyv_app(&self) -> &PolyvApp {
        &self.polyv_app
    }

    /// Every Polyv account.
    #[must_use]
    pub fn polyv_apps(&self) -> &[PolyvApp] {
        &self.polyv_apps
    }

    /// The emulator's clock, to read, move, freeze or resume.
    #[must_use]
    pub fn clock(&self) -> &EmulatorClock {
        &self.shared.clock
    }

    /// The current fault configuration.
    #[must_use]
    pub fn faults(&self) -> Faults {
        (*self.shared.faults.config()).clone()
    }

    /// Replaces the fault configuration; the fault sequence continues where it was.
    ///
    /// # Errors
    /// A [`FaultsError`] for an invalid configuration, which is then not applied.
    pub fn set_faults(&self, faults: Faults) -> Result<(), FaultsError> {
        self.shared.set_faults(faults)
    }

    /// Restarts the fault sequence from its beginning under `seed`.
    pub fn reseed(&self, seed: u64) {
        self.shared.reseed(seed);
    }

    /// How many requests were eligible for faults, and how many of each kind were injected.
    #[must_use]
    pub fn fault_stats(&self) -> FaultStats {
        self.shared.faults.stats()
    }

    /// A LinkV user's balance (coins that have not expired), if the app and user exist.
    #[must_use]
    pub fn balance(&self, app_key: &str, open_id: &str) -> Option<u64> {
        let now_secs = self.shared.clock.now_ms() / 1_000;
        let entry = self.shared.linkv.get(app_key)?;
        lock(&entry.ledger).balance(open_id, now_secs).ok()
    }

    /// Every user's balance in a LinkV app, by open id.
    #[must_use]
    pub fn balances(&self, app_key: &str) -> BTreeMap<String, u64> {
        let now_secs = self.shared.clock.now_ms() / 1_000;
        self.shared
            .linkv
            .get(app_key)
            .map(|entry| lock(&entry.ledger).balances(now_secs))
            .unwrap_or_default()
    }

    /// The open id LinkV gave a registered `userId`.
    #[must_use]
    pub fn open_id(&self, app_key: &str, user_id: &str) -> Option<String> {
        let entry = self.shared.linkv.get(app_key)?;
        lock(&entry.ledger).open_id(user_id)
    }

    /// Every coin change applied, in all apps, in the order applied (up to the journal's
    /// capacity per app).
    #[must_use]
    pub fn journal(&self) -> Vec<AppliedChange> {
        self.shared.journal()
    }

    /// How many coin changes were applied in all apps, including any the bounded journal
    /// dropped.
    #[must_use]
    pub fn applied_total(&self) -> u64 {
        self.shared
            .linkv
            .values()
            .map(|entry| lock(&entry.ledger).applied_total())
            .sum()
    }

    /// What `donate/get` would answer for the account's channel (or for the account with
    /// `None`), decoded with the SDK's own type. `None` for an unknown account or channel.
    #[must_use]
    pub fn donate_settings(&self, app_id: &str, channel: Option<u64>) -> Option<DonateSettings> {
        let entry = self.shared.polyv.get(app_id)?;
        let view = {
            let donate = lock(&entry.donate);
            if channel.is_some_and(|c| !donate.has_channel(c)) {
                return None;
            }
            donate.view(channel)
        };
        let json = serde_json::to_string(&view).ok()?;
        let raw = RawValue::from_string(json).ok()?;
        DonateSettings::from_data(Some(&raw)).ok()
    }

    /// Open connections now and at the peak, how many were accepted and refused over the cap,
    /// and how many each timeout closed (`GET /_emulator/connections`).
    #[must_use]
    pub fn connection_stats(&self) -> ConnectionStats {
        self.conns.stats()
    }

    /// The most recent requests, oldest first (up to the request log's capacity).
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.recent(usize::MAX)
    }

    /// The whole state as `GET /_emulator/state` shows it.
    #[must_use]
    pub fn state_json(&self) -> Value {
        self.shared.dump()
    }

    /// Makes every change so far durable and writes a snapshot of the whole state, starting
    /// a new log (nothing happens without a state file). Changes made through this handle
    /// (the clock, the faults) are logged at once and synced with the next group commit; this
    /// waits for them.
    ///
    /// # Errors
    /// The IO error if the log or the snapshot cannot be written.
    pub async fn save_state(&self) -> io::Result<()> {
        match &self.shared.store {
            Some(store) => store.compact().await.map_err(io::Error::other),
            None => Ok(()),
        }
    }

    /// Waits until every change made so far is durable in the state file's log (at once
    /// without a state file). Answers over HTTP already wait for this; changes made through
    /// this handle (the clock, the faults) are queued at once and synced with the next group
    /// commit.
    ///
    /// # Errors
    /// The IO error that stopped the log from being written.
    pub async fn sync_state(&self) -> io::Result<()> {
        self.shared.settle().await.map_err(io::Error::other)
    }

    /// The state store's status as `GET /_emulator/store` shows it (path, log size, records
    /// since the last snapshot, syncs, a dropped torn record, the last error), or `None`
    /// without a state file.
    #[must_use]
    pub fn state_status(&self) -> Option<Value> {
        self.shared.store.as_ref().map(|store| store.describe())
    }

    /// Stops accepting connections, lets answers in flight finish (for up to five seconds;
    /// injected delays are cut short), syncs the log and writes a last snapshot if anything
    /// changed since the previous one.
    ///
    /// # Errors
    /// The IO error if the log or the snapshot cannot be written.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let Some(store) = self.shared.store.clone() else {
            return Ok(());
        };
        store.stop(true);
        tokio::task::spawn_blocking(move || store.join())
            .await
            .map_err(io::Error::other)?
            .map_err(io::Error::other)
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        // Without `shutdown`: what is queued is still written and synced, without a snapshot.
        if let Some(store) = &self.shared.store {
            store.stop(false);
        }
    }
}
