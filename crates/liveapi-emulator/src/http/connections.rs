//! Open connections: the limits on them (timeouts and how many may be open), what each one is
//! waiting for, and the counts the inspection API shows.
//!
//! A connection that sends nothing, or a byte now and then, must not hold a file descriptor
//! for ever: once they run out the emulator answers nobody. Each connection therefore has a
//! deadline that depends on what it waits for (a request head, the next request, a client
//! that takes its answer), and the number of connections is capped below the process's file
//! limit so that a client over the cap gets a fast 503 instead of silence.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long a client has to send a whole request head by default: from the connection's
/// start for its first request, from the first byte for the next ones.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may stall by default: the longest wait for its next bytes (a slow
/// but steady upload is fine). It also bounds how long an answer waits for a client that does
/// not read it.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may sit idle between requests by default.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// How many connections may be open at once by default, unless the process may open fewer
/// files (see [`EmulatorBuilder::max_connections`](crate::EmulatorBuilder::max_connections)).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// File descriptors kept for the emulator's own use (listener, runtime, state file, standard
/// streams) when the connection cap is derived from the file limit.
const FD_HEADROOM: u64 = 64;
/// At most this many refused connections are answered at once (fewer under a small cap: a
/// sixteenth of it), each holding a descriptor for a moment; beyond it they are closed
/// without a word, so that refusing cannot itself use up the descriptors kept in reserve.
const MAX_REFUSING: usize = 32;

/// The limits on connections, fixed at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) max_connections: usize,
}

impl ConnectionLimits {
    /// Refuses limits that would close every connection at once or admit none.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("header_read_timeout", self.header_read_timeout),
            ("body_read_timeout", self.body_read_timeout),
            ("keep_alive_timeout", self.keep_alive_timeout),
        ] {
            if value.is_zero() {
                return Err(format!("{name} must be longer than zero"));
            }
        }
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        Ok(())
    }

    /// The shortest timeout: how often a connection's watchdog looks at its clock at least.
    fn shortest(&self) -> Duration {
        self.header_read_timeout
            .min(self.body_read_timeout)
            .min(self.keep_alive_timeout)
    }
}

/// The default cap: [`DEFAULT_MAX_CONNECTIONS`], or fewer if the soft limit on open files is
/// lower, keeping [`FD_HEADROOM`] descriptors (or half of a tiny limit) for everything else.
pub(crate) fn default_max_connections() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| nofile_soft_limit(&text));
    cap_for_file_limit(soft)
}

fn cap_for_file_limit(soft: Option<u64>) -> usize {
    let Some(soft) = soft else {
        return DEFAULT_MAX_CONNECTIONS;
    };
    let usable = soft - FD_HEADROOM.min(soft / 2);
    usize::try_from(usable)
        .unwrap_or(usize::MAX)
        .clamp(1, DEFAULT_MAX_CONNECTIONS)
}

/// The soft limit on open files from the text of Linux's `/proc/self/limits`
/// (`Max open files  1024  1048576  files`); `None` if absent or unlimited.
fn nofile_soft_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Why the emulator closed a connection on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// The request head did not arrive in time.
    Header,
    /// Idle between requests for too long.
    KeepAlive,
    /// The client did not take the answer.
    Write,
}

/// What a connection waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A request head: the first since `since` (the connection's start), or the next one
    /// since the last answer ended at `since`.
    Head {
        since: Instant,
        first: bool,
        /// When the first byte of a next request arrived.
        started: Option<Instant>,
    },
    /// A request is being handled: its body read, its answer written.
    Request,
}

/// One connection's progress, updated by its IO and its request handler.
#[derive(Clone, Copy, Debug)]
struct Progress {
    phase: Phase,
    /// Since when writing has been waiting for the client to read.
    write_blocked: Option<Instant>,
}

