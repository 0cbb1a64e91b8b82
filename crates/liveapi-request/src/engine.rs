//! The call engine: one loop that signs, sends, times out, waits for the rate limit and
//! retries, over any transport and any runtime.
//!
//! The loop is written once, as async code generic over how a request is sent and how time
//! passes. [`Engine::execute`] runs it over an [`AsyncHttpSend`] with the engine's
//! [`Timer`]; [`Engine::execute_blocking`] runs the very same loop over a blocking
//! [`HttpSend`] with the [`ThreadTimer`], driven to completion on the calling thread. What to
//! do after a failed attempt is always [`RetryPolicy::decide`], a pure function.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::Instrument;

use liveapi_model::ApiError;

use crate::meaning::{self, Class, Meaning};
use crate::metrics;
use crate::retry::{Attempt, Decision, Failure, RetryPolicy};
use crate::time::{block_on, timeout};
use crate::{
    AcquireError, AsyncHttpSend, BuildError, ClockOffset, Context, HttpSend, LocalRateLimiter,
    Operation, RateLimit, RateLimiter, ThreadTimer, Timer, TransportError, TransportErrorKind,
    Vendor, base_url, headers,
};

/// How one attempt of a call failed: before sending, on the way, or at the server.
///
/// The three are all there can be, so the enum is exhaustive: code above the engine matches
/// it without a catch-all that would have to invent a meaning.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// The request could not be built; nothing was sent.
    #[error(transparent)]
    Build(BuildError),
    /// No usable answer: the call may or may not have reached the server.
    #[error(transparent)]
    Transport(TransportError),
    /// The server answered with an error.
    #[error("{error}")]
    Api {
        /// What the server answered.
        error: ApiError,
        /// How far this machine's clock was from the answer's `Date`, when it had one.
        clock_offset: Option<ClockOffset>,
    },
}

impl AttemptError {
    /// What the attempt's failure means: [`meaning::of_build`], [`meaning::of_transport`] or
    /// [`meaning::of_answer`].
    #[must_use]
    pub fn meaning(&self) -> Meaning {
        match self {
            Self::Build(e) => meaning::of_build(e),
            Self::Transport(e) => e.meaning(),
            Self::Api {
                error,
                clock_offset,
            } => meaning::of_answer(error, *clock_offset),
        }
    }
}

/// A call that did not succeed: the error of its last attempt, and what the whole call means.
///
/// [`meaning`](Self::meaning) answers the question that matters for money: an earlier attempt
/// that timed out may have been applied even when the last attempt was refused for a reason
/// the server checks before it looks at the `request_id` (rate limiting, a stale timestamp, a
/// server error).
#[derive(Debug)]
pub struct CallError {
    last: AttemptError,
    vendor: Vendor,
    attempts: u32,
    meaning: Meaning,
}

impl CallError {
    /// The error of the last attempt.
    #[must_use]
    pub fn last(&self) -> &AttemptError {
        &self.last
    }

    /// The error of the last attempt, by value.
    #[must_use]
    pub fn into_last(self) -> AttemptError {
        self.last
    }

    /// The vendor the call was for.
    #[must_use]
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// How many attempts were made (0 if the call was refused before the first one).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// What the call means: its last attempt's meaning, as [`Meaning::of_call`] reads it
    /// after the attempts before it. A coin change whose outcome is unknown must be resent
    /// with the same `request_id` and parameters, or reconciled, before anything else is
    /// decided about it.
    #[must_use]
    pub fn meaning(&self) -> Meaning {
        self.meaning
    }

    /// When the server refused the call's time: how far the local clock is from the
    /// server's, if the answer had a `Date` header.
    #[must_use]
    pub fn clock_offset(&self) -> Option<ClockOffset> {
        match &self.last {
            AttemptError::Api { clock_offset, .. } if self.meaning.class() == Class::Clock => {
                *clock_offset
            }
            _ => None,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.last, f)
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.last)
    }
}

/// Settings of one call that differ from the engine's.
///
/// ```
/// use std::time::Duration;
/// use liveapi_request::CallSettings;
///
/// let settings = CallSettings::new()
///     .attempt_timeout(Duration::from_secs(2))
///     .deadline(Duration::from_secs(5))
///     .max_attempts(2);
/// assert_eq!(settings.get_max_attempts(), Some(2));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallSettings {
    attempt_timeout: Option<Duration>,
    deadline: Option<Option<Duration>>,
    max_attempts: Option<u32>,
}

