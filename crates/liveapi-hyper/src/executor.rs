//! The executor: one pooled hyper client that signs, sends, times out, and retries.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use liveapi_request::retry::{Attempt, Decision, Failure, RetryPolicy};
use liveapi_request::{AsyncHttpSend, CallError, Context, Operation, Vendor};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::Instrument;

use crate::rate_limit::RateLimiter;
use crate::{ConfigError, RateLimit, TransportError, TransportErrorKind};

/// What [`Executor::execute`] returns when a call fails: building, the transport (a
/// [`TransportError`]) or the vendor's answer (`E`).
pub type ExecuteError<E> = CallError<E, TransportError>;

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = HttpConnector;

/// Sends signed requests over a pool of keep-alive connections, with a per-attempt timeout, an
/// overall deadline, a response size limit, idempotent retries and a client-side rate limit
/// for Polyv.
///
/// Cloning is cheap and clones share the pool and the rate limit; make one per process.
///
/// ```no_run
/// use liveapi_hyper::Executor;
/// use liveapi_request::LinkvCredentials;
/// use liveapi_request::model::linkv::{GetUserTokens, OpenId};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let executor = Executor::builder().build()?;
/// let creds = LinkvCredentials::new("app_key", "app_secret", "alias", "https://live.example.com")?;
/// let balance = executor.execute(&GetUserTokens::new(OpenId::new("42")?), &creds).await?;
/// println!("{balance} coins");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Executor {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<Connector, Full<Bytes>>,
    attempt_timeout: Duration,
    deadline: Option<Duration>,
    max_body_bytes: usize,
    retry: RetryPolicy,
    polyv_limiter: Option<RateLimiter>,
    in_flight: Semaphore,
    context: Context,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("attempt_timeout", &self.attempt_timeout)
            .field("deadline", &self.deadline)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("retry", &self.retry)
            .field("polyv_limiter", &self.polyv_limiter.is_some())
            .finish_non_exhaustive()
    }
}

/// Configures an [`Executor`]. Every setting has a default suited to the two APIs.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ExecutorBuilder {
    attempt_timeout: Duration,
    connect_timeout: Duration,
    deadline: Option<Duration>,
    max_body_bytes: usize,
    retry: RetryPolicy,
    polyv_rate_limit: Option<RateLimit>,
    max_in_flight: usize,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    context: Context,
    #[cfg(feature = "rustls")]
    roots: crate::tls::Roots,
}

impl Default for ExecutorBuilder {
    fn default() -> Self {
        Self {
            attempt_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            deadline: Some(Duration::from_secs(30)),
            max_body_bytes: 1 << 20,
            retry: RetryPolicy::default(),
            polyv_rate_limit: Some(RateLimit::POLYV),
            max_in_flight: 128,
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle_per_host: 32,
            context: Context::default(),
            #[cfg(feature = "rustls")]
            roots: crate::tls::Roots::default(),
        }
    }
}

impl ExecutorBuilder {
    /// How long one attempt may take, from sending to the last byte of the answer (default
    /// 10 s). A retry gets its own.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// How long opening a TCP connection may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a call may take in all, retries and pauses included (default 30 s); `None`
    /// for no limit beyond the retry policy's.
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The largest response body read (default 1 MiB); a larger one fails the attempt.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// When failed attempts are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The client-side limit on Polyv calls (default [`RateLimit::POLYV`], 1200 per 10 s);
    /// `None` turns it off. Retries count against it.
    pub fn polyv_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.polyv_rate_limit = limit;
        self
    }

    /// The most attempts in flight at once (default 128), which also bounds the number of
    /// open connections; further calls wait for a free slot.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.max_in_flight = limit.max(1);
        self
    }

    /// How long an unused pooled connection is kept (default 60 s).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The most idle connections kept per host (default 32).
    pub fn pool_max_idle_per_host(mut self, limit: usize) -> Self {
        self.pool_max_idle_per_host = limit;
        self
    }

    /// The clock and randomness requests are signed with (default: the system clock and the
    /// OS CSPRNG).
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Also trusts the CA certificates of a PEM document, for a private deployment or a test
    /// server. The default roots stay trusted.
    ///
    /// # Errors
    /// [`ConfigError::Certificate`] if the document holds no readable certificate.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ConfigError> {
        self.roots.add_pem(pem)?;
        Ok(self)
    }

    /// Whether the Mozilla roots compiled in by `webpki-roots` are trusted (default: yes).
    #[cfg(feature = "webpki-roots")]
    pub fn webpki_roots(mut self, trust: bool) -> Self {
        self.roots.webpki = trust;
        self
    }

    /// Whether the operating system's root certificates are trusted (default: no).
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, trust: bool) -> Self {
        self.roots.native = trust;
        self
    }

    /// Builds the executor. Must be called inside a Tokio runtime only when calls are made,
    /// not to build.
    ///
    /// # Errors
    /// A [`ConfigError`] if the TLS configuration cannot be made (no roots, a bad certificate).
    pub fn build(self) -> Result<Executor, ConfigError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        #[cfg(feature = "rustls")]
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(self.roots.client_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        #[cfg(not(feature = "rustls"))]
        let connector = http;

        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);
        Ok(Executor {
            inner: Arc::new(Inner {
                client,
                attempt_timeout: self.attempt_timeout,
                deadline: self.deadline,
                max_body_bytes: self.max_body_bytes,
                retry: self.retry,
                polyv_limiter: self.polyv_rate_limit.map(RateLimiter::new),
                in_flight: Semaphore::new(self.max_in_flight),
                context: self.context,
            }),
        })
    }
}

