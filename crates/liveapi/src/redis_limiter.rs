//! One Polyv rate limit for a whole fleet of processes, kept in Redis: [`RedisRateLimiter`].

mod own;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use liveapi_request::{RateLimit, RateLimiter, Secret, Throttled, Timer};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use own::OwnWindow;

/// How long one Redis call may take unless configured. On loopback or a LAN an answer takes
/// well under a millisecond; on a busy two-core machine the fleet test saw one pass 100 ms.
/// A call that times out is asked once more before Redis counts as unreachable.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// How often an unreachable Redis is asked again unless configured.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// How much longer than the budget's window the limiter counts sends unless configured.
///
/// Polyv counts requests when they arrive; a send admitted at the end of one window that
/// arrives late (a new connection, a busy machine, the network) and one admitted at the start
/// of the next that arrives early would otherwise meet in one of the server's windows:
/// without a margin, the fleet test on a busy two-core machine saw up to 1246 arrivals in
/// 10 s from a budget of 1200. 100 ms costs 1 % of the budget.
pub const DEFAULT_TRANSIT_MARGIN: Duration = Duration::from_millis(100);

/// The key prefix unless configured.
pub const DEFAULT_KEY_PREFIX: &str = "liveapi:rate-limit";

/// The egress label unless configured: one budget per Polyv app.
pub const DEFAULT_EGRESS: &str = "default";

/// The script every permit runs: the whole decision in one atomic step on the server.
static ACQUIRE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("redis_limiter/acquire.lua")));

/// A Redis rate limiter that cannot be configured as asked.
///
/// No variant shows the Redis URL: it may hold a password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedisLimiterError {
    /// The URL is not a Redis URL.
    #[error(
        "the Redis URL cannot be used: {problem} (expected redis://[user:password@]host[:port][/db] or unix:///path; the URL is not shown, it may hold a password)"
    )]
    Url {
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Neither the expected number of processes nor a fallback limit was given, so there is no
    /// safe budget for the times Redis is unreachable.
    #[error(
        "the Redis rate limiter needs the expected number of processes (or a fallback limit): without Redis each process must keep to its share, never the whole budget"
    )]
    NoFallbackShare,
    /// The expected number of processes is zero.
    #[error("the expected number of processes must be at least 1")]
    ZeroProcesses,
    /// The fallback limit allows more than the budget itself.
    #[error(
        "the fallback limit ({fallback} per {fallback_ms} ms) is above the budget ({limit} per {limit_ms} ms)"
    )]
    FallbackAboveBudget {
        /// The fallback limit's requests per window.
        fallback: u32,
        /// Its window in milliseconds.
        fallback_ms: u128,
        /// The budget's requests per window.
        limit: u32,
        /// Its window in milliseconds.
        limit_ms: u128,
    },
    /// A timeout or probe interval of zero: every call would fail, or a dead Redis would be
    /// asked on every call.
    #[error("the Redis {what} must be longer than zero")]
    ZeroDuration {
        /// `timeout` or `probe interval`.
        what: &'static str,
    },
    /// An empty key part.
    #[error("the {what} of the Redis key must not be empty")]
    EmptyKeyPart {
        /// `app id`, `egress label` or `key prefix`.
        what: &'static str,
    },
    /// No Polyv app id to name the key by.
    #[error(
        "the Redis rate limiter needs the Polyv app id for its key (RedisRateLimiterBuilder::app_id)"
    )]
    NoAppId,
}

/// Configures a [`RedisRateLimiter`]; made by [`RedisRateLimiter::builder`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RedisRateLimiterBuilder {
    url: Secret,
    app_id: Option<String>,
    egress: String,
    key_prefix: String,
    limit: RateLimit,
    processes: Option<u32>,
    fallback: Option<RateLimit>,
    timeout: Duration,
    probe_interval: Duration,
    transit_margin: Duration,
}

impl fmt::Debug for RedisRateLimiterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiterBuilder")
            .field("url", &self.url)
            .field("app_id", &self.app_id)
            .field("egress", &self.egress)
            .field("key_prefix", &self.key_prefix)
            .field("limit", &self.limit)
            .field("processes", &self.processes)
            .field("fallback", &self.fallback)
            .field("timeout", &self.timeout)
            .field("probe_interval", &self.probe_interval)
            .field("transit_margin", &self.transit_margin)
            .finish()
    }
}

