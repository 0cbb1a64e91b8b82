//! What one connection waits for (a request head, the next request, a client that takes its
//! answer), and the deadline that closes it when it waits too long.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use super::limits::ConnectionLimits;

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