impl Executor {
    /// A builder with the defaults.
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// Whether this build can make `https://` calls (the `rustls` feature).
    #[must_use]
    pub const fn supports_https() -> bool {
        cfg!(feature = "rustls")
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

    /// Signs and sends `operation`, retrying as the policy allows.
    ///
    /// Every attempt is signed afresh (new nonce or timestamp) and carries the operation's
    /// `request_id` unchanged, so a LinkV coin change is applied at most once however many
    /// attempts reach the server. Bad parameters and bad signatures are never retried.
    ///
    /// # Errors
    /// An [`ExecuteError`] from the last attempt.
    pub async fn execute<O>(
        &self,
        operation: &O,
        credentials: &O::Credentials,
    ) -> Result<O::Output, ExecuteError<O::Error>>
    where
        O: Operation,
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
        self.retry_loop(operation, credentials, &span)
            .instrument(span.clone())
            .await
    }

    async fn retry_loop<O: Operation>(
        &self,
        operation: &O,
        credentials: &O::Credentials,
        span: &tracing::Span,
    ) -> Result<O::Output, ExecuteError<O::Error>> {
        let inner = &*self.inner;
        let deadline = inner.deadline.map(|d| Instant::now() + d);
        let mut number = 0;
        loop {
            number += 1;
            span.record("attempts", number);
            let result = self
                .attempt(operation, credentials, deadline)
                .instrument(tracing::debug_span!("liveapi.attempt", attempt = number))
                .await;
            let error = match result {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            let attempt = Attempt {
                number,
                failure: failure(&error),
                idempotent: O::IDEMPOTENT,
                remaining: deadline.map(|d| d.saturating_duration_since(Instant::now())),
            };
            match inner.retry.decide(attempt, inner.context.jitter()) {
                Decision::Stop => {
                    tracing::info!(attempts = number, error = %error, "call failed");
                    return Err(error);
                }
                Decision::RetryAfter(pause) => {
                    tracing::debug!(
                        attempt = number,
                        pause_ms = pause.as_millis() as u64,
                        error = %error,
                        "retrying"
                    );
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// One attempt: wait for the rate limit, sign, send, read, parse.
    async fn attempt<O: Operation>(
        &self,
        operation: &O,
        credentials: &O::Credentials,
        deadline: Option<Instant>,
    ) -> Result<O::Output, ExecuteError<O::Error>> {
        let inner = &*self.inner;
        if O::VENDOR == Vendor::Polyv
            && let Some(limiter) = &inner.polyv_limiter
        {
            limiter.acquire(deadline).await.map_err(|_| {
                CallError::Transport(TransportError::new(TransportErrorKind::Throttled))
            })?;
        }
        // Signed as late as possible, so the nonce's time is the time it is sent.
        let request = inner
            .context
            .build(operation, credentials)
            .map_err(CallError::Build)?;
        let timeout = match deadline {
            Some(d) => inner
                .attempt_timeout
                .min(d.saturating_duration_since(Instant::now())),
            None => inner.attempt_timeout,
        };
        let started = Instant::now();
        let response = self
            .send_once(request, timeout)
            .await
            .map_err(CallError::Transport);
        let latency_ms = started.elapsed().as_millis() as u64;
        match &response {
            Ok(r) => tracing::debug!(status = r.status().as_u16(), latency_ms, "answered"),
            Err(e) => tracing::debug!(latency_ms, error = %e, "no answer"),
        }
        operation.parse(&response?).map_err(CallError::Api)
    }

    /// Sends one request and reads the whole answer within `timeout`.
    async fn send_once(
        &self,
        request: http::Request<Bytes>,
        timeout: Duration,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let inner = &*self.inner;
        if !Self::supports_https() && request.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
            return Err(TransportError::new(TransportErrorKind::NoTls));
        }
        if timeout.is_zero() {
            return Err(TransportError::new(TransportErrorKind::Timeout));
        }
        let exchange = async {
            // Waiting for a slot counts against the timeout: to the caller it is all latency.
            let _permit = inner
                .in_flight
                .acquire()
                .await
                .map_err(|e| TransportError::with_source(TransportErrorKind::Io, e))?;
            let (parts, body) = request.into_parts();
            let response = inner
                .client
                .request(http::Request::from_parts(parts, Full::new(body)))
                .await
                .map_err(classify_request_error)?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, inner.max_body_bytes)
                .collect()
                .await
                .map_err(classify_body_error)?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(TransportError::new(TransportErrorKind::Timeout)))
    }
}

/// One attempt through the executor's pool, with its timeout and size limit but without
/// retries, so the executor can carry [`liveapi_request::call_async`] and other generic code.
impl AsyncHttpSend for Executor {
    type Error = TransportError;

    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        self.send_once(request, self.inner.attempt_timeout)
    }
}

/// How a failed attempt counts for the retry policy; transport errors know best.
fn failure<E: liveapi_request::VendorError>(error: &ExecuteError<E>) -> Failure {
    match error {
        CallError::Transport(e) => e.failure(),
        other => other.failure(),
    }
}

fn classify_request_error(error: hyper_util::client::legacy::Error) -> TransportError {
    let kind = if is_tls_failure(&error) {
        TransportErrorKind::Tls
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Io
    };
    TransportError::with_source(kind, error)
}

fn classify_body_error(error: Box<dyn StdError + Send + Sync>) -> TransportError {
    let kind = if error.is::<LengthLimitError>() {
        TransportErrorKind::BodyTooLarge
    } else {
        TransportErrorKind::Io
    };
    TransportError::with_source(kind, error)
}

/// Whether a rustls error lies anywhere in the chain. IO errors hide the error they wrap from
/// `source()`, so each one is opened with `get_ref`.
#[cfg(feature = "rustls")]
fn is_tls_failure(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && is_tls_failure(inner)
        {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(not(feature = "rustls"))]
fn is_tls_failure(_: &(dyn StdError + 'static)) -> bool {
    false
}