impl RedisRateLimiterBuilder {
    /// The Polyv `appId` whose budget this is. [`ClientBuilder::polyv_redis_rate_limit`]
    /// fills it from the client's Polyv credentials when it is not set.
    ///
    /// [`ClientBuilder::polyv_redis_rate_limit`]: crate::ClientBuilder::polyv_redis_rate_limit
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// A label for the egress IP the processes send from (default [`DEFAULT_EGRESS`]).
    /// Polyv counts per source IP, so processes behind different egress IPs have a budget
    /// each: give each IP's processes their own label.
    pub fn egress(mut self, label: impl Into<String>) -> Self {
        self.egress = label.into();
        self
    }

    /// The prefix of the Redis key (default [`DEFAULT_KEY_PREFIX`]).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// The budget of the whole fleet (default [`RateLimit::POLYV`], 1200 per 10 s).
    pub fn limit(mut self, limit: RateLimit) -> Self {
        self.limit = limit;
        self
    }

    /// How many processes are expected to share the budget: without Redis each keeps to
    /// `limit / processes` per window. Either this or
    /// [`fallback_limit`](Self::fallback_limit) is required.
    pub fn processes(mut self, processes: u32) -> Self {
        self.processes = Some(processes);
        self
    }

    /// What one process may send per window while Redis is unreachable, instead of
    /// `limit / processes`.
    pub fn fallback_limit(mut self, limit: RateLimit) -> Self {
        self.fallback = Some(limit);
        self
    }

    /// How long one Redis call may take (default [`DEFAULT_REDIS_TIMEOUT`]). A call that
    /// times out is asked once more; a second time, Redis counts as unreachable.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often an unreachable Redis is asked again (default [`DEFAULT_PROBE_INTERVAL`]).
    pub fn probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// How much longer than the budget's window sends are counted (default
    /// [`DEFAULT_TRANSIT_MARGIN`]), so that the budget holds where the vendor counts: on
    /// arrival. Zero counts exactly the budget's window.
    pub fn transit_margin(mut self, margin: Duration) -> Self {
        self.transit_margin = margin;
        self
    }

    pub(crate) fn has_app_id(&self) -> bool {
        self.app_id.is_some()
    }

    pub(crate) fn set_limit(&mut self, limit: RateLimit) {
        self.limit = limit;
    }

    pub(crate) fn set_processes(&mut self, processes: u32) {
        self.processes = Some(processes);
    }

    /// The limiter. Nothing is connected yet: the connection is opened by the first permit,
    /// on the Tokio runtime that asks for it, so this needs no runtime.
    ///
    /// # Errors
    /// A [`RedisLimiterError`] for a malformed URL, no fallback share, a zero duration or an
    /// empty key part.
    pub fn build(self) -> Result<RedisRateLimiter, RedisLimiterError> {
        let url = self.url.expose().trim();
        if url.starts_with("rediss://") || url.starts_with("valkeys://") {
            return Err(RedisLimiterError::Url {
                problem: "TLS (rediss://) is not supported by this build",
            });
        }
        let client = redis::Client::open(url).map_err(|_| RedisLimiterError::Url {
            problem: "it does not parse",
        })?;
        let fallback = match (self.fallback, self.processes) {
            (Some(fallback), _) => fallback,
            (None, Some(0)) => return Err(RedisLimiterError::ZeroProcesses),
            (None, Some(n)) => self.limit.share(n),
            (None, None) => return Err(RedisLimiterError::NoFallbackShare),
        };
        if self.processes == Some(0) {
            return Err(RedisLimiterError::ZeroProcesses);
        }
        // Compared per the longer window, as sends per any interval of that length.
        let per = |l: RateLimit, window: Duration| {
            u128::from(l.limit()) * window.as_nanos().div_ceil(l.window().as_nanos())
        };
        let longest = self.limit.window().max(fallback.window());
        if per(fallback, longest) > per(self.limit, longest) {
            return Err(RedisLimiterError::FallbackAboveBudget {
                fallback: fallback.limit(),
                fallback_ms: fallback.window().as_millis(),
                limit: self.limit.limit(),
                limit_ms: self.limit.window().as_millis(),
            });
        }
        for (what, duration) in [
            ("timeout", self.timeout),
            ("probe interval", self.probe_interval),
        ] {
            if duration.is_zero() {
                return Err(RedisLimiterError::ZeroDuration { what });
            }
        }
        let app_id = self.app_id.ok_or(RedisLimiterError::NoAppId)?;
        for (what, part) in [
            ("app id", &app_id),
            ("egress label", &self.egress),
            ("key prefix", &self.key_prefix),
        ] {
            if part.is_empty() {
                return Err(RedisLimiterError::EmptyKeyPart { what });
            }
        }
        let info = client.get_connection_info();
        let address = format!("{}/{}", info.addr(), info.redis_settings().db());
        Ok(RedisRateLimiter {
            key: format!("{}:polyv:{app_id}:{}", self.key_prefix, self.egress),
            address,
            client,
            limit: self.limit,
            fallback,
            timeout: self.timeout,
            probe_interval: self.probe_interval,
            window: self.limit.window() + self.transit_margin,
            own_window: fallback.window() + self.transit_margin,
            process_id: process_id(),
            sends: AtomicU64::new(0),
            state: Mutex::new(State {
                link: Link::Up,
                own: OwnWindow::new(fallback.window() + self.transit_margin),
                connection: None,
                warned_no_runtime: false,
            }),
        })
    }
}

