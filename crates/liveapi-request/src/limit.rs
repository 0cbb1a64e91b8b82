//! Client-side rate limits, so that Polyv never blocks the caller's IP (1500 requests per
//! 10 s per IP, then a five-minute ban; `docs/polyv.md#rate-limit`).
//!
//! [`RateLimiter`] is what the engine waits on before each Polyv attempt. [`LocalRateLimiter`]
//! is the in-process default: a sliding window of send times, which gives an exact guarantee
//! (at most `limit` sends start in any interval of length `window`), unlike a token bucket
//! whose burst and refill can together exceed the limit within one window. It costs one
//! timestamp per allowed send. A limiter shared by several processes (the `liveapi` crate's
//! Redis limiter) implements the same trait.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Timer;

/// At most `limit` requests in any interval of `window`.
///
/// ```
/// use std::time::Duration;
/// use liveapi_request::RateLimit;
///
/// let limit = RateLimit::new(100, Duration::from_secs(1)).expect("a non-zero limit");
/// assert_eq!(limit.limit(), 100);
/// assert_eq!(RateLimit::POLYV.limit(), 1200);
/// assert!(RateLimit::new(0, Duration::from_secs(1)).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    limit: NonZeroU32,
    window: Duration,
}

impl RateLimit {
    /// The default for Polyv: 1200 per 10 s, a fifth below the server's 1500 (`docs/polyv.md#rate-limit`) so
    /// that retries and clock differences never reach it.
    pub const POLYV: Self = Self {
        limit: NonZeroU32::new(1200).expect("1200 is not zero"),
        window: Duration::from_secs(10),
    };

    /// `limit` requests per `window`; `None` if either is zero.
    #[must_use]
    pub fn new(limit: u32, window: Duration) -> Option<Self> {
        let limit = NonZeroU32::new(limit)?;
        (!window.is_zero()).then_some(Self { limit, window })
    }

    /// The most requests in one window.
    #[must_use]
    pub fn limit(&self) -> u32 {
        self.limit.get()
    }

    /// The window.
    #[must_use]
    pub fn window(&self) -> Duration {
        self.window
    }

    /// A share of this budget: `limit / parts` per window (at least 1), for one of `parts`
    /// processes that share the budget without talking to each other.
    ///
    /// ```
    /// use liveapi_request::RateLimit;
    /// assert_eq!(RateLimit::POLYV.share(3).limit(), 400);
    /// assert_eq!(RateLimit::POLYV.share(0).limit(), 1200);
    /// ```
    #[must_use]
    pub fn share(&self, parts: u32) -> Self {
        let share = self.limit.get() / parts.max(1);
        Self {
            limit: NonZeroU32::new(share).unwrap_or(NonZeroU32::MIN),
            window: self.window,
        }
    }
}

/// The limiter would make the caller wait past its deadline. Nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the rate limit leaves no room before the deadline")]
pub struct Throttled;

/// A limiter that cannot work as configured: a shared store that refuses its password, is
/// not the store it should be, or whose certificate does not verify. Waiting does not help;
/// the configuration must change. The engine fails the call with it as a configuration
/// error ([`BuildError::RateLimiter`](crate::BuildError::RateLimiter)); nothing was sent.
///
/// Its message is the cause's, which must name no secret.
///
/// ```
/// use liveapi_request::LimiterConfigError;
///
/// let error = LimiterConfigError::new("the store refused the password");
/// assert_eq!(error.to_string(), "the store refused the password");
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct LimiterConfigError(Box<dyn std::error::Error + Send + Sync>);

impl LimiterConfigError {
    /// The limiter cannot work, because of `cause`.
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }

    /// What is wrong, as the limiter said it.
    #[must_use]
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

/// Why a [`RateLimiter`] gave no permit. Nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcquireError {
    /// The wait would pass the deadline: a later call may have room.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// The limiter cannot work as configured: no call will have room until it is fixed.
    #[error(transparent)]
    Config(#[from] LimiterConfigError),
}

impl AcquireError {
    /// Whether the wait would have passed the deadline.
    #[must_use]
    pub fn is_throttled(&self) -> bool {
        matches!(self, Self::Throttled(_))
    }
}

/// A permit source the engine waits on before each attempt of a rate-limited vendor.
///
/// `acquire` returns once one request may be sent (and counts it as sent), or
/// [`Throttled`] at once if the wait would pass `deadline`, or a [`LimiterConfigError`] if
/// the limiter cannot work as configured. Waiting goes through `timer`, so the limiter runs
/// on whatever runtime the engine runs on.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits for one permit.
    fn acquire<'a>(
        &'a self,
        deadline: Option<Instant>,
        timer: &'a dyn Timer,
    ) -> Pin<Box<dyn Future<Output = Result<(), AcquireError>> + Send + 'a>>;
}

/// The pure core: the start times of the sends inside the current window.
#[derive(Debug)]
pub(crate) struct SlidingWindow {
    limit: RateLimit,
    sent: VecDeque<Instant>,
}

impl SlidingWindow {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            sent: VecDeque::new(),
        }
    }

    /// Records a send at `now` if the limit allows it, or says how long to wait.
    pub(crate) fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        let window = self.limit.window;
        while let Some(&oldest) = self.sent.front() {
            if now.saturating_duration_since(oldest) >= window {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        match self.sent.front() {
            Some(&oldest) if self.sent.len() >= self.limit.limit() as usize => {
                Err((oldest + window).saturating_duration_since(now))
            }
            _ => {
                self.sent.push_back(now);
                Ok(())
            }
        }
    }
}

