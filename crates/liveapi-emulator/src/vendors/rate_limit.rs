//! Polyv's per-IP rate limit: so many requests per window, then the IP is blocked for a while.
//!
//! Measured on the monotonic clock, not the emulator's clock: freezing or moving the
//! emulator's time for a test should not lock a client out or let a flood through.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Value, json};

/// The limit the emulated Polyv server enforces on each client IP: `requests` per `per`, then
/// `block_for` of refusals (`qps exceeds number of calls`). It is the server's rule, with its
/// ban; the budget a client keeps to stay under it is `liveapi_request::RateLimit`.
///
/// ```
/// use std::time::Duration;
/// use liveapi_emulator::IpRateLimit;
/// let polyv = IpRateLimit::default();
/// assert_eq!((polyv.requests, polyv.per), (1500, Duration::from_secs(10)));
/// let strict = IpRateLimit::new(5, Duration::from_secs(60)).with_block(Duration::ZERO);
/// assert_eq!(strict.block_for, Duration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IpRateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window.
    pub per: Duration,
    /// How long an IP that went over stays refused (the real server: five minutes). Zero
    /// refuses only the requests over the limit.
    pub block_for: Duration,
}

impl Default for IpRateLimit {
    /// Polyv's: 1500 requests per 10 seconds, then five minutes of refusals.
    fn default() -> Self {
        Self {
            requests: 1_500,
            per: Duration::from_secs(10),
            block_for: Duration::from_secs(300),
        }
    }
}

impl IpRateLimit {
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

/// One IP's current window and what came before it.
#[derive(Debug)]
struct Client {
    /// When the current window started (monotonic), and the same moment as wall time for
    /// people reading the inspection API.
    started: Instant,
    started_unix_ms: u64,
    /// Requests counted in the current window, refused ones included.
    count: u32,
    /// Of those, how many were over the limit.
    over: u32,
    blocked_until: Option<Instant>,
    /// How many times this IP was blocked.
    bans: u32,
    /// Requests refused because the IP was blocked, not counted in any window.
    refused_while_blocked: u64,
    /// Finished windows, oldest first, at most [`HISTORY`].
    history: VecDeque<WindowCount>,
}

/// The requests one IP sent in one window, as the inspection API shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct WindowCount {
    /// When the window started, unix milliseconds of the system clock.
    pub(crate) started_ms: u64,
    /// Requests counted in it, refused ones included.
    pub(crate) requests: u32,
    /// Requests over the limit, refused with `qps exceeds number of calls`.
    pub(crate) over_limit: u32,
}

/// How many finished windows are kept per IP: ten minutes of Polyv's 10-second windows.
const HISTORY: usize = 64;

/// Above this many tracked IPs, idle ones are forgotten.
const PRUNE_ABOVE: usize = 4_096;

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Client {
    fn new(now: Instant) -> Self {
        Self {
            started: now,
            started_unix_ms: unix_ms(),
            count: 0,
            over: 0,
            blocked_until: None,
            bans: 0,
            refused_while_blocked: 0,
            history: VecDeque::new(),
        }
    }

    fn current(&self) -> WindowCount {
        WindowCount {
            started_ms: self.started_unix_ms,
            requests: self.count,
            over_limit: self.over,
        }
    }

    /// Closes the current window and opens one at `now`.
    fn restart(&mut self, now: Instant) {
        if self.count > 0 {
            if self.history.len() >= HISTORY {
                self.history.pop_front();
            }
            self.history.push_back(self.current());
        }
        self.started = now;
        self.started_unix_ms = unix_ms();
        self.count = 0;
        self.over = 0;
    }
}

/// What the inspection API shows of one client IP.
#[derive(Debug, Serialize)]
pub(crate) struct ClientStatus {
    ip: IpAddr,
    /// Whether its requests are refused now.
    banned: bool,
    /// How much longer they will be, in milliseconds.
    banned_for_ms: u64,
    bans: u32,
    refused_while_banned: u64,
    /// The most requests counted in one window so far, the current one included.
    max_requests_in_a_window: u32,
    /// Finished windows, oldest first, then the current one.
    windows: Vec<WindowCount>,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: Option<IpRateLimit>,
    clients: Mutex<HashMap<IpAddr, Client>>,
}