/// A random id for this limiter's members, so that no two processes' sends collide in the
/// shared window: the process id and the time, hashed under the standard library's randomly
/// keyed SipHash (seeded from the operating system).
fn process_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::hash::BuildHasher::hash_one(
        &std::collections::hash_map::RandomState::new(),
        (std::process::id(), nanos),
    )
}

/// Where the limiter stands with Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisLink {
    /// Redis decides every permit.
    Shared,
    /// Redis did not answer: this process keeps to its share, and asks Redis again now and
    /// then.
    Fallback,
    /// Redis answers again; until every process can have noticed, each send must fit both
    /// this process's share and Redis.
    Rejoining,
}

#[derive(Debug)]
enum Link {
    Up,
    Down { next_probe: Instant },
    Rejoining { until: Instant },
}

#[derive(Debug)]
struct State {
    link: Link,
    own: OwnWindow,
    /// Opened by the first permit on a Tokio runtime; dropped when Redis stops answering, so
    /// that the next probe connects afresh on the runtime of its caller.
    connection: Option<ConnectionManager>,
    warned_no_runtime: bool,
}

/// The Polyv rate limit of a fleet of processes, shared through Redis.
///
/// Polyv allows 1500 requests per 10 s per source IP across its whole API host, then blocks
/// the IP for five minutes (API-NOTES, "Responses and errors"). Each client's in-process
/// limiter keeps one process under the budget; processes behind one egress IP need one budget
/// between them. [`RedisRateLimiter`] keeps it in Redis:
///
/// - **Exact across processes.** Each permit is one Lua script run atomically by Redis over a
///   sorted set of the sends in the window, timed by Redis's own clock (`TIME`), so processes
///   whose clocks disagree still share one window. It admits a send only if fewer than the
///   limit were admitted in the last window, and otherwise answers how long until one fits;
///   the caller waits that long (through the engine's timer) and asks again, or gives up with
///   [`Throttled`] if the wait would pass the call's deadline.
/// - **Where the vendor counts.** Sends are counted for the budget's window plus a transit
///   margin ([`transit_margin`], 100 ms by default), because Polyv counts them on arrival,
///   and a send's way there takes longer at some times than at others.
/// - **Keys** are `{prefix}:polyv:{appId}:{egress}`: one budget per Polyv app and egress label
///   (default `default`), under a prefix (default `liveapi:rate-limit`). A key expires one
///   window after its newest send, so nothing is left behind.
/// - **When Redis is unreachable or slow** (no answer within [`timeout`], 250 ms by default,
///   twice in a row), the process falls back to its own share of the budget (the budget
///   divided by the expected number of processes, or an explicit fallback limit), logs a
///   warning once per outage through `tracing`, and asks Redis again at most once per
///   [`probe_interval`] (1 s), with a send its share has room for. It never falls back to the whole budget, and it starts on the
///   share only one window after Redis stopped answering: until then the window may hold all
///   that Redis admitted to the fleet. With no Tokio runtime (a blocking call), it keeps to
///   the share at once, and those sends are told to Redis with the next call that reaches it.
/// - **Coming back.** The first answer after an outage records in Redis, at their times, the
///   sends this process made without it; for one window and one probe interval after that,
///   each send must fit both the share and Redis, because processes that have not noticed the
///   recovery yet still send on their shares only. Then Redis alone decides again.
/// - **Runtime.** Building it needs no runtime and opens no connection; the first permit
///   connects, on the Tokio runtime that asks for it (with its time driver enabled, as the
///   client's own timer needs anyway). After an outage the connection is opened afresh on the
///   runtime of the probing call.
///
/// # What is guaranteed
///
/// At most `limit` sends in any window (plus the transit margin), whatever the number of
/// processes, as long as they agree on the budget and the number of processes:
///
/// - while Redis answers, it admits every send;
/// - after it stops answering, no process sends on its share until one window later, so
///   shared and fallback sends never meet in one window; then each sends at most its share,
///   and the shares add up to the budget;
/// - when it answers again, each process first tells it the sends it made without it, and
///   for one window and one probe interval each send must fit both the share and Redis, so
///   processes still on their shares and processes back on Redis add up to the budget too.
///
/// The price is a pause of one window when Redis goes away (calls wait, within their
/// deadlines), and one process's throughput when only it lost Redis for a moment.
/// Blocking calls without a runtime keep to the share and are told to Redis later: a process
/// that makes them beside shared calls can pass the budget by up to its share.
///
/// All processes that share a key must use the same window (they may use different limits:
/// each admits only while the shared count is below its own).
///
/// Give it to the client with [`ClientBuilder::polyv_redis_rate_limit`] (which names the key
/// by the client's Polyv app), or build it yourself and pass it to
/// [`ClientBuilder::polyv_rate_limiter`] or `EngineBuilder::polyv_rate_limiter`.
///
/// ```no_run
/// use std::sync::Arc;
/// use liveapi::{Client, PolyvCredentials, RedisRateLimiter};
///
/// # fn run() -> Result<(), liveapi::Error> {
/// // Three processes behind one egress IP: 1200 per 10 s between them, 400 each without Redis.
/// let limiter = RedisRateLimiter::builder("redis://10.0.0.5:6379/0")
///     .app_id("my_polyv_app")
///     .processes(3)
///     .build()?;
/// let client = Client::builder()
///     .polyv(PolyvCredentials::new("my_polyv_app", "app_secret")?)
///     .polyv_rate_limiter(Arc::new(limiter))
///     .build()?;
/// # Ok(()) }
/// ```
///
/// [`ClientBuilder::polyv_redis_rate_limit`]: crate::ClientBuilder::polyv_redis_rate_limit
/// [`ClientBuilder::polyv_rate_limiter`]: crate::ClientBuilder::polyv_rate_limiter
/// [`timeout`]: RedisRateLimiterBuilder::timeout
/// [`transit_margin`]: RedisRateLimiterBuilder::transit_margin
/// [`probe_interval`]: RedisRateLimiterBuilder::probe_interval
pub struct RedisRateLimiter {
    key: String,
    /// Host, port and database, for logs: never the password.
    address: String,
    client: redis::Client,
    limit: RateLimit,
    fallback: RateLimit,
    timeout: Duration,
    probe_interval: Duration,
    /// The shared window: the budget's, plus the transit margin.
    window: Duration,
    /// This process's window while on its share: the fallback limit's, plus the margin.
    own_window: Duration,
    process_id: u64,
    sends: AtomicU64,
    state: Mutex<State>,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("redis", &self.address)
            .field("key", &self.key)
            .field("limit", &self.limit)
            .field("fallback", &self.fallback)
            .field("timeout", &self.timeout)
            .field("probe_interval", &self.probe_interval)
            .field("window", &self.window)
            .field("link", &self.link())
            .finish_non_exhaustive()
    }
}

