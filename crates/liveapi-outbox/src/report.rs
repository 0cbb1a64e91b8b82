//! What the outbox reports: one send ([`Sent`]), one drain ([`DrainReport`]), and this
//! process's counters ([`Stats`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use liveapi::model::linkv::{Coins, RequestId};

use crate::entry::{Reconciliation, Refusal};
use crate::error::OutboxError;

/// What sending one entry found, and whether it was recorded.
#[derive(Debug)]
#[non_exhaustive]
pub struct Sent {
    /// The entry's request id.
    pub request_id: RequestId,
    /// What became of it.
    pub outcome: Outcome,
    /// The client's error, when the send failed.
    pub error: Option<liveapi::Error>,
    /// Whether the outcome is in the store.
    pub recorded: Recorded,
    /// The attempt this was (1 for the first).
    pub attempt: u32,
}

/// What became of an entry that was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Applied.
    Applied {
        /// The balance after, when the call answers one.
        balance: Option<Coins>,
    },
    /// Refused by the server.
    Refused(Refusal),
    /// To be reconciled by hand.
    NeedsReconciliation(Reconciliation),
    /// Still pending, to be sent again (with the same request id) at `at`.
    Retry {
        /// When.
        at: SystemTime,
    },
}

impl Outcome {
    /// Whether the entry is settled by it.
    #[must_use]
    pub fn is_settled(&self) -> bool {
        !matches!(self, Self::Retry { .. })
    }
}

/// Whether an outcome was recorded.
#[derive(Debug)]
#[non_exhaustive]
pub enum Recorded {
    /// It is in the store.
    Yes,
    /// Another dispatcher took the entry over meanwhile (this one's lease expired); its
    /// outcome counts, this one was discarded.
    LeaseLost,
    /// The store failed: the entry stays pending under this dispatcher's lease, and is sent
    /// again (with the same request id) once the lease expires.
    Failed(OutboxError),
}

/// What one [`Outbox::drain_once`](crate::Outbox::drain_once) did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrainReport {
    /// Entries sent (claimed).
    pub sent: u64,
    /// Of those, taken over from a dispatcher whose lease had expired.
    pub taken_over: u64,
    /// Settled as applied.
    pub applied: u64,
    /// Settled as refused.
    pub refused: u64,
    /// Settled as needing reconciliation.
    pub needs_reconciliation: u64,
    /// Left pending, to be sent again after a backoff.
    pub retry: u64,
    /// Outcomes discarded because another dispatcher took the entry over.
    pub lease_lost: u64,
    /// Outcomes the store failed to record (sent again after the lease).
    pub unrecorded: u64,
}

impl DrainReport {
    /// Counts what became of one send.
    pub(crate) fn add(&mut self, sent: &Sent, taken_over: bool) {
        self.sent += 1;
        self.taken_over += u64::from(taken_over);
        match &sent.recorded {
            Recorded::Yes => match &sent.outcome {
                Outcome::Applied { .. } => self.applied += 1,
                Outcome::Refused(_) => self.refused += 1,
                Outcome::NeedsReconciliation(_) => self.needs_reconciliation += 1,
                Outcome::Retry { .. } => self.retry += 1,
            },
            Recorded::LeaseLost => self.lease_lost += 1,
            Recorded::Failed(_) => self.unrecorded += 1,
        }
    }
}

/// What this process's [`Outbox`](crate::Outbox) has done since it was built: counters for
/// metrics, next to the store's gauges ([`Outbox::counts`](crate::Outbox::counts)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Changes enqueued anew.
    pub enqueued: u64,
    /// Enqueues of a change that was there already.
    pub already_queued: u64,
    /// Sends started (claims).
    pub sent: u64,
    /// Of those, entries taken over from an expired lease.
    pub taken_over: u64,
    /// Entries settled as applied.
    pub applied: u64,
    /// Entries settled as refused.
    pub refused: u64,
    /// Entries settled as needing reconciliation.
    pub needs_reconciliation: u64,
    /// Sends whose entry stays pending for another attempt.
    pub retried: u64,
    /// Outcomes discarded because another dispatcher took the entry over.
    pub lease_lost: u64,
    /// Store operations of the dispatcher that failed.
    pub store_errors: u64,
}

/// The live counters behind [`Stats`], shared by an outbox's clones.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) enqueued: AtomicU64,
    pub(crate) already_queued: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) taken_over: AtomicU64,
    pub(crate) applied: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) needs_reconciliation: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) lease_lost: AtomicU64,
    pub(crate) store_errors: AtomicU64,
}

impl Counters {
    /// Their values now.
    pub(crate) fn snapshot(&self) -> Stats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            enqueued: get(&self.enqueued),
            already_queued: get(&self.already_queued),
            sent: get(&self.sent),
            taken_over: get(&self.taken_over),
            applied: get(&self.applied),
            refused: get(&self.refused),
            needs_reconciliation: get(&self.needs_reconciliation),
            retried: get(&self.retried),
            lease_lost: get(&self.lease_lost),
            store_errors: get(&self.store_errors),
        }
    }
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