impl CallSettings {
    /// The engine's settings, unchanged.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            attempt_timeout: None,
            deadline: None,
            max_attempts: None,
        }
    }

    /// How long each attempt of this call may take.
    #[must_use]
    pub const fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// How long this call may take in all, retries and pauses included.
    #[must_use]
    pub const fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(Some(deadline));
        self
    }

    /// No deadline for this call beyond what the retry policy allows.
    #[must_use]
    pub const fn no_deadline(mut self) -> Self {
        self.deadline = Some(None);
        self
    }

    /// How many attempts this call gets, retries included (at least 1).
    #[must_use]
    pub const fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(if attempts == 0 { 1 } else { attempts });
        self
    }

    /// The attempt timeout set for this call, if any.
    #[must_use]
    pub const fn get_attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
    }

    /// The deadline set for this call, if any (`Some(None)`: no deadline).
    #[must_use]
    pub const fn get_deadline(&self) -> Option<Option<Duration>> {
        self.deadline
    }

    /// The number of attempts set for this call, if any.
    #[must_use]
    pub const fn get_max_attempts(&self) -> Option<u32> {
        self.max_attempts
    }
}

/// Signs, sends, times out, rate-limits and retries calls of either vendor, over any
/// transport.
///
/// - **Signing per attempt**: each attempt is signed just before it is sent (fresh LinkV
///   nonce or Polyv timestamp) and keeps the operation's `request_id`, so a coin change is
///   applied once however often the network fails.
/// - **Retries** follow [`RetryPolicy::decide`]: connection failures, timeouts, server errors
///   and rate limiting are retried with exponential backoff and jitter, bad parameters and bad
///   signatures never; a server's `Retry-After` (seconds or an HTTP date) is honoured within
///   the deadline.
/// - **Time limits**: a per-attempt timeout and an overall deadline, each of which a call can
///   override ([`CallSettings`]).
/// - **Polyv's rate limit**: every Polyv attempt first takes a permit from the engine's
///   [`RateLimiter`] (in-process by default: [`RateLimit::POLYV`], 1200 per 10 s).
/// - **Plain HTTP** only to loopback hosts unless allowed: secrets and signatures must not
///   cross a network in clear text by accident.
/// - **Tracing**: a `liveapi.call` span per call (vendor, operation, request id, attempts) and
///   a `liveapi.attempt` span per attempt; URIs, headers, bodies, signatures and secrets are
///   never recorded.
///
/// Cloning is cheap; clones share the rate limiter.
///
/// ```
/// use bytes::Bytes;
/// use liveapi_model::linkv::{GetUserTokens, OpenId};
/// use liveapi_request::{Engine, LinkvCredentials, ThreadTimer, TransportError};
///
/// let creds = LinkvCredentials::builder()
///     .app_id("app")
///     .secret("secret")
///     .base_url("http://127.0.0.1:1")
///     .build()?;
/// // A stand-in transport that answers every request with a balance of 7 coins.
/// let mut transport = |request: http::Request<Bytes>| {
///     assert_eq!(request.uri().path(), "/open/finanv0/getUserTokens");
///     Ok::<_, TransportError>(http::Response::new(Bytes::from(
///         r#"{"status":"200","data":{"tokens":"7"}}"#,
///     )))
/// };
/// let engine = Engine::builder(ThreadTimer).build();
/// let balance = engine.execute_blocking(&mut transport, &GetUserTokens::new(OpenId::new("42")?), &creds)?;
/// assert_eq!(balance.coins.get(), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    timer: Arc<dyn Timer>,
    context: Context,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    deadline: Option<Duration>,
    polyv_limiter: Option<Arc<dyn RateLimiter>>,
    allow_insecure_http: bool,
}

/// Configures an [`Engine`]. Every setting has a default suited to the two APIs.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct EngineBuilder {
    timer: Arc<dyn Timer>,
    context: Context,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    deadline: Option<Duration>,
    polyv_limiter: Option<Arc<dyn RateLimiter>>,
    allow_insecure_http: bool,
}