/// What to do next for one permit.
enum Step {
    Admitted,
    Wait(Duration),
    Ask {
        connection: ConnectionManager,
        /// A place taken in this process's share, settled by Redis's answer.
        reserved: Option<u64>,
        /// Sends Redis has not heard of, told with this call (the place above excepted).
        backfill: Vec<(u64, Duration)>,
        /// This call is the probe of an outage.
        probe: bool,
    },
}

/// Redis's answer to one permit.
enum Verdict {
    Admitted,
    Full(Duration),
}

impl RedisRateLimiter {
    /// A builder for the Redis at `url` (`redis://[user:password@]host[:port][/db]` or
    /// `unix:///path`). Keep the URL secret: it may hold a password; the limiter never prints
    /// it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use liveapi::{RateLimit, RedisRateLimiter};
    ///
    /// let limiter = RedisRateLimiter::builder("redis://127.0.0.1:6379/0")
    ///     .app_id("my_polyv_app")
    ///     .egress("nat-a")
    ///     .processes(4)
    ///     .build()?;
    /// assert_eq!(limiter.key(), "liveapi:rate-limit:polyv:my_polyv_app:nat-a");
    /// assert_eq!(limiter.limit(), RateLimit::POLYV);
    /// assert_eq!(limiter.fallback_limit().limit(), 300);
    /// # Ok::<(), liveapi::RedisLimiterError>(())
    /// ```
    pub fn builder(url: impl Into<Secret>) -> RedisRateLimiterBuilder {
        RedisRateLimiterBuilder {
            url: url.into(),
            app_id: None,
            egress: DEFAULT_EGRESS.to_owned(),
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            limit: RateLimit::POLYV,
            processes: None,
            fallback: None,
            timeout: DEFAULT_REDIS_TIMEOUT,
            probe_interval: DEFAULT_PROBE_INTERVAL,
            transit_margin: DEFAULT_TRANSIT_MARGIN,
        }
    }

