//! Open connections: the limits on them (timeouts and how many may be open), what each one is
//! waiting for, and the counts the inspection API shows.
//!
//! A connection that sends nothing, or a byte now and then, must not hold a file descriptor
//! for ever: once they run out the emulator answers nobody. Each connection therefore has a
//! deadline that depends on what it waits for (a request head, the next request, a client
//! that takes its answer), and the number of connections is capped below the process's file
//! limit so that a client over the cap gets a fast 503 instead of silence (see
//! [`refusal`](super::refusal)).

mod activity;
mod limits;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

pub(crate) use activity::{Activity, Check, Expiry};
pub(crate) use limits::{ConnectionLimits, default_max_connections};
pub use limits::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
};

/// The emulator's connections: the limits, and counters for the inspection API.
#[derive(Debug)]
pub(crate) struct Connections {
    pub(crate) limits: ConnectionLimits,
    open: AtomicUsize,
    peak: AtomicUsize,
    refusing: AtomicUsize,
    /// How many refused connections may be read from at once.
    refusal_places: usize,
    accepted: AtomicU64,
    refused: AtomicU64,
    refused_unanswered: AtomicU64,
    accept_errors: AtomicU64,
    header_timeouts: AtomicU64,
    body_timeouts: AtomicU64,
    keep_alive_timeouts: AtomicU64,
    write_timeouts: AtomicU64,
    malformed_bodies: AtomicU64,
}

impl Connections {
    pub(crate) fn new(limits: ConnectionLimits) -> Self {
        let places = limits::refusal_places(limits.max_connections, limits::file_soft_limit());
        Self::with_refusal_places(limits, places)
    }

    fn with_refusal_places(limits: ConnectionLimits, refusal_places: usize) -> Self {
        Self {
            limits,
            open: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refusing: AtomicUsize::new(0),
            refusal_places,
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            refused_unanswered: AtomicU64::new(0),
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

    /// Takes a place for reading from a refused connection after its 503, or `None` if too
    /// many are being read from already.
    pub(crate) fn refusing(self: &Arc<Self>) -> Option<Refusing> {
        self.refusing
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.refusal_places).then_some(n + 1)
            })
            .ok()
            .map(|_| Refusing(Arc::clone(self)))
    }

    /// A refused connection's 503 could not be written: the client had reset it already.
    pub(crate) fn refusal_unanswered(&self) {
        self.refused_unanswered.fetch_add(1, Ordering::Relaxed);
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
            refused_unanswered: count(&self.refused_unanswered),
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

/// A refused connection being read from after its 503.
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
    /// Connections refused because the cap was reached, each answered 503 before its close
    /// unless counted in `refused_unanswered`.
    pub refused: u64,
    /// Refused connections whose 503 could not be written because the client had already
    /// reset them.
    pub refused_unanswered: u64,
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
