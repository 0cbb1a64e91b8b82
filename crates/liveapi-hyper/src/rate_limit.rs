//! A client-side limit on how often requests are sent, so that Polyv never blocks the caller's
//! IP (1500 requests per 10 s per IP, then a five-minute ban).
//!
//! A sliding window of send times gives an exact guarantee, unlike a token bucket whose burst
//! and refill can together exceed the limit within one window: at most `limit` sends start in
//! any interval of length `window`. It costs one timestamp per allowed send.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// At most `limit` requests in any interval of `window`.
///
/// ```
/// use std::time::Duration;
/// use liveapi_hyper::RateLimit;
///
/// let limit = RateLimit::new(100, Duration::from_secs(1)).expect("a non-zero limit");
/// assert_eq!(limit.limit(), 100);
/// assert_eq!(RateLimit::POLYV.limit(), 1200);
/// assert!(RateLimit::new(0, Duration::from_secs(1)).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    limit: NonZeroU32,
    window: Duration,
}

impl RateLimit {
    /// The default for Polyv: 1200 per 10 s, a fifth below the server's 1500 so that retries
    /// and clock differences never reach it.
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
}

/// The pure core: the start times of the sends inside the current window.
#[derive(Debug)]
struct SlidingWindow {
    limit: RateLimit,
    sent: VecDeque<Instant>,
}

impl SlidingWindow {
    fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            sent: VecDeque::new(),
        }
    }

    /// Records a send at `now` if the limit allows it, or says how long to wait.
    fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
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

/// A shared [`SlidingWindow`] that callers wait on.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    window: Mutex<SlidingWindow>,
}

/// The limiter would make the caller wait past its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WouldExceedDeadline;

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            window: Mutex::new(SlidingWindow::new(limit)),
        }
    }

    /// Waits until a request may be sent, and counts it as sent.
    pub(crate) async fn acquire(
        &self,
        deadline: Option<Instant>,
    ) -> Result<(), WouldExceedDeadline> {
        loop {
            let now = Instant::now();
            // The lock is held only for the bookkeeping, never across the sleep.
            let wait = self
                .window
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .try_acquire(now);
            match wait {
                Ok(()) => return Ok(()),
                Err(pause) => {
                    if deadline.is_some_and(|d| now + pause > d) {
                        return Err(WouldExceedDeadline);
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
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

    #[tokio::test(start_paused = true)]
    async fn waiters_are_spaced_by_the_window() {
        let limiter = RateLimiter::new(RateLimit::new(2, ms(1000)).unwrap());
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            limiter.acquire(None).await.unwrap();
            starts.push(start.elapsed());
        }
        assert_eq!(starts, [ms(0), ms(0), ms(1000), ms(1000), ms(2000)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_deadline_is_refused_at_once() {
        let limiter = RateLimiter::new(RateLimit::new(1, ms(1000)).unwrap());
        limiter.acquire(None).await.unwrap();
        let start = Instant::now();
        let result = limiter.acquire(Some(start + ms(500))).await;
        assert_eq!(result, Err(WouldExceedDeadline));
        assert_eq!(start.elapsed(), ms(0));
    }
}