    /// The Redis key of the shared window.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The budget of the whole fleet.
    #[must_use]
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// What this process keeps to while Redis is unreachable.
    #[must_use]
    pub fn fallback_limit(&self) -> RateLimit {
        self.fallback
    }

    /// Where the limiter stands with Redis, as the last permit left it.
    #[must_use]
    pub fn link(&self) -> RedisLink {
        match self.lock().link {
            Link::Up => RedisLink::Shared,
            Link::Down { .. } => RedisLink::Fallback,
            Link::Rejoining { .. } => RedisLink::Rejoining,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn member(&self) -> String {
        let n = self.sends.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}:{n}", self.process_id)
    }

    /// Decides, under the lock, what the next step of one permit is.
    fn plan(&self, timer: &dyn Timer) -> Step {
        let mut state = self.lock();
        let now = timer.now();
        if tokio::runtime::Handle::try_current().is_err() {
            if !state.warned_no_runtime {
                state.warned_no_runtime = true;
                tracing::warn!(
                    redis = %self.address,
                    share = self.fallback.limit(),
                    window_ms = u64::try_from(self.fallback.window().as_millis()).unwrap_or(u64::MAX),
                    "no Tokio runtime: Polyv calls without one keep to this process's share of the rate limit instead of asking Redis"
                );
            }
            return match state.own.reserve(now, self.fallback.limit(), true) {
                Ok(_) => Step::Admitted,
                Err(pause) => Step::Wait(pause),
            };
        }
        if let Link::Rejoining { until } = state.link
            && now >= until
        {
            state.link = Link::Up;
        }
        let (reserved, probe) = match state.link {
            Link::Up => (None, false),
            Link::Rejoining { .. } => match state.own.reserve(now, self.fallback.limit(), false) {
                Ok(id) => (Some(id), false),
                Err(pause) => return Step::Wait(pause),
            },
            Link::Down { next_probe } => {
                let id = match state.own.reserve(now, self.fallback.limit(), true) {
                    Ok(id) => id,
                    Err(pause) => return Step::Wait(pause),
                };
                if now < next_probe {
                    return Step::Admitted;
                }
                // One caller probes; the others keep to the share until it has an answer.
                state.link = Link::Down {
                    next_probe: now + self.probe_interval,
                };
                (Some(id), true)
            }
        };
        // Sends made without Redis (an outage, a call without a runtime) are told with the
        // next call that reaches it, and only by that call: concurrent calls telling the same
        // sends would count them twice.
        let backfill = state.own.unshared(now, reserved);
        let told: Vec<u64> = backfill.iter().map(|(id, _)| *id).collect();
        state.own.shared(&told);
        let connection = match &state.connection {
            Some(connection) => connection.clone(),
            None => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(0);
                match ConnectionManager::new_lazy_with_config(self.client.clone(), config) {
                    Ok(connection) => {
                        state.connection = Some(connection.clone());
                        connection
                    }
                    Err(error) => {
                        drop(state);
                        return self.unreachable(timer, reserved, &backfill, &error.to_string());
                    }
                }
            }
        };
        Step::Ask {
            connection,
            reserved,
            backfill,
            probe,
        }
    }

