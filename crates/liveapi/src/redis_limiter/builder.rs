//! Configuring a [`RedisRateLimiter`]: its defaults, its settings and the checks that keep a
//! fleet's budget safe.

use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use liveapi_request::{RateLimit, Secret};

use super::fallback::Fallback;
use super::shared_window::SharedWindow;
use super::tls::{self, Ca};
use super::{RedisLimiterError, RedisRateLimiter, State};

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

/// Configures a [`RedisRateLimiter`]; made by [`RedisRateLimiter::builder`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RedisRateLimiterBuilder {
    url: Secret,
    ca: Option<Ca>,
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
            .field("ca", &self.ca)
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
    /// The Polyv `appId` whose budget this is. A client given this builder
    /// ([`PolyvRateLimit::redis`](crate::PolyvRateLimit::redis)) fills it from its Polyv
    /// credentials when it is not set.
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

    /// Trust the CA certificates in the PEM file at `path` for a `rediss://` connection,
    /// instead of the Mozilla roots: for a Redis whose certificate a private CA signed. The
    /// file is read by [`build`](Self::build). The certificate and its host name are always
    /// verified; nothing turns that off.
    ///
    /// ```no_run
    /// use liveapi::RedisRateLimiter;
    ///
    /// let limiter = RedisRateLimiter::builder("rediss://redis.internal:6380/0")
    ///     .ca_file("/etc/liveapi/redis-ca.pem")
    ///     .app_id("my_polyv_app")
    ///     .processes(3)
    ///     .build()?;
    /// # Ok::<(), liveapi::RedisLimiterError>(())
    /// ```
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = Some(Ca::File(path.into()));
        self
    }

    /// Trust the CA certificates of this PEM text for a `rediss://` connection, instead of
    /// the Mozilla roots; as [`ca_file`](Self::ca_file), with the certificates in hand.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca = Some(Ca::Pem(pem.into()));
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

    pub(crate) fn set_egress(&mut self, label: String) {
        self.egress = label;
    }

    pub(crate) fn set_ca_file(&mut self, path: PathBuf) {
        self.ca = Some(Ca::File(path));
    }

    /// The limiter. Nothing is connected yet: the connection is opened by the first permit,
    /// on the Tokio runtime that asks for it, so this needs no runtime.
    ///
    /// # Errors
    /// A [`RedisLimiterError`] for a malformed URL, one that asks for no certificate
    /// verification, a CA that cannot be read or used (or one given without TLS), no
    /// fallback share, a zero duration or an empty key part.
    pub fn build(self) -> Result<RedisRateLimiter, RedisLimiterError> {
        let client = tls::client(self.url.expose().trim(), self.ca.as_ref())?;
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
        let key = format!("{}:polyv:{app_id}:{}", self.key_prefix, self.egress);
        let window = self.limit.window() + self.transit_margin;
        let own_window = fallback.window() + self.transit_margin;
        // Processes that have not noticed a recovery send on their shares for up to one probe
        // interval more, and those sends stay in the window for one window.
        let rejoin = own_window.max(window) + self.probe_interval;
        Ok(RedisRateLimiter {
            shared: SharedWindow::new(
                client,
                key,
                address,
                self.limit.limit(),
                window,
                self.timeout,
            ),
            limit: self.limit,
            fallback,
            probe_interval: self.probe_interval,
            own_window,
            egress: self.egress,
            state: Mutex::new(State {
                fallback: Fallback::new(own_window, fallback.limit(), self.probe_interval, rejoin),
                connection: None,
                warned_no_runtime: false,
            }),
        })
    }
}

impl RedisRateLimiter {
    /// A builder for the Redis at `url`: `redis://[user:password@]host[:port][/db]`,
    /// `rediss://…` (or `valkeys://…`) for TLS, or `unix:///path`. Keep the URL secret: it
    /// may hold a password; the limiter never prints it.
    ///
    /// Over TLS the server's certificate and host name are always verified, against the
    /// Mozilla roots (as the SDK's HTTPS) or the CA given with [`ca_file`] or [`ca_pem`];
    /// a URL asking for no verification (`#insecure`) is refused.
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
    ///
    /// [`ca_file`]: RedisRateLimiterBuilder::ca_file
    /// [`ca_pem`]: RedisRateLimiterBuilder::ca_pem
    pub fn builder(url: impl Into<Secret>) -> RedisRateLimiterBuilder {
        RedisRateLimiterBuilder {
            url: url.into(),
            ca: None,
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RedisLink;

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
            "rediss://user:hunter2@host/#insecure",
            "valkeys://user:hunter2@host/#insecure",
            "rediss://user:hunter2@host/#anything",
        ] {
            let error = RedisRateLimiter::builder(url)
                .app_id("a")
                .processes(1)
                .build()
                .unwrap_err();
            assert!(matches!(error, RedisLimiterError::Url { .. }), "{url}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
        let insecure = RedisRateLimiter::builder("rediss://host/0#insecure")
            .app_id("a")
            .processes(1)
            .build()
            .unwrap_err();
        assert!(insecure.to_string().contains("verification"), "{insecure}");
    }

    #[test]
    fn tls_urls_build_and_say_so() {
        for url in [
            "rediss://:hunter2@10.1.2.3:6380/2",
            "valkeys://10.1.2.3:6380/2",
        ] {
            let limiter = RedisRateLimiter::builder(url)
                .app_id("a")
                .processes(1)
                .build()
                .unwrap();
            let debug = format!("{limiter:?}");
            assert!(debug.contains("tls: true"), "{debug}");
            assert!(!debug.contains("hunter2"), "{debug}");
        }
        let plain = builder().build().unwrap();
        assert!(format!("{plain:?}").contains("tls: false"));
    }

    #[test]
    fn a_ca_that_cannot_work_is_refused_when_built() {
        let tls = || {
            RedisRateLimiter::builder("rediss://:hunter2@10.1.2.3:6380/2")
                .app_id("a")
                .processes(1)
        };
        let missing = tls()
            .ca_file("/nonexistent/liveapi-ca.pem")
            .build()
            .unwrap_err();
        assert!(
            matches!(&missing, RedisLimiterError::Ca { problem } if problem.contains("/nonexistent/liveapi-ca.pem")),
            "{missing}"
        );
        let empty = tls().ca_pem("not a certificate").build().unwrap_err();
        assert!(
            empty.to_string().contains("no CERTIFICATE block"),
            "{empty}"
        );
        let broken = tls()
            .ca_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .build()
            .unwrap_err();
        assert!(matches!(broken, RedisLimiterError::Ca { .. }), "{broken}");
        // A CA for a plain connection: the caller believes it encrypted, and it would not be.
        let plain = builder().ca_pem("x").build().unwrap_err();
        assert!(plain.to_string().contains("not be encrypted"), "{plain}");
        for error in [missing, empty, broken, plain] {
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