impl RateLimiter {
    pub(crate) fn new(limit: Option<IpRateLimit>) -> Self {
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
            clients.retain(|_, c| {
                c.blocked_until.is_some_and(|until| until > now)
                    || now.duration_since(c.started) < limit.per
            });
        }
        let client = clients.entry(ip).or_insert_with(|| Client::new(now));
        if let Some(until) = client.blocked_until {
            if now < until {
                client.refused_while_blocked = client.refused_while_blocked.saturating_add(1);
                return false;
            }
            client.blocked_until = None;
        }
        if now.duration_since(client.started) >= limit.per {
            client.restart(now);
        }
        client.count = client.count.saturating_add(1);
        if client.count <= limit.requests {
            return true;
        }
        client.over = client.over.saturating_add(1);
        if !limit.block_for.is_zero() && client.blocked_until.is_none() {
            client.blocked_until = now.checked_add(limit.block_for);
            client.bans = client.bans.saturating_add(1);
        }
        false
    }

    /// Lifts the ban of `ip` (of every IP with `None`) and starts its window afresh, so that
    /// its next request is not over the limit at once. Returns how many bans were lifted.
    pub(crate) fn lift(&self, ip: Option<IpAddr>) -> usize {
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lifted = 0;
        for (_, client) in clients
            .iter_mut()
            .filter(|(addr, _)| ip.is_none_or(|ip| **addr == ip))
        {
            if client.blocked_until.take().is_some_and(|until| until > now) {
                lifted += 1;
            }
            client.restart(now);
        }
        lifted
    }

    /// The limit and, per client IP, its windows and whether it is blocked, for
    /// `GET /_emulator/rate-limit`.
    pub(crate) fn status(&self) -> Value {
        let now = Instant::now();
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let mut list: Vec<ClientStatus> = clients
            .iter()
            .map(|(ip, c)| {
                let banned_for = c
                    .blocked_until
                    .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
                let windows: Vec<WindowCount> = c
                    .history
                    .iter()
                    .copied()
                    .chain((c.count > 0).then(|| c.current()))
                    .collect();
                ClientStatus {
                    ip: *ip,
                    banned: !banned_for.is_zero(),
                    banned_for_ms: millis(banned_for),
                    bans: c.bans,
                    refused_while_banned: c.refused_while_blocked,
                    max_requests_in_a_window: windows.iter().map(|w| w.requests).max().unwrap_or(0),
                    windows,
                }
            })
            .collect();
        list.sort_by_key(|c| c.ip);
        json!({
            "limit": self.limit.map(|l| json!({
                "requests": l.requests,
                "per_ms": millis(l.per),
                "block_ms": millis(l.block_for),
            })),
            "clients": list,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn counts_per_ip_and_blocks() {
        let limiter = RateLimiter::new(Some(IpRateLimit::new(3, Duration::from_secs(3_600))));
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!((0..3).all(|_| limiter.allow(a)));
        assert!(!limiter.allow(a));
        assert!(limiter.allow(b));
        assert!(!limiter.allow(a));
        assert!(RateLimiter::new(None).allow(a));
    }

    #[test]
    fn the_status_shows_windows_and_bans_per_ip() {
        let limiter = RateLimiter::new(Some(
            IpRateLimit::new(2, Duration::from_millis(30)).with_block(Duration::from_secs(3_600)),
        ));
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!(limiter.allow(b));
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.allow(b));
        assert!(limiter.allow(a) && limiter.allow(a));
        assert!(!limiter.allow(a));
        assert!(!limiter.allow(a));
        let status = limiter.status();
        assert_eq!(status["limit"]["requests"], 2);
        assert_eq!(status["limit"]["block_ms"], 3_600_000);
        let clients = status["clients"].as_array().unwrap();
        assert_eq!(clients.len(), 2);
        let (sa, sb) = (&clients[0], &clients[1]);
        assert_eq!(sa["ip"], "10.0.0.1");
        assert_eq!(sa["banned"], true);
        assert!(sa["banned_for_ms"].as_u64().unwrap() > 3_000_000);
        assert_eq!(sa["bans"], 1);
        assert_eq!(sa["refused_while_banned"], 1);
        assert_eq!(sa["max_requests_in_a_window"], 3);
        assert_eq!(sa["windows"][0]["requests"], 3);
        assert_eq!(sa["windows"][0]["over_limit"], 1);
        assert_eq!(sb["banned"], false);
        assert_eq!(sb["bans"], 0);
        // Two windows of one request each: the first finished, the second current.
        let windows = sb["windows"].as_array().unwrap();
        assert_eq!(windows.len(), 2);
        assert!(
            windows
                .iter()
                .all(|w| w["requests"] == 1 && w["over_limit"] == 0)
        );
        assert!(windows[0]["started_ms"].as_u64() < windows[1]["started_ms"].as_u64());
    }

    #[test]
    fn a_lifted_ban_lets_the_ip_in_again() {
        let limiter = RateLimiter::new(Some(
            IpRateLimit::new(1, Duration::from_secs(3_600)).with_block(Duration::from_secs(3_600)),
        ));
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!(limiter.allow(a) && !limiter.allow(a) && !limiter.allow(a));
        assert!(limiter.allow(b) && !limiter.allow(b));
        assert_eq!(limiter.lift(Some(a)), 1);
        assert_eq!(limiter.status()["clients"][0]["banned"], false);
        assert!(limiter.allow(a), "the window starts afresh");
        assert!(!limiter.allow(b), "another IP stays banned");
        assert_eq!(limiter.lift(None), 1, "b alone was banned");
        assert_eq!(limiter.lift(None), 0);
    }

    #[test]
    fn history_is_bounded() {
        let limiter = RateLimiter::new(Some(IpRateLimit::new(5, Duration::from_millis(1))));
        let a = IpAddr::V4(Ipv4Addr::LOCALHOST);
        for _ in 0..(HISTORY + 10) {
            assert!(limiter.allow(a));
            std::thread::sleep(Duration::from_millis(2));
        }
        let status = limiter.status();
        let windows = status["clients"][0]["windows"].as_array().unwrap().len();
        assert_eq!(windows, HISTORY + 1);
    }
}