    /// Redis did not answer, twice, or to a probe. When that starts an outage, the caller
    /// plans again, on the share, which is full for one window; during one, the probe's place
    /// in the share becomes a send on the share.
    fn unreachable(
        &self,
        timer: &dyn Timer,
        reserved: Option<u64>,
        backfill: &[(u64, Duration)],
        error: &str,
    ) -> Step {
        let mut state = self.lock();
        let now = timer.now();
        state.connection = None;
        state.own.untold(&ids(backfill));
        match state.link {
            Link::Down { .. } => {
                tracing::debug!(redis = %self.address, error, "Redis still unreachable");
            }
            Link::Up | Link::Rejoining { .. } => {
                state.link = Link::Down {
                    next_probe: now + self.probe_interval,
                };
                // The last window is Redis's: it may have admitted the whole budget to the
                // fleet. Sends on the share start once that window is over.
                if let Some(id) = reserved {
                    state.own.cancel(id);
                }
                state.own.fill(now, self.fallback.limit());
                tracing::warn!(
                    redis = %self.address,
                    key = %self.key,
                    error,
                    share = self.fallback.limit(),
                    window_ms = u64::try_from(self.own_window.as_millis()).unwrap_or(u64::MAX),
                    "Redis is unreachable: after one window, Polyv calls keep to this process's share of the rate limit until it answers"
                );
                return Step::Wait(Duration::ZERO);
            }
        }
        match reserved {
            Some(id) => {
                state.own.confirm(id, now, true);
                Step::Admitted
            }
            None => Step::Wait(Duration::ZERO),
        }
    }

    /// Redis answered (`admitted` or not): settles the reservation, and ends an outage.
    fn answered(
        &self,
        timer: &dyn Timer,
        reserved: Option<u64>,
        backfill: &[(u64, Duration)],
        probe: bool,
        admitted: bool,
    ) {
        let mut state = self.lock();
        let now = timer.now();
        match (reserved, admitted) {
            (Some(id), true) => state.own.confirm(id, now, false),
            (Some(id), false) => state.own.cancel(id),
            (None, true) => {
                state.own.push(now, false);
            }
            (None, false) => {}
        }
        if probe && matches!(state.link, Link::Down { .. }) {
            // Processes that have not noticed yet send on their shares for up to one probe
            // interval more, and those sends stay in the window for one window.
            state.link = Link::Rejoining {
                until: now + self.own_window.max(self.window) + self.probe_interval,
            };
            tracing::warn!(
                redis = %self.address,
                key = %self.key,
                told = backfill.len(),
                "Redis answers again: the Polyv rate limit is shared again"
            );
        }
    }

    /// One run of the script, within the timeout.
    async fn ask(
        &self,
        mut connection: ConnectionManager,
        backfill: &[(u64, Duration)],
    ) -> Result<Verdict, String> {
        let mut invocation = ACQUIRE.key(&self.key);
        invocation
            .arg(self.limit.limit())
            .arg(micros(self.window))
            .arg(self.member());
        for (_, age) in backfill {
            invocation.arg(micros(*age)).arg(self.member());
        }
        let answer = tokio::time::timeout(
            self.timeout,
            invocation.invoke_async::<(i64, i64)>(&mut connection),
        )
        .await;
        match answer {
            Ok(Ok((1, _))) => Ok(Verdict::Admitted),
            Ok(Ok((_, wait))) => Ok(Verdict::Full(Duration::from_micros(
                u64::try_from(wait).unwrap_or(0),
            ))),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {} ms", self.timeout.as_millis())),
        }
    }

    async fn acquire_permit(
        &self,
        deadline: Option<Instant>,
        timer: &dyn Timer,
    ) -> Result<(), Throttled> {
        let mut strikes = 0;
        loop {
            let pause = match self.plan(timer) {
                Step::Admitted => return Ok(()),
                Step::Wait(pause) => pause,
                Step::Ask {
                    connection,
                    reserved,
                    backfill,
                    probe,
                } => match self.ask(connection, &backfill).await {
                    Ok(Verdict::Admitted) => {
                        self.answered(timer, reserved, &backfill, probe, true);
                        return Ok(());
                    }
                    Ok(Verdict::Full(pause)) => {
                        self.answered(timer, reserved, &backfill, probe, false);
                        pause
                    }
                    Err(error) if !probe && strikes == 0 => {
                        // One slow or lost answer is not an outage: ask once more first.
                        strikes += 1;
                        let mut state = self.lock();
                        state.own.untold(&ids(&backfill));
                        if let Some(id) = reserved {
                            state.own.cancel(id);
                        }
                        drop(state);
                        tracing::debug!(redis = %self.address, error, "Redis did not answer; asking again");
                        continue;
                    }
                    Err(error) => match self.unreachable(timer, reserved, &backfill, &error) {
                        Step::Admitted => return Ok(()),
                        _ => continue,
                    },
                },
            };
            if deadline.is_some_and(|d| timer.now() + pause > d) {
                return Err(Throttled);
            }
            timer.sleep(pause).await;
        }
    }
}

