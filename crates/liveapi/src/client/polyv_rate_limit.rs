//! The Polyv rate limit of a client, one value whatever keeps it, and how it becomes the
//! engine's limiter when the client is built.

use std::sync::Arc;

use liveapi_request::{EngineBuilder, PolyvCredentials, RateLimit, RateLimiter};

use crate::Error;

/// How a client keeps its Polyv calls under the vendor's limit, given to
/// [`ClientBuilder::polyv_rate_limit`](crate::ClientBuilder::polyv_rate_limit).
///
/// Polyv blocks an IP for five minutes past 1500 requests in any 10 s
/// (`docs/polyv.md#rate-limit`), so every Polyv attempt, retries included, waits on this
/// limit first. The default is [`RateLimit::POLYV`] (1200 per 10 s) in this process. Made
/// from:
///
/// - a [`RateLimit`]: a limit on this process's calls ([`in_process`](Self::in_process));
/// - an `Arc` of any [`RateLimiter`]: one shared with other clients, or one of your own
///   ([`limiter`](Self::limiter));
/// - a `RedisRateLimiterBuilder` (feature `redis`): one budget for every process of a fleet,
///   built with the client ([`redis`](Self::redis));
/// - [`none`](Self::none): no limit, for when something else keeps the calls under Polyv's.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use liveapi::{Client, LocalRateLimiter, PolyvCredentials, PolyvRateLimit, RateLimit};
///
/// let polyv = PolyvCredentials::builder().app_id("my_polyv_app").secret("app_secret").build()?;
/// // 100 per second for this process's calls.
/// let per_second = RateLimit::new(100, Duration::from_secs(1)).expect("not zero");
/// let client = Client::builder().polyv(polyv.clone()).polyv_rate_limit(per_second).build()?;
/// // One budget for two clients of this process.
/// let shared = Arc::new(LocalRateLimiter::new(RateLimit::POLYV));
/// let a = Client::builder().polyv(polyv.clone()).polyv_rate_limit(shared.clone()).build()?;
/// let b = Client::builder().polyv(polyv.clone()).polyv_rate_limit(shared).build()?;
/// // No limit at all.
/// let unlimited = Client::builder().polyv(polyv).polyv_rate_limit(PolyvRateLimit::none()).build()?;
/// assert!(unlimited.engine().polyv_rate_limiter().is_none());
/// # let _ = (client, a, b);
/// # Ok::<(), liveapi::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PolyvRateLimit {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Off,
    InProcess(RateLimit),
    Limiter(Arc<dyn RateLimiter>),
    /// Built with the client, named by its Polyv app id unless the builder has one.
    #[cfg(feature = "redis")]
    Redis(crate::RedisRateLimiterBuilder),
}

impl PolyvRateLimit {
    /// No limit on Polyv calls.
    #[must_use]
    pub fn none() -> Self {
        Self { kind: Kind::Off }
    }

    /// At most `limit` Polyv attempts of this client per window, counted in this process.
    #[must_use]
    pub fn in_process(limit: RateLimit) -> Self {
        Self {
            kind: Kind::InProcess(limit),
        }
    }

    /// Every Polyv attempt waits on `limiter`: a `RedisRateLimiter` built beforehand, a
    /// [`LocalRateLimiter`](crate::LocalRateLimiter) shared by several clients, or one of
    /// your own.
    #[must_use]
    pub fn limiter(limiter: Arc<dyn RateLimiter>) -> Self {
        Self {
            kind: Kind::Limiter(limiter),
        }
    }

    /// Shares the Polyv budget with every process that uses the same Redis key: the limiter
    /// is built by [`ClientBuilder::build`](crate::ClientBuilder::build), named by the Polyv
    /// credentials' app id unless the builder has one. See
    /// [`RedisRateLimiter`](crate::RedisRateLimiter).
    ///
    /// ```
    /// use liveapi::{Client, PolyvCredentials, PolyvRateLimit, RedisRateLimiter};
    ///
    /// // No runtime and no connection yet: Redis is first asked by the first Polyv call.
    /// let client = Client::builder()
    ///     .polyv(PolyvCredentials::builder().app_id("my_polyv_app").secret("app_secret").build()?)
    ///     .polyv_rate_limit(PolyvRateLimit::redis(
    ///         RedisRateLimiter::builder("redis://127.0.0.1:6379/0").processes(3),
    ///     ))
    ///     .build()?;
    /// assert!(format!("{:?}", client.engine()).contains("liveapi:rate-limit:polyv:my_polyv_app:default"));
    /// # Ok::<(), liveapi::Error>(())
    /// ```
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis(limiter: crate::RedisRateLimiterBuilder) -> Self {
        Self {
            kind: Kind::Redis(limiter),
        }
    }

    /// The Redis limiter still to be built, for the environment to complete.
    #[cfg(feature = "redis")]
    pub(crate) fn redis_mut(&mut self) -> Option<&mut crate::RedisRateLimiterBuilder> {
        match &mut self.kind {
            Kind::Redis(redis) => Some(redis),
            _ => None,
        }
    }

    /// `engine` waiting on this limit, for a client with `polyv` credentials.
    ///
    /// # Errors
    /// A configuration error for a Redis limiter that cannot be built.
    pub(crate) fn apply(
        self,
        engine: EngineBuilder,
        polyv: Option<&PolyvCredentials>,
    ) -> Result<EngineBuilder, Error> {
        // Only a Redis limiter is named by the credentials.
        #[cfg(not(feature = "redis"))]
        let _ = polyv;
        Ok(match self.kind {
            Kind::Off => engine.polyv_rate_limit(None),
            Kind::InProcess(limit) => engine.polyv_rate_limit(Some(limit)),
            Kind::Limiter(limiter) => engine.polyv_rate_limiter(limiter),
            #[cfg(feature = "redis")]
            Kind::Redis(redis) => match polyv {
                Some(polyv) => {
                    let redis = if redis.has_app_id() {
                        redis
                    } else {
                        redis.app_id(polyv.app_id())
                    };
                    engine.polyv_rate_limiter(Arc::new(redis.build()?))
                }
                // Without Polyv credentials no call waits on it.
                None => engine,
            },
        })
    }
}

impl Default for PolyvRateLimit {
    /// [`RateLimit::POLYV`] in this process.
    fn default() -> Self {
        Self::in_process(RateLimit::POLYV)
    }
}

impl From<RateLimit> for PolyvRateLimit {
    fn from(limit: RateLimit) -> Self {
        Self::in_process(limit)
    }
}

impl From<Arc<dyn RateLimiter>> for PolyvRateLimit {
    fn from(limiter: Arc<dyn RateLimiter>) -> Self {
        Self::limiter(limiter)
    }
}

impl<T: RateLimiter + 'static> From<Arc<T>> for PolyvRateLimit {
    fn from(limiter: Arc<T>) -> Self {
        Self::limiter(limiter)
    }
}

#[cfg(feature = "redis")]
impl From<crate::RedisRateLimiterBuilder> for PolyvRateLimit {
    fn from(limiter: crate::RedisRateLimiterBuilder) -> Self {
        Self::redis(limiter)
    }
}
