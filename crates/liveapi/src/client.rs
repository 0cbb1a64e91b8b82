//! The high-level client: one value per process, for both vendors, over any transport.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use liveapi_hyper::{HyperTransport, HyperTransportBuilder, TokioTimer};
use liveapi_model::linkv::{
    ChangeType, Coins, GetUserTokens, OpenId, OrderId, PendingChange, Platform, PortraitUri,
    RequestId, ThGetToken, UsdCents, UserId, UserName,
};
use liveapi_model::polyv::{CashSettings, GetDonate, GoodSettings, Scope, UpdateCash, UpdateGoods};
use liveapi_request::retry::RetryPolicy;
use liveapi_request::{
    AsyncHttpSend, BaseUrl, CallSettings, Context, Engine, EngineBuilder, LinkvCredentials,
    Operation, PolyvCredentials, RateLimit, RateLimiter, Timer, TransportError, Vendor,
};

use crate::call::Call;
use crate::coins::{ChangeCoins, CompleteOrder, SendChange};
use crate::{ConfigError, Error, ErrorKind, env};

/// How many days credited coins last unless a call says otherwise: the 91 days of the vendor's
/// own example (`$expiration = (time() / 86400 + 91) * 86400`, LinkV seed, `orderSuccess`).
pub const DEFAULT_COIN_LIFETIME_DAYS: u32 = 91;

/// How old a coin change may be and still be sent unless configured otherwise: 12 hours.
///
/// A server remembers request ids for a while only (the emulator for 24 hours, like most
/// idempotency stores); resending a change after it forgot the id would apply it again. The
/// default stays well inside that, leaving room for clocks that disagree.
pub const DEFAULT_RESEND_WINDOW: Duration = Duration::from_secs(12 * 3_600);

/// A client of the LinkV and Polyv server APIs.
///
/// It signs every call, sends it through its transport (pooled HTTPS over hyper by default,
/// or any [`AsyncHttpSend`]: see [`ClientBuilder::transport`]), retries what can be retried
/// (re-signed, with the same `request_id`) and returns typed results. Cloning is cheap: clones
/// share the transport and the Polyv rate limit. Build one per process with
/// [`Client::builder`] or [`Client::from_env`].
///
/// Every call is a value that is sent when awaited; its settings can be changed first
/// (`.attempt_timeout(…)`, `.deadline(…)`, `.max_attempts(…)`), and it owns a handle to the
/// client, so its future is `'static` and can be spawned.
///
/// # Dropping a call
///
/// Dropping a call's future before it completes (a `select!`, a timeout around it, a task
/// aborted at shutdown) may leave a request on the wire: for a coin change the outcome is then
/// unknown, as after a timeout, and the request id generated inside the call is lost with it.
/// To stay safe, make the change's request id (or the whole change) first, store it with your
/// business operation, then send it; after any interruption, resend with the same request id.
///
/// ```no_run
/// use liveapi::{Client, LinkvCredentials};
/// use liveapi::model::linkv::{Coins, UserId};
///
/// # async fn run() -> Result<(), liveapi::Error> {
/// let client = Client::builder()
///     .linkv(
///         LinkvCredentials::builder()
///             .app_id("app_key")
///             .secret("app_secret")
///             .base_url("https://live.example.com")
///             .build()?,
///     )
///     .build()?;
/// let user = client.login_user(UserId::new("user-42")?).await?;
/// client.add_coins(&user.open_id, Coins::new(100)?).await?;
/// println!("balance: {}", client.balance(&user.open_id).await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    transport: Transport,
    linkv: Option<LinkvCredentials>,
    polyv: Option<PolyvCredentials>,
    coin_lifetime_days: u32,
    resend_window: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("engine", &self.inner.engine)
            .field("transport", &self.inner.transport.name)
            .field("linkv", &self.inner.linkv)
            .field("polyv", &self.inner.polyv)
            .field("coin_lifetime_days", &self.inner.coin_lifetime_days)
            .field("resend_window", &self.inner.resend_window)
            .finish()
    }
}