fn ids(backfill: &[(u64, Duration)]) -> Vec<u64> {
    backfill.iter().map(|(id, _)| *id).collect()
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl RateLimiter for RedisRateLimiter {
    fn acquire<'a>(
        &'a self,
        deadline: Option<Instant>,
        timer: &'a dyn Timer,
    ) -> Pin<Box<dyn Future<Output = Result<(), Throttled>> + Send + 'a>> {
        Box::pin(self.acquire_permit(deadline, timer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> RedisRateLimiterBuilder {
        RedisRateLimiter::builder("redis://127.0.0.1:1/0")
            .app_id("app")
            .processes(3)
    }

    #[test]
    fn the_key_names_vendor_app_and_egress() {
        let limiter = builder().build().unwrap();
        assert_eq!(limiter.key(), "liveapi:rate-limit:polyv:app:default");
        let limiter = builder().key_prefix("x").egress("nat-b").build().unwrap();
        assert_eq!(limiter.key(), "x:polyv:app:nat-b");
        assert_eq!(limiter.fallback_limit().limit(), 400);
        assert_eq!(limiter.link(), RedisLink::Shared);
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let cases: [(RedisRateLimiterBuilder, RedisLimiterError); 8] = [
            (
                RedisRateLimiter::builder("redis://h/0").app_id("a"),
                RedisLimiterError::NoFallbackShare,
            ),
            (builder().processes(0), RedisLimiterError::ZeroProcesses),
            (
                builder().timeout(Duration::ZERO),
                RedisLimiterError::ZeroDuration { what: "timeout" },
            ),
            (
                builder().probe_interval(Duration::ZERO),
                RedisLimiterError::ZeroDuration {
                    what: "probe interval",
                },
            ),
            (
                builder().egress(""),
                RedisLimiterError::EmptyKeyPart {
                    what: "egress label",
                },
            ),
            (
                RedisRateLimiter::builder("redis://h/0").processes(2),
                RedisLimiterError::NoAppId,
            ),
            (
                builder().fallback_limit(RateLimit::new(1201, Duration::from_secs(10)).unwrap()),
                RedisLimiterError::FallbackAboveBudget {
                    fallback: 1201,
                    fallback_ms: 10_000,
                    limit: 1200,
                    limit_ms: 10_000,
                },
            ),
            (
                builder().fallback_limit(RateLimit::new(200, Duration::from_secs(1)).unwrap()),
                RedisLimiterError::FallbackAboveBudget {
                    fallback: 200,
                    fallback_ms: 1_000,
                    limit: 1200,
                    limit_ms: 10_000,
                },
            ),
        ];
        for (builder, expected) in cases {
            assert_eq!(builder.build().unwrap_err(), expected);
        }
        let fine = builder()
            .fallback_limit(RateLimit::new(100, Duration::from_secs(1)).unwrap())
            .build()
            .unwrap();
        assert_eq!(fine.fallback_limit().limit(), 100);
    }

    #[test]
    fn a_bad_url_is_refused_without_showing_it() {
        for url in [
            "http://user:hunter2@host/",
            "redis://user:hunter2@host:notaport/",
            "rediss://user:hunter2@host/",
            "valkeys://user:hunter2@host/",
        ] {
            let error = RedisRateLimiter::builder(url)
                .app_id("a")
                .processes(1)
                .build()
                .unwrap_err();
            assert!(matches!(error, RedisLimiterError::Url { .. }), "{url}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let builder = RedisRateLimiter::builder("redis://:hunter2@10.1.2.3:6380/2")
            .app_id("a")
            .processes(1);
        let debug = format!("{builder:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.starts_with("RedisRateLimiterBuilder") && debug.contains("processes: Some(1)"),
            "{debug}"
        );
        let limiter = builder.build().unwrap();
        let debug = format!("{limiter:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("10.1.2.3:6380/2"), "{debug}");
    }
}