/// The per-attempt timeout unless configured: 10 s.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The overall deadline of a call unless configured: 30 s.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

impl EngineBuilder {
    /// How long one attempt may take, from sending to the last byte of the answer (default
    /// [`DEFAULT_ATTEMPT_TIMEOUT`]). A retry gets its own.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// How long a call may take in all, retries and pauses included (default
    /// [`DEFAULT_DEADLINE`]).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// No deadline for calls beyond what the retry policy allows.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// When failed attempts are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock and randomness requests are signed with (default: the system clock and the
    /// OS CSPRNG).
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// An in-process limit on Polyv calls (default [`RateLimit::POLYV`]); `None` turns the
    /// limit off. Retries count against it.
    pub fn polyv_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.polyv_limiter =
            limit.map(|limit| Arc::new(LocalRateLimiter::new(limit)) as Arc<dyn RateLimiter>);
        self
    }

    /// The limiter every Polyv attempt waits on, such as one shared by several processes.
    pub fn polyv_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.polyv_limiter = Some(limiter);
        self
    }

    /// How the engine waits and measures time, replacing the timer it was created with.
    pub fn timer(mut self, timer: impl Timer + 'static) -> Self {
        self.timer = Arc::new(timer);
        self
    }

    /// Whether plain `http://` may be used with hosts other than loopback (default: no; a
    /// request to such a host fails with [`BuildError::InsecureHttp`] before it is sent).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The engine.
    #[must_use]
    pub fn build(self) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                timer: self.timer,
                context: self.context,
                retry: self.retry,
                attempt_timeout: self.attempt_timeout,
                deadline: self.deadline,
                polyv_limiter: self.polyv_limiter,
                allow_insecure_http: self.allow_insecure_http,
            }),
        }
    }
}

impl Engine {
    /// A builder with the defaults, waiting and timing through `timer` (the Tokio timer of
    /// `liveapi-hyper`, or [`ThreadTimer`] for blocking calls only).
    pub fn builder(timer: impl Timer + 'static) -> EngineBuilder {
        EngineBuilder {
            timer: Arc::new(timer),
            context: Context::default(),
            retry: RetryPolicy::default(),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            deadline: Some(DEFAULT_DEADLINE),
            polyv_limiter: Some(Arc::new(LocalRateLimiter::new(RateLimit::POLYV))),
            allow_insecure_http: false,
        }
    }

    /// The clock and randomness requests are signed with.
    #[must_use]
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    /// The retry policy.
    #[must_use]
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The per-attempt timeout.
    #[must_use]
    pub fn attempt_timeout(&self) -> Duration {
        self.inner.attempt_timeout
    }

    /// The overall deadline of a call.
    #[must_use]
    pub fn deadline(&self) -> Option<Duration> {
        self.inner.deadline
    }

    /// The limiter Polyv calls wait on, if any.
    #[must_use]
    pub fn polyv_rate_limiter(&self) -> Option<&Arc<dyn RateLimiter>> {
        self.inner.polyv_limiter.as_ref()
    }

    /// Whether plain HTTP to non-loopback hosts is allowed.
    #[must_use]
    pub fn allows_insecure_http(&self) -> bool {
        self.inner.allow_insecure_http
    }

    /// Signs and sends `operation` through `transport`, retrying as the policy allows.
    ///
    /// # Errors
    /// A [`CallError`] with the last attempt's error.
    pub async fn execute<O, S>(
        &self,
        transport: &S,
        operation: &O,
        credentials: &O::Credentials,
    ) -> Result<O::Output, CallError>
    where
        O: Operation,
        S: AsyncHttpSend + ?Sized,
    {
        self.execute_with(transport, operation, credentials, &CallSettings::new())
            .await
    }

    /// [`execute`](Self::execute) with settings of this call.
    ///
    /// # Errors
    /// A [`CallError`] with the last attempt's error.
    pub async fn execute_with<O, S>(
        &self,
        transport: &S,
        operation: &O,
        credentials: &O::Credentials,
        settings: &CallSettings,
    ) -> Result<O::Output, CallError>
    where
        O: Operation,
        S: AsyncHttpSend + ?Sized,
    {
        let send = |request| transport.send(request);
        self.run(send, &*self.inner.timer, operation, credentials, settings)
            .await
    }

