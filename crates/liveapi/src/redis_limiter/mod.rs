//! One Polyv rate limit for a whole fleet of processes, kept in Redis: [`RedisRateLimiter`].
//!
//! - `builder`: its settings, their defaults and checks;
//! - `error`: what can be wrong with them;
//! - `shared_window`: the window in Redis, the connection to it and the script (`acquire.lua`)
//!   that admits a send there;
//! - `diagnosis`: which failures are an outage, and which the configuration's;
//! - `fallback`: when to ask Redis, when to keep to this process's share, and when to rejoin;
//! - `metrics`: the outages and recoveries it counts;
//! - `own`: what this process sent in the last window, for the share and for telling Redis;
//! - `tls`: what a `rediss://` connection trusts, and its crypto provider.

mod builder;
mod diagnosis;
mod error;
mod fallback;
mod metrics;
mod own;
mod shared_window;
mod tls;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use liveapi_request::{AcquireError, LimiterConfigError, RateLimit, RateLimiter, Throttled, Timer};
use redis::aio::ConnectionManager;

pub use builder::{
    DEFAULT_EGRESS, DEFAULT_KEY_PREFIX, DEFAULT_PROBE_INTERVAL, DEFAULT_REDIS_TIMEOUT,
    DEFAULT_TRANSIT_MARGIN, RedisRateLimiterBuilder,
};
pub use error::RedisLimiterError;
pub use fallback::RedisLink;

use diagnosis::Failure;
use fallback::{Ask, Fallback, Plan, Unanswered};
use shared_window::{SharedWindow, Verdict};

#[derive(Debug)]
struct State {
    fallback: Fallback,
    /// Opened by the first permit on a Tokio runtime; dropped when Redis stops answering, so
    /// that the next probe connects afresh on the runtime of its caller.
    connection: Option<ConnectionManager>,
    warned_no_runtime: bool,
}

/// The Polyv rate limit of a fleet of processes, shared through Redis.
///
/// Polyv allows 1500 requests per 10 s per source IP across its whole API host, then blocks
/// the IP for five minutes (`docs/polyv.md#rate-limit`). Each client's in-process
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
///   or a refused or dropped connection, twice in a row), the process falls back to its own
///   share of the budget (the budget divided by the expected number of processes, or an
///   explicit fallback limit), logs a warning once per outage through `tracing`, and asks
///   Redis again at most once per [`probe_interval`] (1 s), with a send its share has room
///   for. It never falls back to the whole budget, and it starts on the share only one window
///   after Redis stopped answering: until then the window may hold all that Redis admitted
///   to the fleet. With no Tokio runtime (a blocking call), it keeps to the share at once,
///   and those sends are told to Redis with the next call that reaches it.
/// - **A Redis that cannot be used is no outage.** One that refuses the password
///   (`WRONGPASS`, `NOAUTH`) or the limiter's commands (`NOPERM`), lacks the URL's database,
///   is not a Redis at all, or whose TLS certificate does not verify, fails the permit at
///   once with a [`LimiterConfigError`] (a [`RedisLimiterError::Misconfigured`] naming the
///   cause): the call fails as a configuration error, is not retried, and sends nothing.
///   Falling back would only hide the mistake behind slow calls. The next call asks again,
///   on a new connection.
/// - **TLS.** `rediss://` (and `valkeys://`) connect through rustls, with the certificate and
///   host name always verified: against the Mozilla roots, as the SDK's HTTPS, or against the
///   CA given with [`ca_file`] or [`ca_pem`]. No setting turns verification off; a URL that
///   asks for it (`#insecure`) is refused. The connection uses the process's default rustls
///   provider, and installs the SDK's (*ring*, `tls::crypto_provider`) as that
///   default when the application has installed none.
/// - **Secrets.** The URL's password never appears in errors, logs or `Debug`: they name the
///   Redis by host, port and database, and what a server says back is kept only without it.
/// - **Metrics.** Outages and recoveries are counted, with a gauge of the limiters on their
///   share, labelled by the egress label ([`describe_metrics`](Self::describe_metrics);
///   `docs/metrics.md`).
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
/// Give the client its builder ([`ClientBuilder::polyv_rate_limit`] with a
/// [`RedisRateLimiterBuilder`], which names the key by the client's Polyv app), or build it
/// yourself and give the client (or an `EngineBuilder::polyv_rate_limiter`) an `Arc` of it.
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
///     .polyv(PolyvCredentials::builder().app_id("my_polyv_app").secret("app_secret").build()?)
///     .polyv_rate_limit(Arc::new(limiter))
///     .build()?;
/// # Ok(()) }
/// ```
///
/// [`ClientBuilder::polyv_rate_limit`]: crate::ClientBuilder::polyv_rate_limit
/// [`ca_file`]: RedisRateLimiterBuilder::ca_file
/// [`ca_pem`]: RedisRateLimiterBuilder::ca_pem
/// [`timeout`]: RedisRateLimiterBuilder::timeout
/// [`transit_margin`]: RedisRateLimiterBuilder::transit_margin
/// [`probe_interval`]: RedisRateLimiterBuilder::probe_interval
pub struct RedisRateLimiter {
    shared: SharedWindow,
    limit: RateLimit,
    fallback: RateLimit,
    probe_interval: Duration,
    /// This process's window while on its share: the fallback limit's, plus the margin.
    own_window: Duration,
    /// The egress label, for the metrics.
    egress: String,
    state: Mutex<State>,
}

