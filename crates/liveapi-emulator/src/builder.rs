//! Configuring an emulator: the builder with a default for every setting.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::http::connections::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT,
};
use crate::http::reply::LinkvAnswers;
use crate::persistence;
use crate::{ClockStart, Faults, IpRateLimit, LinkvApp, PolyvApp, RunningEmulator, StartError};

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
///
/// A running emulator answers LinkV under `/open/`, Polyv under `/live/` and its inspection
/// API under `/_emulator/`, all at [`RunningEmulator::base_url`]. The full reference (every
/// check and error, the books, the state file, the inspection routes) is
/// [`docs/emulator.md`](https://github.com/liveapi-rs/liveapi/blob/main/docs/emulator.md).
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
    pub(crate) listen: SocketAddr,
    pub(crate) demo_apps: bool,
    pub(crate) linkv_apps: Vec<LinkvApp>,
    pub(crate) polyv_apps: Vec<PolyvApp>,
    pub(crate) faults: Faults,
    pub(crate) seed: u64,
    pub(crate) clock: ClockStart,
    pub(crate) rate_limit: Option<IpRateLimit>,
    pub(crate) body_limit: usize,
    pub(crate) state_file: Option<PathBuf>,
    pub(crate) state_compact_after: u64,
    pub(crate) idempotency_window: Duration,
    pub(crate) idempotency_capacity: usize,
    pub(crate) journal_capacity: usize,
    pub(crate) request_log_capacity: usize,
    pub(crate) linkv_nonce_window: Duration,
    pub(crate) polyv_timestamp_window: Duration,
    pub(crate) linkv_answers: LinkvAnswers,
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    /// `None`: derived from the file limit at start.
    pub(crate) max_connections: Option<usize>,
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
            state_compact_after: persistence::DEFAULT_COMPACT_AFTER,
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

    /// Leaves out the demo apps ([`DEMO_LINKV_APP_KEY`](crate::DEMO_LINKV_APP_KEY) and
    /// [`DEMO_POLYV_APP_ID`](crate::DEMO_POLYV_APP_ID), with their secrets). At least one app
    /// of each vendor must then be added.
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

    /// Seeds every deterministic choice: which requests get faults, and tokens. With the same
    /// seed and fault configuration, the `n`th request eligible for a fault always gets the
    /// same fate, whatever the timing.
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

    /// Polyv's per-IP rate limit, or `None` for no limit (for load tests). By default
    /// [`IpRateLimit::default`], the real server's. It applies to the Polyv paths only and runs
    /// on the monotonic clock, so moving the emulator's clock does not change it.
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
    /// it at `path` + `.log`. Every change is in the log, synced to disk, before its answer
    /// goes out (concurrent requests share one sync), so a crash loses nothing acknowledged;
    /// both files are read at start. A state file of the earlier format (one JSON file) is
    /// read as a snapshot.
    ///
    /// Kept are the books (users, coins, orders, idempotency records, journals), the Polyv
    /// donate settings, and the clock and faults once changed at run time; not the request
    /// log, the fault counters or the rate limit's windows. A torn last log record, left by a
    /// crash before its sync, is dropped with a warning; any other damage makes
    /// [`start`](Self::start) fail with [`StartError::StateFile`]. The formats and the
    /// durability rules are in
    /// [`docs/emulator.md`](https://github.com/liveapi-rs/liveapi/blob/main/docs/emulator.md#durable-state).
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
    ///
    /// Until then, a repeat of `orderSuccess` or `changeGold` with the same call and business
    /// parameters (not `nonce_str`, `sign`, `app_id` or `channel`) answers the first result and
    /// changes nothing, and a repeat with other parameters is refused. Only successes are
    /// remembered.
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
    /// Off by default: the real server answers its errors with HTTP 200 and the error in the body
    /// (`{"status":"403","msg":"sign err","data":[]}`;
    /// `docs/linkv.md#how-the-real-server-answers`). Turn it on to test a client's handling of HTTP
    /// error statuses too. Injected faults keep their own HTTP form either way.
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
    /// Off by default: the real server most likely answers `text/html`, PHP's default (the official
    /// Node SDK would break on a JSON content type; `docs/linkv.md#how-the-real-server-answers`).
    /// The body is the same JSON either way. Polyv answers are always JSON.
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

    /// How many connections may be open at once. Every connection over the cap gets a
    /// `503 Service Unavailable` with `Connection: close` the moment it is accepted, before
    /// its request is read (the reference, `docs/emulator.md`, says when it cannot).
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
}