impl Progress {
    /// When the connection must be closed if nothing changes, and why; `None` for never.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Expiry)> {
        let phase = match self.phase {
            Phase::Head {
                since, first: true, ..
            } => since
                .checked_add(limits.header_read_timeout)
                .map(|at| (at, Expiry::Header)),
            Phase::Head {
                started: Some(at), ..
            } => at
                .checked_add(limits.header_read_timeout)
                .map(|at| (at, Expiry::Header)),
            Phase::Head { since, .. } => since
                .checked_add(limits.keep_alive_timeout)
                .map(|at| (at, Expiry::KeepAlive)),
            // The body's stalls are the handler's to catch (it answers 408).
            Phase::Request => None,
        };
        // A client that does not read: in any phase, since an answer whose body hyper has
        // taken whole may still be waiting to be flushed while the next request is awaited.
        let write = self
            .write_blocked
            .and_then(|at| at.checked_add(limits.body_read_timeout))
            .map(|at| (at, Expiry::Write));
        match (phase, write) {
            (Some(p), Some(w)) => Some(if w.0 < p.0 { w } else { p }),
            (p, w) => p.or(w),
        }
    }
}

/// One connection's progress, shared by its IO, its handler and its watchdog (all on the
/// connection's own task, so the lock is never contended).
#[derive(Debug)]
pub(crate) struct Activity {
    progress: Mutex<Progress>,
}

impl Activity {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            progress: Mutex::new(Progress {
                phase: Phase::Head {
                    since: now,
                    first: true,
                    started: None,
                },
                write_blocked: None,
            }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Progress) -> R) -> R {
        // Plain values that no panic can leave half-written.
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut progress)
    }

    /// Bytes arrived.
    pub(crate) fn read(&self, now: Instant) {
        self.with(|p| {
            if let Phase::Head {
                first: false,
                started: started @ None,
                ..
            } = &mut p.phase
            {
                *started = Some(now);
            }
        });
    }

    /// A write could not proceed (`blocked`) or did.
    pub(crate) fn write(&self, blocked: bool, now: Instant) {
        self.with(|p| match (blocked, p.write_blocked) {
            (true, None) => p.write_blocked = Some(now),
            (false, Some(_)) => p.write_blocked = None,
            _ => {}
        });
    }

    /// A request head arrived and its handling starts.
    pub(crate) fn request_started(&self) {
        self.with(|p| p.phase = Phase::Request);
    }

    /// The answer was written (or abandoned): the connection waits for the next request.
    pub(crate) fn answer_ended(&self, now: Instant) {
        self.with(|p| {
            p.phase = Phase::Head {
                since: now,
                first: false,
                started: None,
            };
        });
    }

    /// The reason to close now if the deadline has passed, else when to look again.
    ///
    /// The deadline can move earlier while the watchdog sleeps (a long header timeout, then
    /// a request, then a short keep-alive timeout), so it never sleeps longer than the
    /// shortest timeout: a deadline that starts meanwhile, being at least that far away, is
    /// then still kept to the tick.
    pub(crate) fn check(&self, limits: &ConnectionLimits, now: Instant) -> Check {
        let deadline = self.with(|p| p.deadline(limits));
        let next_look = now.checked_add(limits.shortest());
        match (deadline, next_look) {
            (Some((at, why)), _) if at <= now => Check::Expired(why),
            (Some((at, _)), Some(look)) => Check::WaitUntil(at.min(look)),
            (Some((at, _)), None) => Check::WaitUntil(at),
            (None, look) => Check::WaitUntil(look.unwrap_or(now)),
        }
    }
}

/// What a connection's watchdog does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Close the connection.
    Expired(Expiry),
    /// Sleep until then and check again.
    WaitUntil(Instant),
}

/// The emulator's connections: the limits, and counters for the inspection API.
#[derive(Debug)]
pub(crate) struct Connections {
    pub(crate) limits: ConnectionLimits,
    open: AtomicUsize,
    peak: AtomicUsize,
    refusing: AtomicUsize,
    accepted: AtomicU64,
    refused: AtomicU64,
    accept_errors: AtomicU64,
    header_timeouts: AtomicU64,
    body_timeouts: AtomicU64,
    keep_alive_timeouts: AtomicU64,
    write_timeouts: AtomicU64,
    malformed_bodies: AtomicU64,
}

