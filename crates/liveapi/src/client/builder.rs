//! Configuring a [`Client`]: credentials, the engine's settings, the transport and the
//! Polyv rate limit.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use liveapi_request::retry::RetryPolicy;
use liveapi_request::{
    AsyncHttpSend, Context, Engine, EngineBuilder, LinkvCredentials, PolyvCredentials, Timer,
    Vendor,
};

#[cfg(feature = "hyper")]
use super::default_transport::DefaultTransport;
use super::polyv_rate_limit::PolyvRateLimit;
use super::transport::Transport;
use super::{Client, Inner, timer};
use crate::{ConfigError, Error, env};

/// How many days credited coins last unless a call says otherwise: the 91 days of the vendor's
/// own example (`$expiration = (time() / 86400 + 91) * 86400`, `orderSuccess` in
/// `docs/linkv.md#calls`).
pub const DEFAULT_COIN_LIFETIME_DAYS: u32 = 91;

/// How old a coin change may be and still be sent unless configured otherwise: 12 hours.
///
/// A server remembers request ids for a while only (the emulator for 24 hours, like most
/// idempotency stores); resending a change after it forgot the id would apply it again. The
/// default stays well inside that, leaving room for clocks that disagree.
pub const DEFAULT_RESEND_WINDOW: Duration = Duration::from_secs(12 * 3_600);

/// Configures a [`Client`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    linkv: Option<LinkvCredentials>,
    polyv: Option<PolyvCredentials>,
    engine: EngineBuilder,
    pub(crate) retry: RetryPolicy,
    /// The settings of the default transport.
    #[cfg(feature = "hyper")]
    pub(super) hyper: DefaultTransport,
    transport: Option<Transport>,
    /// Whether [`timer`](Self::timer) was called: a build without Tokio has no timer of its own.
    timer_given: bool,
    coin_lifetime_days: u32,
    resend_window: Option<Duration>,
    allow_insecure_http: bool,
    /// Applied to the engine by `build`, when the Polyv credentials are known.
    pub(crate) polyv_limit: PolyvRateLimit,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            linkv: None,
            polyv: None,
            engine: Engine::builder(timer::Default),
            retry: RetryPolicy::default(),
            #[cfg(feature = "hyper")]
            hyper: DefaultTransport::new(),
            transport: None,
            timer_given: false,
            coin_lifetime_days: DEFAULT_COIN_LIFETIME_DAYS,
            resend_window: Some(DEFAULT_RESEND_WINDOW),
            allow_insecure_http: false,
            polyv_limit: PolyvRateLimit::default(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("ClientBuilder");
        f.field("linkv", &self.linkv)
            .field("polyv", &self.polyv)
            .field("engine", &self.engine)
            .field("retry", &self.retry);
        #[cfg(feature = "hyper")]
        f.field("hyper", &self.hyper);
        f.field("transport", &self.transport.as_ref().map(|t| t.name))
            .field("coin_lifetime_days", &self.coin_lifetime_days)
            .field("resend_window", &self.resend_window)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("polyv_rate_limit", &self.polyv_limit)
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

    /// Sends requests through `transport` instead of the default hyper one (feature `hyper`;
    /// without it a transport must be given): a `reqwest`
    /// client (`transport::ReqwestTransport`, feature `reqwest`), a `tower` service
    /// (`transport::TowerTransport`, feature `tower`), or any [`AsyncHttpSend`] of your own. Retries, timeouts, the deadline and the
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

    /// How long a call may take in all, retries included (default 30 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.engine = self.engine.deadline(deadline);
        self
    }

    /// No deadline for calls beyond what the retry policy allows.
    pub fn no_deadline(mut self) -> Self {
        self.engine = self.engine.no_deadline();
        self
    }

    /// When failed attempts are retried (default [`RetryPolicy::default`]: 4 attempts,
    /// exponential backoff from 100 ms with jitter).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How the client keeps Polyv calls under the vendor's limit (default
    /// [`RateLimit::POLYV`](crate::RateLimit::POLYV) in this process): a
    /// [`RateLimit`](crate::RateLimit) for this process, an `Arc` of
    /// any [`RateLimiter`](crate::RateLimiter), a
    /// [`RedisRateLimiterBuilder`](crate::RedisRateLimiterBuilder) for a whole fleet
    /// (feature `redis`), or [`PolyvRateLimit::none`]. See [`PolyvRateLimit`]. Replaces any
    /// limit set before.
    pub fn polyv_rate_limit(mut self, limit: impl Into<PolyvRateLimit>) -> Self {
        self.polyv_limit = limit.into();
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
    pub fn resend_window(mut self, window: Duration) -> Self {
        self.resend_window = Some(window);
        self
    }

    /// No resend window: changes of any age are sent, trusting the server to remember
    /// request ids for ever.
    pub fn no_resend_window(mut self) -> Self {
        self.resend_window = None;
        self
    }

    /// The clock and randomness calls are signed with (default: system clock, OS CSPRNG).
    /// Tests pass a `ManualClock` (feature `test-util`).
    pub fn context(mut self, context: Context) -> Self {
        self.engine = self.engine.context(context);
        self
    }

    /// How the client waits and measures time. The default is Tokio's, in a build with the
    /// `hyper` or `tokio` feature; only a client whose transport runs on another async runtime
    /// needs another [`Timer`]. A build with neither feature has no default and needs one
    /// (see [the crate's features](crate#features)).
    pub fn timer(mut self, timer: impl Timer + 'static) -> Self {
        self.engine = self.engine.timer(timer);
        self.timer_given = true;
        self
    }

    /// Whether plain `http://` base URLs to hosts other than this machine are allowed
    /// (default: no; `LIVEAPI_ALLOW_INSECURE_HTTP=1` from the environment). Loopback hosts,
    /// such as a local emulator, are always allowed.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
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
    pub fn from_env_with(self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        env::configure(self, lookup)
    }

    /// Builds the client.
    ///
    /// # Errors
    /// A configuration error without credentials of either vendor, with a plain-HTTP base
    /// URL to another machine (unless allowed), with an `https://` base URL in a build without
    /// TLS, with settings of the default transport next to another transport, if TLS cannot be
    /// set up, or, in a build without the default transport or timer (the `hyper` and `tokio`
    /// features), without the transport or timer it needs.
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
            if !self.allow_insecure_http {
                url.require_protected(vendor)
                    .map_err(ConfigError::InsecureHttp)?;
            }
            #[cfg(feature = "hyper")]
            if self.transport.is_none() {
                DefaultTransport::check_url(vendor, url)?;
            }
        }
        #[cfg(feature = "hyper")]
        let transport = match self.transport {
            Some(_) if self.hyper.configured() => {
                return Err(ConfigError::TransportSettingsIgnored.into());
            }
            Some(transport) => transport,
            None => self.hyper.build()?,
        };
        #[cfg(not(feature = "hyper"))]
        let transport = self.transport.ok_or(ConfigError::NoTransport)?;
        if !self.timer_given && !timer::HAS_DEFAULT {
            return Err(ConfigError::NoTimer.into());
        }
        let engine = self.polyv_limit.apply(self.engine, self.polyv.as_ref())?;
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