/// The in-process sliding-window limiter; clones of a `liveapi` client share one.
///
/// ```
/// use std::time::Duration;
/// use liveapi_request::{LocalRateLimiter, RateLimit, RateLimiter, ThreadTimer};
///
/// let limiter = LocalRateLimiter::new(RateLimit::new(2, Duration::from_secs(60)).unwrap());
/// assert_eq!(limiter.limit(), RateLimit::new(2, Duration::from_secs(60)).unwrap());
/// ```
#[derive(Debug)]
pub struct LocalRateLimiter {
    limit: RateLimit,
    window: Mutex<SlidingWindow>,
}

impl LocalRateLimiter {
    /// A limiter of `limit`.
    #[must_use]
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            window: Mutex::new(SlidingWindow::new(limit)),
        }
    }

    /// The limit it keeps.
    #[must_use]
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes a permit at `now` if one is free, or says how long until one is.
    ///
    /// # Errors
    /// The wait until the oldest send in the window leaves it.
    pub fn try_acquire(&self, now: Instant) -> Result<(), Duration> {
        // The lock is held only for the bookkeeping, never across a wait.
        self.window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .try_acquire(now)
    }
}

impl RateLimiter for LocalRateLimiter {
    fn acquire<'a>(
        &'a self,
        deadline: Option<Instant>,
        timer: &'a dyn Timer,
    ) -> Pin<Box<dyn Future<Output = Result<(), AcquireError>> + Send + 'a>> {
        Box::pin(async move {
            loop {
                let now = timer.now();
                match self.try_acquire(now) {
                    Ok(()) => return Ok(()),
                    Err(pause) => {
                        if deadline.is_some_and(|d| now + pause > d) {
                            return Err(Throttled.into());
                        }
                        timer.sleep(pause).await;
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::time::block_on;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A clock that moves only when slept on.
    #[derive(Debug)]
    struct VirtualTimer {
        start: Instant,
        elapsed_ms: std::sync::Arc<AtomicU64>,
    }

    impl VirtualTimer {
        fn new() -> Self {
            Self {
                start: Instant::now(),
                elapsed_ms: Default::default(),
            }
        }
        fn elapsed(&self) -> Duration {
            ms(self.elapsed_ms.load(Ordering::SeqCst))
        }
    }

    impl Timer for VirtualTimer {
        fn now(&self) -> Instant {
            self.start + self.elapsed()
        }
        fn sleep(&self, duration: Duration) -> crate::Sleep {
            let elapsed = self.elapsed_ms.clone();
            let millis = u64::try_from(duration.as_millis()).unwrap();
            Box::pin(async move {
                elapsed.fetch_add(millis, Ordering::SeqCst);
            })
        }
    }

    #[test]
    fn at_most_limit_sends_in_any_window() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::new(RateLimit::new(3, ms(1000)).unwrap());
        // (offset ms, expected)
        let table: [(u64, Result<(), Duration>); 8] = [
            (0, Ok(())),
            (100, Ok(())),
            (200, Ok(())),
            (300, Err(ms(700))),
            (999, Err(ms(1))),
            (1000, Ok(())), // the send at 0 left the window
            (1050, Err(ms(50))),
            (1100, Ok(())),
        ];
        for (offset, expected) in table {
            assert_eq!(w.try_acquire(t0 + ms(offset)), expected, "at {offset} ms");
        }
    }

    #[test]
    fn refused_attempts_are_not_counted() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::new(RateLimit::new(1, ms(10)).unwrap());
        assert_eq!(w.try_acquire(t0), Ok(()));
        for _ in 0..100 {
            assert!(w.try_acquire(t0 + ms(5)).is_err());
        }
        assert_eq!(w.try_acquire(t0 + ms(10)), Ok(()));
    }

    #[test]
    fn waiters_are_spaced_by_the_window() {
        let timer = VirtualTimer::new();
        let limiter = LocalRateLimiter::new(RateLimit::new(2, ms(1000)).unwrap());
        let mut starts = Vec::new();
        for _ in 0..5 {
            block_on(limiter.acquire(None, &timer)).unwrap();
            starts.push(timer.elapsed());
        }
        assert_eq!(starts, [ms(0), ms(0), ms(1000), ms(1000), ms(2000)]);
    }

    #[test]
    fn a_wait_past_the_deadline_is_refused_at_once() {
        let timer = VirtualTimer::new();
        let limiter = LocalRateLimiter::new(RateLimit::new(1, ms(1000)).unwrap());
        block_on(limiter.acquire(None, &timer)).unwrap();
        let deadline = timer.now() + ms(500);
        assert!(
            block_on(limiter.acquire(Some(deadline), &timer))
                .unwrap_err()
                .is_throttled()
        );
        assert_eq!(timer.elapsed(), ms(0));
        // Exactly at the deadline is still in time.
        let deadline = timer.now() + ms(1000);
        assert!(block_on(limiter.acquire(Some(deadline), &timer)).is_ok());
        assert_eq!(timer.elapsed(), ms(1000));
    }

    #[test]
    fn shares_divide_the_budget() {
        let limit = RateLimit::new(10, ms(1000)).unwrap();
        assert_eq!(limit.share(3).limit(), 3);
        assert_eq!(limit.share(20).limit(), 1);
        assert_eq!(limit.share(1), limit);
        assert_eq!(limit.share(3).window(), ms(1000));
    }
}
