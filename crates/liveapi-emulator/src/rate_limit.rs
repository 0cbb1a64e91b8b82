//! Polyv's per-IP rate limit: so many requests per window, then the IP is blocked for a while.
//!
//! Measured on the monotonic clock, not the emulator's clock: freezing or moving the
//! emulator's time for a test should not lock a client out or let a flood through.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Polyv's rate limit: `requests` per `per` from one client IP, then `block_for` of refusals
/// (`qps exceeds number of calls`).
///
/// ```
/// use std::time::Duration;
/// use liveapi_emulator::RateLimit;
/// let polyv = RateLimit::default();
/// assert_eq!((polyv.requests, polyv.per), (1500, Duration::from_secs(10)));
/// let strict = RateLimit::new(5, Duration::from_secs(60)).with_block(Duration::ZERO);
/// assert_eq!(strict.block_for, Duration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window.
    pub per: Duration,
    /// How long an IP that went over stays refused (the real server: five minutes). Zero
    /// refuses only the requests over the limit.
    pub block_for: Duration,
}

impl Default for RateLimit {
    /// Polyv's: 1500 requests per 10 seconds, then five minutes of refusals.
    fn default() -> Self {
        Self {
            requests: 1_500,
            per: Duration::from_secs(10),
            block_for: Duration::from_secs(300),
        }
    }
}

impl RateLimit {
    /// `requests` per `per`, with the five-minute block.
    #[must_use]
    pub fn new(requests: u32, per: Duration) -> Self {
        Self {
            requests,
            per,
            ..Self::default()
        }
    }

    /// Sets how long an IP that went over stays refused.
    #[must_use]
    pub fn with_block(mut self, block_for: Duration) -> Self {
        self.block_for = block_for;
        self
    }
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    count: u32,
    blocked_until: Option<Instant>,
}

/// Above this many tracked IPs, idle ones are forgotten.
const PRUNE_ABOVE: usize = 4_096;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: Option<RateLimit>,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

impl RateLimiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `ip`; `false` if it must be refused.
    pub(crate) fn allow(&self, ip: IpAddr) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if clients.len() > PRUNE_ABOVE {
            clients.retain(|_, w| {
                w.blocked_until.is_some_and(|until| until > now)
                    || now.duration_since(w.started) < limit.per
            });
        }
        let window = clients.entry(ip).or_insert(Window {
            started: now,
            count: 0,
            blocked_until: None,
        });
        if let Some(until) = window.blocked_until {
            if now < until {
                return false;
            }
            window.blocked_until = None;
        }
        if now.duration_since(window.started) >= limit.per {
            window.started = now;
            window.count = 0;
        }
        window.count = window.count.saturating_add(1);
        if window.count <= limit.requests {
            return true;
        }
        if !limit.block_for.is_zero() {
            window.blocked_until = now.checked_add(limit.block_for);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn counts_per_ip_and_blocks() {
        let limiter = RateLimiter::new(Some(RateLimit::new(3, Duration::from_secs(3_600))));
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!((0..3).all(|_| limiter.allow(a)));
        assert!(!limiter.allow(a));
        assert!(limiter.allow(b));
        assert!(!limiter.allow(a));
        assert!(RateLimiter::new(None).allow(a));
    }
}