impl Connections {
    pub(crate) fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            open: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refusing: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            header_timeouts: AtomicU64::new(0),
            body_timeouts: AtomicU64::new(0),
            keep_alive_timeouts: AtomicU64::new(0),
            write_timeouts: AtomicU64::new(0),
            malformed_bodies: AtomicU64::new(0),
        }
    }

    /// Takes a place for a new connection, or `None` if all are taken (the connection is
    /// then refused and counted as such).
    pub(crate) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.limits.max_connections).then_some(open + 1)
            });
        match admitted {
            Ok(before) => {
                self.accepted.fetch_add(1, Ordering::Relaxed);
                self.peak.fetch_max(before + 1, Ordering::Relaxed);
                Some(Slot(Arc::clone(self)))
            }
            Err(_) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Takes a place for answering a refused connection, or `None` if too many are being
    /// answered already.
    pub(crate) fn refusing(self: &Arc<Self>) -> Option<Refusing> {
        let max = (self.limits.max_connections / 16).clamp(1, MAX_REFUSING);
        self.refusing
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Refusing(Arc::clone(self)))
    }

    pub(crate) fn accept_failed(&self) {
        self.accept_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn expired(&self, why: Expiry) {
        let counter = match why {
            Expiry::Header => &self.header_timeouts,
            Expiry::KeepAlive => &self.keep_alive_timeouts,
            Expiry::Write => &self.write_timeouts,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn body_timed_out(&self) {
        self.body_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn body_malformed(&self) {
        self.malformed_bodies.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> ConnectionStats {
        let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ConnectionStats {
            open: self.open.load(Ordering::Relaxed),
            peak: self.peak.load(Ordering::Relaxed),
            max: self.limits.max_connections,
            accepted: count(&self.accepted),
            refused: count(&self.refused),
            accept_errors: count(&self.accept_errors),
            header_timeouts: count(&self.header_timeouts),
            body_timeouts: count(&self.body_timeouts),
            keep_alive_timeouts: count(&self.keep_alive_timeouts),
            write_timeouts: count(&self.write_timeouts),
            malformed_bodies: count(&self.malformed_bodies),
            header_read_timeout_ms: millis(self.limits.header_read_timeout),
            body_read_timeout_ms: millis(self.limits.body_read_timeout),
            keep_alive_timeout_ms: millis(self.limits.keep_alive_timeout),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// An open connection's place under the cap, given back when the connection ends.
#[derive(Debug)]
pub(crate) struct Slot(Arc<Connections>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A refused connection being answered.
#[derive(Debug)]
pub(crate) struct Refusing(Arc<Connections>);

impl Drop for Refusing {
    fn drop(&mut self) {
        self.0.refusing.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The emulator's connections as `GET /_emulator/connections` shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Connections open now.
    pub open: usize,
    /// The most connections open at once since the start.
    pub peak: usize,
    /// The cap on open connections.
    pub max: usize,
    /// Connections accepted under the cap, since the start.
    pub accepted: u64,
    /// Connections refused because the cap was reached (answered 503, or closed).
    pub refused: u64,
    /// Failures to accept a connection (e.g. out of file descriptors), each followed by a
    /// short pause.
    pub accept_errors: u64,
    /// Connections closed because a request head was not complete in time.
    pub header_timeouts: u64,
    /// Requests whose body stalled for longer than the body read timeout (answered 408 and
    /// closed).
    pub body_timeouts: u64,
    /// Connections closed after sitting idle between requests for the keep-alive timeout.
    pub keep_alive_timeouts: u64,
    /// Connections closed because the client did not take its answer for the body read
    /// timeout.
    pub write_timeouts: u64,
    /// Requests whose body was malformed (e.g. a bad chunk size line; answered 400 and
    /// closed).
    pub malformed_bodies: u64,
    /// The header read timeout, in milliseconds.
    pub header_read_timeout_ms: u64,
    /// The body read timeout, in milliseconds.
    pub body_read_timeout_ms: u64,
    /// The keep-alive timeout, in milliseconds.
    pub keep_alive_timeout_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(7),
            keep_alive_timeout: Duration::from_secs(60),
            max_connections: 2,
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn first_head_is_timed_from_the_start_even_without_bytes() {
        let t0 = Instant::now();
        let a = Activity::new(t0);
        // Looks again after the shortest timeout (the body's 7 s) at the latest.
        assert_eq!(a.check(&limits(), t0), Check::WaitUntil(t0 + secs(7)));
        a.read(t0 + secs(3));
        assert_eq!(
            a.check(&limits(), t0 + secs(9)),
            Check::WaitUntil(t0 + secs(10))
        );
        assert_eq!(
            a.check(&limits(), t0 + secs(10)),
            Check::Expired(Expiry::Header)
        );
    }

    #[test]
    fn idle_connection_gets_the_keep_alive_timeout_and_a_started_head_the_header_timeout() {
        let t0 = Instant::now();
        let a = Activity::new(t0);
        a.request_started();
        a.answer_ended(t0 + secs(1));
        assert_eq!(
            a.check(&limits(), t0 + secs(2)),
            Check::WaitUntil(t0 + secs(9))
        );
        assert_eq!(
            a.check(&limits(), t0 + secs(58)),
            Check::WaitUntil(t0 + secs(61))
        );
        assert_eq!(
            a.check(&limits(), t0 + secs(61)),
            Check::Expired(Expiry::KeepAlive)
        );
        a.read(t0 + secs(30));
        // A second read does not move the head's start.
        a.read(t0 + secs(35));
        assert_eq!(
            a.check(&limits(), t0 + secs(39)),
            Check::WaitUntil(t0 + secs(40))
        );
        assert_eq!(
            a.check(&limits(), t0 + secs(40)),
            Check::Expired(Expiry::Header)
        );
    }

    #[test]
    fn a_deadline_that_moves_earlier_is_not_overslept() {
        let short_idle = ConnectionLimits {
            header_read_timeout: secs(60),
            body_read_timeout: secs(60),
            keep_alive_timeout: secs(1),
            max_connections: 1,
        };
        let t0 = Instant::now();
        let a = Activity::new(t0);
        // The first head may take 60 s, but the watchdog looks again within 1 s…
        assert_eq!(a.check(&short_idle, t0), Check::WaitUntil(t0 + secs(1)));
        a.request_started();
        a.answer_ended(t0 + Duration::from_millis(500));
        // …and so finds the keep-alive deadline that began meanwhile in time.
        assert_eq!(
            a.check(&short_idle, t0 + secs(1)),
            Check::WaitUntil(t0 + Duration::from_millis(1_500))
        );
        assert_eq!(
            a.check(&short_idle, t0 + Duration::from_millis(1_500)),
            Check::Expired(Expiry::KeepAlive)
        );
    }

    #[test]
    fn a_request_in_progress_is_closed_only_for_an_unread_answer() {
        let t0 = Instant::now();
        let a = Activity::new(t0);
        a.request_started();
        a.read(t0 + secs(1));
        // Looks again after the shortest timeout.
        assert_eq!(
            a.check(&limits(), t0 + secs(100)),
            Check::WaitUntil(t0 + secs(107))
        );
        a.write(true, t0 + secs(100));
        a.write(true, t0 + secs(105));
        assert_eq!(
            a.check(&limits(), t0 + secs(106)),
            Check::WaitUntil(t0 + secs(107))
        );
        assert_eq!(
            a.check(&limits(), t0 + secs(107)),
            Check::Expired(Expiry::Write)
        );
        a.write(false, t0 + secs(107));
        assert_eq!(
            a.check(&limits(), t0 + secs(107)),
            Check::WaitUntil(t0 + secs(114))
        );
    }

    #[test]
    fn an_unread_answer_counts_between_requests_too() {
        let t0 = Instant::now();
        let a = Activity::new(t0);
        a.request_started();
        a.answer_ended(t0);
        a.write(true, t0 + secs(1));
        // The write stall (7 s) comes before the keep-alive timeout (60 s).
        assert_eq!(
            a.check(&limits(), t0 + secs(8)),
            Check::Expired(Expiry::Write)
        );
        // On a fresh connection the header timeout (10 s) can come first.
        let b = Activity::new(t0);
        b.write(true, t0 + secs(5));
        assert_eq!(
            b.check(&limits(), t0 + secs(10)),
            Check::Expired(Expiry::Header)
        );
    }

    #[test]
    fn huge_timeouts_mean_never_instead_of_overflowing() {
        let t0 = Instant::now();
        let huge = ConnectionLimits {
            header_read_timeout: Duration::MAX,
            body_read_timeout: Duration::MAX,
            keep_alive_timeout: Duration::MAX,
            max_connections: 1,
        };
        let a = Activity::new(t0);
        assert!(matches!(a.check(&huge, t0), Check::WaitUntil(_)));
        a.request_started();
        a.write(true, t0);
        assert!(matches!(a.check(&huge, t0), Check::WaitUntil(_)));
    }

    #[test]
    fn the_cap_admits_up_to_max_and_counts_refusals() {
        let c = Arc::new(Connections::new(limits()));
        let one = c.admit().unwrap();
        let two = c.admit().unwrap();
        assert!(c.admit().is_none());
        drop(one);
        let three = c.admit().unwrap();
        let stats = c.stats();
        assert_eq!(
            (stats.open, stats.peak, stats.accepted, stats.refused),
            (2, 2, 3, 1)
        );
        drop((two, three));
        assert_eq!(c.stats().open, 0);
        // The limits, as the inspection API reports them.
        assert_eq!(
            (
                stats.max,
                stats.header_read_timeout_ms,
                stats.body_read_timeout_ms,
                stats.keep_alive_timeout_ms
            ),
            (2, 10_000, 7_000, 60_000)
        );
    }

    #[test]
    fn refusals_answered_at_once_are_bounded() {
        for (cap, answered) in [(2, 1), (32, 2), (160, 10), (10_000, MAX_REFUSING)] {
            let c = Arc::new(Connections::new(ConnectionLimits {
                max_connections: cap,
                ..limits()
            }));
            let held: Vec<_> = (0..answered).map(|_| c.refusing().unwrap()).collect();
            assert!(c.refusing().is_none(), "cap {cap}");
            drop(held);
            assert!(c.refusing().is_some());
        }
    }

    #[test]
    fn limits_must_be_positive() {
        assert!(limits().validate().is_ok());
        for broken in [
            ConnectionLimits {
                header_read_timeout: Duration::ZERO,
                ..limits()
            },
            ConnectionLimits {
                body_read_timeout: Duration::ZERO,
                ..limits()
            },
            ConnectionLimits {
                keep_alive_timeout: Duration::ZERO,
                ..limits()
            },
            ConnectionLimits {
                max_connections: 0,
                ..limits()
            },
        ] {
            assert!(broken.validate().is_err(), "{broken:?}");
        }
    }

    #[test]
    fn the_default_cap_stays_under_the_file_limit() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max cpu time              unlimited            unlimited            seconds   \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(nofile_soft_limit(text), Some(1024));
        assert_eq!(
            nofile_soft_limit("Max open files  unlimited unlimited files"),
            None
        );
        assert_eq!(nofile_soft_limit(""), None);
        assert_eq!(cap_for_file_limit(Some(1024)), 960);
        assert_eq!(cap_for_file_limit(Some(64)), 32);
        assert_eq!(cap_for_file_limit(Some(1)), 1);
        assert_eq!(cap_for_file_limit(Some(0)), 1);
        assert_eq!(cap_for_file_limit(Some(1_048_576)), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(cap_for_file_limit(None), DEFAULT_MAX_CONNECTIONS);
    }
}