impl Drop for RedisRateLimiter {
    fn drop(&mut self) {
        if self.link() == RedisLink::Fallback {
            metrics::dropped_on_fallback(&self.egress);
        }
    }
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("redis", &self.shared.address())
            .field("tls", &self.shared.tls())
            .field("key", &self.shared.key())
            .field("limit", &self.limit)
            .field("fallback", &self.fallback)
            .field("timeout", &self.shared.timeout())
            .field("probe_interval", &self.probe_interval)
            .field("window", &self.shared.window())
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
        ask: Ask,
    },
    /// Redis cannot be used as configured: the call fails with this.
    Misconfigured(LimiterConfigError),
}

impl RedisRateLimiter {
    /// The Redis key of the shared window.
    #[must_use]
    pub fn key(&self) -> &str {
        self.shared.key()
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
        self.lock().fallback.link()
    }

    /// Describes the limiter's metrics (their help text) to the installed `metrics`
    /// recorder: call it once after installing one, beside
    /// `liveapi::request::metrics::describe()`. The limiter counts its outages
    /// (`liveapi_rate_limit_redis_fallbacks_total`), their ends
    /// (`liveapi_rate_limit_redis_recoveries_total`), and keeps a gauge of the limiters on
    /// their fallback share (`liveapi_rate_limit_redis_on_fallback`), each labelled by the
    /// egress label; `docs/metrics.md` lists them.
    pub fn describe_metrics() {
        metrics::describe();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides, under the lock, what the next step of one permit is.
    fn plan(&self, timer: &dyn Timer) -> Step {
        let mut state = self.lock();
        let now = timer.now();
        if tokio::runtime::Handle::try_current().is_err() {
            if !state.warned_no_runtime {
                state.warned_no_runtime = true;
                tracing::warn!(
                    redis = %self.shared.address(),
                    share = self.fallback.limit(),
                    window_ms = u64::try_from(self.fallback.window().as_millis()).unwrap_or(u64::MAX),
                    "no Tokio runtime: Polyv calls without one keep to this process's share of the rate limit instead of asking Redis"
                );
            }
            return match state.fallback.without_redis(now) {
                Ok(()) => Step::Admitted,
                Err(pause) => Step::Wait(pause),
            };
        }
        let ask = match state.fallback.plan(now) {
            Plan::Admitted => return Step::Admitted,
            Plan::Wait(pause) => return Step::Wait(pause),
            Plan::Ask(ask) => ask,
        };
        let connection = match &state.connection {
            Some(connection) => connection.clone(),
            None => match self.shared.connect() {
                Ok(connection) => {
                    state.connection = Some(connection.clone());
                    connection
                }
                Err(Failure::Misconfigured(problem)) => {
                    drop(state);
                    return Step::Misconfigured(self.misconfigured(&ask, problem));
                }
                Err(Failure::Unanswered(error)) => {
                    drop(state);
                    return self.unreachable(timer, &ask, &error);
                }
            },
        };
        Step::Ask { connection, ask }
    }

    /// Redis did not answer, twice, or to a probe. When that starts an outage, the caller
    /// plans again, on the share, which is full for one window; during one, the probe's place
    /// in the share becomes a send on the share.
    fn unreachable(&self, timer: &dyn Timer, ask: &Ask, error: &str) -> Step {
        let mut state = self.lock();
        let now = timer.now();
        state.connection = None;
        match state.fallback.unanswered(now, ask) {
            Unanswered::OutageStarted => {
                metrics::fell_back(&self.egress);
                tracing::warn!(
                    redis = %self.shared.address(),
                    key = %self.shared.key(),
                    error,
                    share = self.fallback.limit(),
                    window_ms = u64::try_from(self.own_window.as_millis()).unwrap_or(u64::MAX),
                    "Redis is unreachable: after one window, Polyv calls keep to this process's share of the rate limit until it answers"
                );
                Step::Wait(Duration::ZERO)
            }
            Unanswered::StillDown { admitted } => {
                tracing::debug!(redis = %self.shared.address(), error, "Redis still unreachable");
                if admitted {
                    Step::Admitted
                } else {
                    Step::Wait(Duration::ZERO)
                }
            }
        }
    }

    /// Redis cannot be used as configured: gives back what `ask` took, so that nothing is
    /// counted for a send that will not be made, and drops the connection, so that the next
    /// call connects afresh (to a Redis that may have been fixed meanwhile). The link with
    /// Redis stays as it was: a Redis that cannot be used is not an outage.
    fn misconfigured(&self, ask: &Ask, problem: String) -> LimiterConfigError {
        let mut state = self.lock();
        state.connection = None;
        state.fallback.ask_again(ask);
        drop(state);
        tracing::debug!(redis = %self.shared.address(), problem, "Redis cannot be used as configured");
        LimiterConfigError::new(RedisLimiterError::Misconfigured {
            address: self.shared.address().to_owned(),
            problem,
        })
    }

    /// Redis answered (`admitted` or not): settles the reservation, and ends an outage.
    fn answered(&self, timer: &dyn Timer, ask: &Ask, admitted: bool) {
        let mut state = self.lock();
        let now = timer.now();
        if state.fallback.answered(now, ask, admitted) {
            metrics::recovered(&self.egress);
            tracing::warn!(
                redis = %self.shared.address(),
                key = %self.shared.key(),
                told = ask.backfill.len(),
                "Redis answers again: the Polyv rate limit is shared again"
            );
        }
    }

    async fn acquire_permit(
        &self,
        deadline: Option<Instant>,
        timer: &dyn Timer,
    ) -> Result<(), AcquireError> {
        let mut strikes = 0;
        loop {
            let pause = match self.plan(timer) {
                Step::Admitted => return Ok(()),
                Step::Wait(pause) => pause,
                Step::Misconfigured(error) => return Err(error.into()),
                Step::Ask { connection, ask } => {
                    match self.shared.ask(connection, &ask.backfill).await {
                        Ok(Verdict::Admitted) => {
                            self.answered(timer, &ask, true);
                            return Ok(());
                        }
                        Ok(Verdict::Full(pause)) => {
                            self.answered(timer, &ask, false);
                            pause
                        }
                        Err(Failure::Misconfigured(problem)) => {
                            return Err(self.misconfigured(&ask, problem).into());
                        }
                        Err(Failure::Unanswered(error)) if !ask.probe && strikes == 0 => {
                            // One slow or lost answer is not an outage: ask once more first.
                            strikes += 1;
                            self.lock().fallback.ask_again(&ask);
                            tracing::debug!(redis = %self.shared.address(), error, "Redis did not answer; asking again");
                            continue;
                        }
                        Err(Failure::Unanswered(error)) => {
                            match self.unreachable(timer, &ask, &error) {
                                Step::Admitted => return Ok(()),
                                _ => continue,
                            }
                        }
                    }
                }
            };
            if deadline.is_some_and(|d| timer.now() + pause > d) {
                return Err(Throttled.into());
            }
            timer.sleep(pause).await;
        }
    }
}

impl RateLimiter for RedisRateLimiter {
    fn acquire<'a>(
        &'a self,
        deadline: Option<Instant>,
        timer: &'a dyn Timer,
    ) -> Pin<Box<dyn Future<Output = Result<(), AcquireError>> + Send + 'a>> {
        Box::pin(self.acquire_permit(deadline, timer))
    }
}