/// The response future of a transport, boxed so that a client's type does not name its
/// transport.
type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a>>;

/// [`AsyncHttpSend`] as a trait object.
trait ErasedSend: Send + Sync {
    fn send_boxed(&self, request: http::Request<Bytes>) -> SendFuture<'_>;
}

impl<T: AsyncHttpSend> ErasedSend for T {
    fn send_boxed(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        Box::pin(self.send(request))
    }
}

/// The client's transport, whatever its type; one allocation per attempt is the price, next
/// to a network round trip.
struct Transport {
    send: Box<dyn ErasedSend>,
    name: &'static str,
}

impl Transport {
    fn new<T: AsyncHttpSend + 'static>(transport: T) -> Self {
        Self {
            send: Box::new(transport),
            name: std::any::type_name::<T>(),
        }
    }
}

impl AsyncHttpSend for Transport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        self.send.send_boxed(request)
    }
}

/// Configures a [`Client`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    linkv: Option<LinkvCredentials>,
    polyv: Option<PolyvCredentials>,
    engine: EngineBuilder,
    retry: RetryPolicy,
    hyper: HyperTransportBuilder,
    hyper_configured: bool,
    transport: Option<Transport>,
    coin_lifetime_days: u32,
    resend_window: Option<Duration>,
    allow_insecure_http: bool,
    /// A Redis limiter to build with the Polyv app id, replacing the engine's limiter.
    #[cfg(feature = "redis")]
    polyv_redis: Option<crate::RedisRateLimiterBuilder>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            linkv: None,
            polyv: None,
            engine: Engine::builder(TokioTimer),
            retry: RetryPolicy::default(),
            hyper: HyperTransport::builder(),
            hyper_configured: false,
            transport: None,
            coin_lifetime_days: DEFAULT_COIN_LIFETIME_DAYS,
            resend_window: Some(DEFAULT_RESEND_WINDOW),
            allow_insecure_http: false,
            #[cfg(feature = "redis")]
            polyv_redis: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("ClientBuilder");
        #[cfg(feature = "redis")]
        f.field("polyv_redis", &self.polyv_redis);
        f.field("linkv", &self.linkv)
            .field("polyv", &self.polyv)
            .field("engine", &self.engine)
            .field("retry", &self.retry)
            .field("hyper", &self.hyper)
            .field("transport", &self.transport.as_ref().map(|t| t.name))
            .field("coin_lifetime_days", &self.coin_lifetime_days)
            .field("resend_window", &self.resend_window)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl ClientBuilder {
    /// Talks to LinkV with these credentials.
    pub fn linkv(mut self, credentials: LinkvCredentials) -> Self {
        self.linkv = Some(credentials);
        self
    }

    /// Talks to Polyv with these credentials.
    pub fn polyv(mut self, credentials: PolyvCredentials) -> Self {
        self.polyv = Some(credentials);
        self
    }

    /// Sends requests through `transport` instead of the default hyper one: a `reqwest`
    /// client ([`ReqwestTransport`](crate::transport::ReqwestTransport), feature `reqwest`), a
    /// `tower` service ([`TowerTransport`](crate::transport::TowerTransport), feature
    /// `tower`), or any [`AsyncHttpSend`] of your own. Retries, timeouts, the deadline and the
    /// rate limit stay the client's.
    ///
    /// The settings of the default transport ([`connect_timeout`](Self::connect_timeout),
    /// [`max_body_bytes`](Self::max_body_bytes), [`max_in_flight`](Self::max_in_flight), TLS
    /// roots) do not apply to another one; giving both is an error at
    /// [`build`](Self::build).
    pub fn transport<T: AsyncHttpSend + 'static>(mut self, transport: T) -> Self {
        self.transport = Some(Transport::new(transport));
        self
    }

    /// How long one attempt may take (default 10 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.engine = self.engine.attempt_timeout(timeout);
        self
    }

    /// How long a call may take in all, retries included (default 30 s; `None`: no limit).
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.engine = self.engine.deadline(deadline);
        self
    }

    /// When failed attempts are retried (default [`RetryPolicy::default`]: 4 attempts,
    /// exponential backoff from 100 ms with jitter).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// An in-process limit on Polyv calls (default [`RateLimit::POLYV`]); `None` turns it
    /// off. Replaces any limiter set before.
    pub fn polyv_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.engine = self.engine.polyv_rate_limit(limit);
        #[cfg(feature = "redis")]
        {
            self.polyv_redis = None;
        }
        self
    }

    /// The limiter every Polyv attempt waits on, such as a `RedisRateLimiter` shared by
    /// several processes (feature `redis`) or one of your own. Replaces any limiter set
    /// before.
    pub fn polyv_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.engine = self.engine.polyv_rate_limiter(limiter);
        #[cfg(feature = "redis")]
        {
            self.polyv_redis = None;
        }
        self
    }

    /// Shares the Polyv budget with every process that uses the same Redis key: the
    /// limiter is built by [`build`](Self::build), named by the Polyv credentials' app id
    /// unless the builder has one. Replaces any limiter set before. See
    /// [`RedisRateLimiter`](crate::RedisRateLimiter).
    ///
    /// ```
    /// use liveapi::{Client, PolyvCredentials, RedisRateLimiter};
    ///
    /// // No runtime and no connection yet: Redis is first asked by the first Polyv call.
    /// let client = Client::builder()
    ///     .polyv(PolyvCredentials::new("my_polyv_app", "app_secret")?)
    ///     .polyv_redis_rate_limit(RedisRateLimiter::builder("redis://127.0.0.1:6379/0").processes(3))
    ///     .build()?;
    /// assert!(format!("{:?}", client.engine()).contains("liveapi:rate-limit:polyv:my_polyv_app:default"));
    /// # Ok::<(), liveapi::Error>(())
    /// ```
    #[cfg(feature = "redis")]
    pub fn polyv_redis_rate_limit(mut self, limiter: crate::RedisRateLimiterBuilder) -> Self {
        self.polyv_redis = Some(limiter);
        self
    }

    /// How many days credited coins last when a call does not say (default
    /// [`DEFAULT_COIN_LIFETIME_DAYS`]).
    pub fn coin_lifetime_days(mut self, days: u32) -> Self {
        self.coin_lifetime_days = days;
        self
    }

    /// How old a coin change may be and still be sent (default [`DEFAULT_RESEND_WINDOW`],
    /// 12 h; `LIVEAPI_RESEND_WINDOW_SECS`). A change is as old as its request id (or, for a
    /// request id of your own without a time, its pending change); one past the window is
    /// refused with nothing sent, because the server may have forgotten its request id.
    /// `None` trusts the server to remember request ids for ever.
    pub fn resend_window(mut self, window: Option<Duration>) -> Self {
        self.resend_window = window;
        self
    }

    /// The clock and randomness calls are signed with (default: system clock, OS CSPRNG).
    /// Tests pass a `ManualClock` (feature `test-util`).
    pub fn context(mut self, context: Context) -> Self {
        self.engine = self.engine.context(context);
        self
    }

    /// How the client waits and measures time (default: Tokio's). Only a client whose
    /// transport runs on another async runtime needs another [`Timer`].
    pub fn timer(mut self, timer: impl Timer + 'static) -> Self {
        self.engine = self.engine.timer(timer);
        self
    }

    /// Whether plain `http://` base URLs to hosts other than this machine are allowed
    /// (default: no; `LIVEAPI_ALLOW_INSECURE_HTTP=1` from the environment). Loopback hosts,
    /// such as a local emulator, are always allowed.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// How long opening a connection may take (default 5 s). Default transport only.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.hyper = self.hyper.connect_timeout(timeout);
        self.hyper_configured = true;
        self
    }

    /// The most requests in flight at once, and so the most open connections (default 128).
    /// Default transport only.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.hyper = self.hyper.max_in_flight(limit);
        self.hyper_configured = true;
        self
    }

    /// The largest response body accepted (default 1 MiB). Default transport only.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.hyper = self.hyper.max_body_bytes(limit);
        self.hyper_configured = true;
        self
    }

    /// Also trusts the CA certificates of a PEM document (a private deployment, a test
    /// server). Verification itself cannot be turned off. Default transport only.
    ///
    /// # Errors
    /// A configuration error if the document holds no readable certificate.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        self.hyper = self.hyper.add_root_certificate_pem(pem)?;
        self.hyper_configured = true;
        Ok(self)
    }

    /// Whether the Mozilla roots compiled in are trusted (default: yes). Default transport
    /// only.
    #[cfg(feature = "webpki-roots")]
    pub fn webpki_roots(mut self, trust: bool) -> Self {
        self.hyper = self.hyper.webpki_roots(trust);
        self.hyper_configured = true;
        self
    }

    /// Whether the operating system's root certificates are trusted (default: no). Default
    /// transport only.
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, trust: bool) -> Self {
        self.hyper = self.hyper.native_roots(trust);
        self.hyper_configured = true;
        self
    }

    /// Reads credentials and settings from environment variables, over what is set already.
    /// See [the crate docs](crate#configuration-by-environment) for the variables.
    ///
    /// # Errors
    /// A configuration error naming the variable that is malformed or incomplete.
    pub fn from_env(self) -> Result<Self, Error> {
        self.from_env_with(env::var)
    }

    /// Like [`from_env`](Self::from_env), with the variables looked up by `lookup` (for tests
    /// and for configuration kept elsewhere). A blank value counts as unset.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use liveapi::Client;
    ///
    /// let vars = HashMap::from([
    ///     ("LIVEAPI_POLYV_APP_ID", "my_app"),
    ///     ("LIVEAPI_POLYV_SECRET", "my_secret"),
    ///     ("LIVEAPI_ATTEMPT_TIMEOUT_MS", "2500"),
    /// ]);
    /// let client = Client::builder()
    ///     .from_env_with(|name| vars.get(name).map(|v| v.to_string()))?
    ///     .build()?;
    /// assert!(client.polyv_credentials().is_some());
    /// assert!(client.linkv_credentials().is_none());
    /// # Ok::<(), liveapi::Error>(())
    /// ```
    ///
    /// # Errors
    /// A configuration error naming the variable that is malformed or incomplete.
    pub fn from_env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = env::Vars::read(lookup)?;
        if let Some(linkv) = vars.linkv {
            self.linkv = Some(linkv);
        }
        if let Some(polyv) = vars.polyv {
            self.polyv = Some(polyv);
        }
        if let Some(timeout) = vars.attempt_timeout {
            self = self.attempt_timeout(timeout);
        }
        if let Some(deadline) = vars.deadline {
            self = self.deadline(Some(deadline));
        }
        if let Some(attempts) = vars.max_attempts {
            // Only the count: the backoff of a policy set before stays.
            self.retry = self.retry.with_max_attempts(attempts);
        }
        if let Some(allow) = vars.allow_insecure_http {
            self = self.allow_insecure_http(allow);
        }
        if let Some(window) = vars.resend_window {
            self = self.resend_window(window);
        }
        self.polyv_limit_from_env(
            vars.polyv_rate_limit,
            vars.polyv_processes,
            vars.polyv_redis_url,
            vars.polyv_egress,
        )
    }

    /// The Polyv rate limit from the environment: shared through Redis with a URL, else this
    /// process's share of the budget. A Redis limiter set in code keeps its URL and takes the
    /// budget, process count and egress label from the variables that are set.
    fn polyv_limit_from_env(
        mut self,
        limit: Option<RateLimit>,
        processes: Option<u32>,
        redis_url: Option<liveapi_request::Secret>,
        egress: Option<String>,
    ) -> Result<Self, Error> {
        #[cfg(feature = "redis")]
        {
            if let Some(url) = redis_url {
                let processes = processes.ok_or_else(|| ConfigError::Incomplete {
                    vendor: Vendor::Polyv,
                    missing: vec![env::POLYV_RATE_LIMIT_PROCESSES],
                })?;
                let mut redis = crate::RedisRateLimiter::builder(url)
                    .limit(limit.unwrap_or(RateLimit::POLYV))
                    .processes(processes);
                if let Some(egress) = egress {
                    redis = redis.egress(egress);
                }
                return Ok(self.polyv_redis_rate_limit(redis));
            }
            if let Some(redis) = self.polyv_redis.take() {
                let mut redis = redis;
                if let Some(limit) = limit {
                    redis.set_limit(limit);
                }
                if let Some(processes) = processes {
                    redis.set_processes(processes);
                }
                if let Some(egress) = egress {
                    redis = redis.egress(egress);
                }
                self.polyv_redis = Some(redis);
                return Ok(self);
            }
        }
        #[cfg(not(feature = "redis"))]
        if redis_url.is_some() {
            return Err(ConfigError::Variable {
                variable: env::POLYV_RATE_LIMIT_REDIS_URL,
                problem:
                    "is set, but this build of liveapi has no Redis support (its `redis` feature)"
                        .to_owned(),
            }
            .into());
        }
        if egress.is_some() {
            return Err(ConfigError::Variable {
                variable: env::POLYV_RATE_LIMIT_EGRESS,
                problem: format!(
                    "applies only together with {}",
                    env::POLYV_RATE_LIMIT_REDIS_URL
                ),
            }
            .into());
        }
        if limit.is_some() || processes.is_some() {
            let share = limit
                .unwrap_or(RateLimit::POLYV)
                .share(processes.unwrap_or(1));
            self = self.polyv_rate_limit(Some(share));
        }
        Ok(self)
    }

    /// Builds the client.
    ///
    /// # Errors
    /// A configuration error without credentials of either vendor, with a plain-HTTP base
    /// URL to another machine (unless allowed), with an `https://` base URL in a build without
    /// TLS, with settings of the default transport next to another transport, or if TLS
    /// cannot be set up.
    pub fn build(self) -> Result<Client, Error> {
        if self.linkv.is_none() && self.polyv.is_none() {
            return Err(ConfigError::NoCredentials.into());
        }
        let urls = [
            (
                Vendor::Linkv,
                self.linkv.as_ref().map(LinkvCredentials::base_url),
            ),
            (
                Vendor::Polyv,
                self.polyv.as_ref().map(PolyvCredentials::base_url),
            ),
        ];
        for (vendor, url) in urls {
            let Some(url) = url else { continue };
            check_url(
                vendor,
                url,
                self.allow_insecure_http,
                self.transport.is_none(),
            )?;
        }
        let transport = match self.transport {
            Some(_) if self.hyper_configured => {
                return Err(ConfigError::TransportSettingsIgnored.into());
            }
            Some(transport) => transport,
            None => Transport::new(self.hyper.build()?),
        };
        #[cfg(feature = "redis")]
        let engine = match (self.polyv_redis, &self.polyv) {
            (Some(redis), Some(polyv)) => {
                let redis = if redis.has_app_id() {
                    redis
                } else {
                    redis.app_id(polyv.app_id())
                };
                self.engine.polyv_rate_limiter(Arc::new(redis.build()?))
            }
            // Without Polyv credentials no call waits on it.
            _ => self.engine,
        };
        #[cfg(not(feature = "redis"))]
        let engine = self.engine;
        Ok(Client {
            inner: Arc::new(Inner {
                engine: engine
                    .retry_policy(self.retry)
                    .allow_insecure_http(self.allow_insecure_http)
                    .build(),
                transport,
                linkv: self.linkv,
                polyv: self.polyv,
                coin_lifetime_days: self.coin_lifetime_days,
                resend_window: self.resend_window,
            }),
        })
    }
}