    /// Signs and sends `operation` through a blocking transport, with the same retries,
    /// deadline, `Retry-After` and rate limit as [`execute`](Self::execute), waiting by
    /// blocking the thread ([`ThreadTimer`], whatever timer the engine was built with).
    ///
    /// A blocking transport cannot be interrupted, so the per-attempt timeout is the
    /// transport's own to enforce; the deadline is checked between attempts. A rate limiter
    /// that needs an async runtime must not be used with blocking calls.
    ///
    /// # Errors
    /// A [`CallError`] with the last attempt's error.
    pub fn execute_blocking<O, S>(
        &self,
        transport: &mut S,
        operation: &O,
        credentials: &O::Credentials,
    ) -> Result<O::Output, CallError>
    where
        O: Operation,
        S: HttpSend + ?Sized,
    {
        let transport = RefCell::new(transport);
        let send = |request| std::future::ready(transport.borrow_mut().send(request));
        block_on(self.run(
            send,
            &ThreadTimer,
            operation,
            credentials,
            &CallSettings::new(),
        ))
    }

    /// The loop every call runs, whatever carries its bytes and however time passes.
    async fn run<O, F, Fut>(
        &self,
        send: F,
        timer: &dyn Timer,
        operation: &O,
        credentials: &O::Credentials,
        settings: &CallSettings,
    ) -> Result<O::Output, CallError>
    where
        O: Operation,
        F: Fn(http::Request<Bytes>) -> Fut,
        Fut: Future<Output = Result<http::Response<Bytes>, TransportError>>,
    {
        let span = tracing::info_span!(
            "liveapi.call",
            vendor = O::VENDOR.as_str(),
            operation = O::NAME,
            request_id = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        if let Some(id) = operation.request_id() {
            span.record("request_id", id.as_str());
        }
        let started = timer.now();
        let call = Call {
            engine: &self.inner,
            timer,
            policy: match settings.max_attempts {
                Some(n) => self.inner.retry.with_max_attempts(n),
                None => self.inner.retry,
            },
            attempt_timeout: settings
                .attempt_timeout
                .unwrap_or(self.inner.attempt_timeout),
            deadline: settings
                .deadline
                .unwrap_or(self.inner.deadline)
                .map(|d| started + d),
        };
        let result = call
            .run(&send, operation, credentials, &span)
            .instrument(span.clone())
            .await;
        let failure = result.as_ref().err().map(CallError::meaning);
        metrics::call_ended(
            O::VENDOR,
            O::NAME,
            failure.as_ref(),
            timer.now().saturating_duration_since(started),
        );
        result
    }
}

/// One call in progress: the engine's settings resolved against the call's own.
struct Call<'a> {
    engine: &'a Inner,
    timer: &'a dyn Timer,
    policy: RetryPolicy,
    attempt_timeout: Duration,
    deadline: Option<Instant>,
}

impl Call<'_> {
    async fn run<O, F, Fut>(
        &self,
        send: &F,
        operation: &O,
        credentials: &O::Credentials,
        span: &tracing::Span,
    ) -> Result<O::Output, CallError>
    where
        O: Operation,
        F: Fn(http::Request<Bytes>) -> Fut,
        Fut: Future<Output = Result<http::Response<Bytes>, TransportError>>,
    {
        let mut number = 0;
        let mut earlier_outcome_unknown = false;
        let mut clock_refusals = 0;
        loop {
            number += 1;
            span.record("attempts", number);
            metrics::attempt(O::VENDOR, O::NAME);
            let (result, retry_after) = self
                .attempt(send, operation, credentials)
                .instrument(tracing::debug_span!("liveapi.attempt", attempt = number))
                .await;
            let error = match result {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            let meaning = error.meaning();
            let failure = meaning.failure();
            if failure == Failure::ClockSkew {
                clock_refusals += 1;
            }
            let attempt = Attempt::new(number, failure)
                .with_idempotent(O::IDEMPOTENT)
                .with_remaining(self.remaining())
                .with_retry_after(retry_after)
                .with_clock_refusals(clock_refusals);
            match self.policy.decide(attempt, self.engine.context.jitter()) {
                Decision::RetryAfter(pause) => {
                    tracing::debug!(
                        attempt = number,
                        pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                        error = %error,
                        "retrying"
                    );
                    earlier_outcome_unknown |= meaning.may_have_been_applied();
                    metrics::retry(O::VENDOR, O::NAME, &meaning);
                    self.timer.sleep(pause).await;
                }
                _ => {
                    let meaning = meaning.of_call(earlier_outcome_unknown);
                    tracing::info!(
                        attempts = number,
                        class = meaning.class().as_str(),
                        error = %error,
                        "call failed"
                    );
                    return Err(CallError {
                        last: error,
                        vendor: O::VENDOR,
                        attempts: number,
                        meaning,
                    });
                }
            }
        }
    }

    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(self.timer.now()))
    }

    /// One attempt: wait for the rate limit, sign, send within the time left, read, parse.
    async fn attempt<O, F, Fut>(
        &self,
        send: &F,
        operation: &O,
        credentials: &O::Credentials,
    ) -> (Result<O::Output, AttemptError>, Option<Duration>)
    where
        O: Operation,
        F: Fn(http::Request<Bytes>) -> Fut,
        Fut: Future<Output = Result<http::Response<Bytes>, TransportError>>,
    {
        if O::VENDOR == Vendor::Polyv
            && let Some(limiter) = &self.engine.polyv_limiter
        {
            let asked = self.timer.now();
            let permit = limiter.acquire(self.deadline, self.timer).await;
            metrics::rate_limit_waited(
                O::VENDOR,
                self.timer.now().saturating_duration_since(asked),
            );
            match permit {
                Ok(()) => {}
                Err(AcquireError::Config(e)) => {
                    return (Err(AttemptError::Build(BuildError::RateLimiter(e))), None);
                }
                Err(_) => {
                    let throttled = TransportError::new(TransportErrorKind::Throttled);
                    return (Err(AttemptError::Transport(throttled)), None);
                }
            }
        }
        // Signed as late as possible, so the nonce's time is the time it is sent.
        let request = match self.engine.context.build(operation, credentials) {
            Ok(request) => request,
            Err(e) => return (Err(AttemptError::Build(e)), None),
        };
        if !self.engine.allow_insecure_http
            && let Err(e) = base_url::require_protected(request.uri(), O::VENDOR)
        {
            return (Err(AttemptError::Build(BuildError::InsecureHttp(e))), None);
        }
        let time_left = self.remaining().map_or(self.attempt_timeout, |remaining| {
            remaining.min(self.attempt_timeout)
        });
        // Latency is read for the debug events only: a clock read per attempt is measurable
        // at tens of thousands of calls per second.
        let started = tracing::enabled!(tracing::Level::DEBUG).then(|| self.timer.now());
        // Kept for the error only: an `Authority` clone is a reference count, no allocation.
        let target = (
            request.uri().authority().cloned(),
            request.uri().scheme_str() == Some("https"),
        );
        let response = if time_left.is_zero() {
            Err(TransportError::new(TransportErrorKind::Timeout))
        } else {
            timeout(self.timer, time_left, send(request))
                .await
                .unwrap_or_else(|| Err(TransportError::new(TransportErrorKind::Timeout)))
        };
        let latency_ms = started.map(|started| {
            u64::try_from((self.timer.now() - started).as_millis()).unwrap_or(u64::MAX)
        });
        let response = match response {
            Ok(response) => {
                tracing::debug!(status = response.status().as_u16(), latency_ms, "answered");
                response
            }
            Err(e) => {
                let e = match target {
                    (Some(authority), https) => e.at(&authority, https),
                    (None, _) => e,
                };
                tracing::debug!(latency_ms, error = %e, "no answer");
                return (Err(AttemptError::Transport(e)), None);
            }
        };
        match operation.parse(&response) {
            Ok(output) => (Ok(output), None),
            // What the headers say matters only to a failed attempt's meaning and next step.
            Err(error) => {
                let received = self.engine.context.now();
                let clock_offset = headers::server_date(response.headers())
                    .map(|server| ClockOffset::between(received, server));
                let retry_after = headers::retry_after(response.headers(), received);
                (
                    Err(AttemptError::Api {
                        error,
                        clock_offset,
                    }),
                    retry_after,
                )
            }
        }
    }
}