/// Refuses a base URL the client cannot or must not use.
fn check_url(
    vendor: Vendor,
    url: &BaseUrl,
    allow_insecure_http: bool,
    default_transport: bool,
) -> Result<(), ConfigError> {
    if !allow_insecure_http {
        url.require_protected(vendor)
            .map_err(ConfigError::InsecureHttp)?;
    }
    if url.is_https() && default_transport && !HyperTransport::supports_https() {
        return Err(ConfigError::HttpsWithoutTls { vendor });
    }
    Ok(())
}

/// Credentials the client holds, found by the type an operation asks for. Implemented for
/// [`LinkvCredentials`] and [`PolyvCredentials`] only.
pub trait ClientCredentials: sealed::Sealed + Sized {
    /// The credentials of this type configured on `client`.
    ///
    /// # Errors
    /// A not-configured error if there are none.
    fn of(client: &Client) -> Result<&Self, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for liveapi_request::LinkvCredentials {}
    impl Sealed for liveapi_request::PolyvCredentials {}
}

impl ClientCredentials for LinkvCredentials {
    fn of(client: &Client) -> Result<&Self, Error> {
        client
            .inner
            .linkv
            .as_ref()
            .ok_or_else(|| ConfigError::NotConfigured(Vendor::Linkv).into())
    }
}

impl ClientCredentials for PolyvCredentials {
    fn of(client: &Client) -> Result<&Self, Error> {
        client
            .inner
            .polyv
            .as_ref()
            .ok_or_else(|| ConfigError::NotConfigured(Vendor::Polyv).into())
    }
}

impl Client {
    /// A builder with the defaults and no credentials.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from environment variables only.
    ///
    /// # Errors
    /// As [`ClientBuilder::from_env`] and [`ClientBuilder::build`].
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env()?.build()
    }

    /// The LinkV credentials, if configured.
    #[must_use]
    pub fn linkv_credentials(&self) -> Option<&LinkvCredentials> {
        self.inner.linkv.as_ref()
    }

    /// The Polyv credentials, if configured.
    #[must_use]
    pub fn polyv_credentials(&self) -> Option<&PolyvCredentials> {
        self.inner.polyv.as_ref()
    }

    /// The call engine: its retry policy, timeouts, clock and rate limiter.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The time by the client's clock.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.inner.engine.context().now()
    }

    pub(crate) fn coin_lifetime_days(&self) -> u32 {
        self.inner.coin_lifetime_days
    }

    /// How old a coin change may be and still be sent.
    #[must_use]
    pub fn resend_window(&self) -> Option<Duration> {
        self.inner.resend_window
    }

    /// Sends a coin change made before ([`ChangeCoins::into_pending`],
    /// [`CompleteOrder::into_pending`]) and stored, or resends one whose outcome was unknown:
    /// the same business parameters every time, freshly signed, so the server applies it once.
    /// Answers the balance after when the call reports one (an order).
    ///
    /// Nothing is sent for a change older than the [resend window](ClientBuilder::resend_window).
    ///
    /// ```no_run
    /// # async fn run(client: liveapi::Client, uid: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
    /// use liveapi::model::linkv::{Coins, PendingChange};
    ///
    /// let change = client.add_coins(&uid, Coins::new(5)?).into_pending()?;
    /// let stored = serde_json::to_string(&change).expect("a change serialises");
    /// // … the process restarts …
    /// let change: PendingChange = serde_json::from_str(&stored).expect("as stored");
    /// match client.send_change(&change).await {
    ///     Ok(_) => {}
    ///     Err(e) if e.outcome_unknown() => { /* resend `change` later, as it is */ }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn send_change(&self, change: &PendingChange) -> SendChange {
        SendChange::new(self.clone(), change.clone())
    }

    /// Whether `change` may still be sent: an error if it is older than the
    /// [resend window](ClientBuilder::resend_window) by the client's clock. Sending checks
    /// this too; call it to decide before announcing or queueing a resend.
    ///
    /// # Errors
    /// [`ErrorKind::ResendWindowPassed`] for a change too old to be sent.
    pub fn check_resend_window(&self, change: &PendingChange) -> Result<(), Error> {
        let Some(window) = self.inner.resend_window else {
            return Ok(());
        };
        let age = change.age(self.now());
        if age > window {
            let error = Error::from(ErrorKind::ResendWindowPassed { age, window });
            return Err(error.with_change(change.clone()));
        }
        Ok(())
    }

    /// Sends `request`, the call of `change`, within the resend window; its errors carry the
    /// change.
    pub(crate) async fn deliver<O>(
        &self,
        request: &O,
        change: &PendingChange,
        settings: &CallSettings,
    ) -> Result<O::Output, Error>
    where
        O: Operation,
        O::Credentials: ClientCredentials,
    {
        let sent = match self.check_resend_window(change) {
            Ok(()) => self.send(request, settings).await,
            Err(e) => Err(e),
        };
        sent.map_err(|e| e.with_change(change.clone()))
    }

    /// A fresh idempotency key from the client's CSPRNG.
    ///
    /// Store it with your business operation before the first attempt; sending the same
    /// change again with it, even from another process after a crash, applies it at most once.
    /// The server compares the parameters too, so a resend must carry the same ones, expiry
    /// included (see [`ChangeCoins::expires_at`]).
    ///
    /// # Errors
    /// A build error if the randomness source fails.
    pub fn new_request_id(&self) -> Result<RequestId, Error> {
        Ok(self.inner.engine.context().request_id()?)
    }

    /// Any operation of either vendor, sent with the matching credentials when awaited.
    pub fn execute<O: Operation>(&self, operation: O) -> Call<O> {
        Call::new(self.clone(), operation)
    }

    /// Sends `operation` with `settings`: what every call comes down to.
    pub(crate) async fn send<O>(
        &self,
        operation: &O,
        settings: &CallSettings,
    ) -> Result<O::Output, Error>
    where
        O: Operation,
        O::Credentials: ClientCredentials,
    {
        let credentials = O::Credentials::of(self)?;
        let inner = &*self.inner;
        Ok(inner
            .engine
            .execute_with(&inner.transport, operation, credentials, settings)
            .await?)
    }

    // LinkV.

    /// Registers a user or logs one in, and answers their live token and open id
    /// (`thGetToken`). Use [`register_user`](Self::register_user) or
    /// [`login_user`](Self::login_user) for the common cases.
    pub fn user_token(&self, request: ThGetToken) -> Call<ThGetToken> {
        self.execute(request)
    }

    /// Registers a user (name and portrait are required the first time), or logs them in and
    /// updates both. Await it, optionally after setting the device id
    /// ([`Call::aid`](crate::Call::aid)).
    pub fn register_user(
        &self,
        user_id: UserId,
        name: UserName,
        portrait_uri: PortraitUri,
    ) -> Call<ThGetToken> {
        self.user_token(ThGetToken::register(user_id, name, portrait_uri))
    }

    /// Logs in a registered user and answers a fresh live token. Await it, optionally after
    /// setting the device id ([`Call::aid`](crate::Call::aid)); LinkV refuses a user it has
    /// never seen.
    pub fn login_user(&self, user_id: UserId) -> Call<ThGetToken> {
        self.user_token(ThGetToken::login(user_id))
    }

    /// Completes a top-up order, crediting `coins` to `uid` (`orderSuccess`); answers the
    /// balance after. Await it, optionally after setting a request id or an expiry.
    ///
    /// An order can be completed once; resending with the same request id is harmless and
    /// answers the same balance.
    pub fn complete_order(
        &self,
        uid: &OpenId,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> CompleteOrder {
        CompleteOrder::new(
            self.clone(),
            uid.clone(),
            ChangeType::Add,
            order_id,
            coins,
            money,
            platform,
        )
    }

    /// Refunds a top-up order, taking `coins` back from `uid` (`orderSuccess` with `type=2`),
    /// soonest-expiring first; answers the balance after. Await it, optionally after setting
    /// a request id. LinkV refuses to take a balance below zero.
    ///
    /// A refund is an `orderSuccess` call of its own: give it the order id your payment
    /// provider reports for the refund, and its own request id.
    ///
    /// ```no_run
    /// # async fn run(client: liveapi::Client, uid: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
    /// use liveapi::model::linkv::{Coins, OrderId, Platform, UsdCents};
    ///
    /// let balance = client
    ///     .refund_order(&uid, OrderId::new("refund-of-order-1")?, Coins::new(100)?, UsdCents::new(199), Platform::Ios)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn refund_order(
        &self,
        uid: &OpenId,
        order_id: OrderId,
        coins: Coins,
        money: UsdCents,
        platform: Platform,
    ) -> CompleteOrder {
        CompleteOrder::new(
            self.clone(),
            uid.clone(),
            ChangeType::Remove,
            order_id,
            coins,
            money,
            platform,
        )
    }

    /// Credits `coins` to `uid` (`changeGold`, type 1). Await it, optionally after setting a
    /// request id, an expiry or a reason.
    pub fn add_coins(&self, uid: &OpenId, coins: Coins) -> ChangeCoins {
        ChangeCoins::add(self.clone(), uid.clone(), coins)
    }

    /// Takes `coins` from `uid` (`changeGold`, type 2), soonest-expiring first. LinkV refuses
    /// to take a balance below zero.
    pub fn remove_coins(&self, uid: &OpenId, coins: Coins) -> ChangeCoins {
        ChangeCoins::remove(self.clone(), uid.clone(), coins)
    }

    /// The coin balance of `uid` (`getUserTokens`).
    ///
    /// The server may add an `isMigrate` flag to the answer; [`execute`](Self::execute) with a
    /// [`GetUserTokens`] answers the whole [`Balance`](liveapi_model::linkv::Balance) with it.
    pub fn balance(&self, uid: &OpenId) -> Call<GetUserTokens, Coins> {
        self.execute(GetUserTokens::new(uid.clone()))
            .map(|balance| balance.coins)
    }

    // Polyv.

    /// Sets the cash tip amounts of a channel, or of the account when `scope` is
    /// [`Scope::Account`] (`donate/update-cash`).
    ///
    /// Only what `settings` gives is changed: [`CashSettings::switch`] turns tips on or off
    /// alone, [`CashSettings::from_parts`] changes any of the three parts. Leaving `enabled`
    /// out leaves the switch as it is; this client never sets it unasked.
    pub fn set_cash_tips(
        &self,
        scope: impl Into<Scope>,
        settings: CashSettings,
    ) -> Call<UpdateCash> {
        self.execute(UpdateCash::new(scope, settings))
    }

    /// Sets the gifts viewers can tip with, for a channel or the account
    /// (`donate/update-good`).
    pub fn set_gift_tips(
        &self,
        scope: impl Into<Scope>,
        settings: GoodSettings,
    ) -> Call<UpdateGoods> {
        self.execute(UpdateGoods::new(scope, settings))
    }

    /// The donate settings a channel effectively uses, or the account-wide ones
    /// (`donate/get`).
    pub fn donate_settings(&self, scope: impl Into<Scope>) -> Call<GetDonate> {
        self.execute(GetDonate::new(scope))
    }
}
