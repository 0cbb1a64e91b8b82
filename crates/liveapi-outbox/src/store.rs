//! The trait both stores implement, and what they exchange with the dispatcher.
//!
//! Every state change is one conditional write, so that the store, not the dispatcher,
//! guarantees the rules: an entry is claimed by one dispatcher at a time (until its lease
//! expires), and settled once (only a pending entry whose lease token is the writer's can be
//! settled).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use liveapi::model::linkv::{Coins, PendingChange};

use crate::entry::{
    Counts, Enqueued, Entry, Lease, Query, ReconcileKind, Reconciliation, Refusal, RefusalKind,
    State, from_ms,
};
use crate::error::OutboxError;

/// A store an [`Outbox`](crate::Outbox) keeps its entries in: [`SqliteStore`](crate::SqliteStore)
/// (feature `sqlite`) or [`PostgresStore`](crate::PostgresStore) (feature `postgres`).
///
/// Sealed: the outbox's guarantees (a commit before `enqueue` returns, one claim at a time,
/// one settlement) are the stores' to keep, so only this crate implements it.
pub trait Store: sealed::Backend + fmt::Debug + Send + Sync + 'static {}

/// The future of a store operation.
pub(crate) type StoreFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, OutboxError>> + Send + 'a>>;

pub(crate) mod sealed {
    use super::{Claim, ClaimRequest, Counts, Enqueued, Entry, Query, Settlement, StoreFuture};
    use liveapi::model::linkv::PendingChange;

    /// What a store does; private, so that `Store` is sealed. Its types are the crate's own:
    /// the trait cannot be named outside it, so its methods cannot be called there.
    #[allow(private_interfaces)]
    pub trait Backend: Send + Sync {
        /// Where the store is, for messages: a path, or a URL's host, port, database and
        /// schema (never a password).
        fn location(&self) -> &str;

        /// Commits `change` as a new pending entry, due at once, unless its request id is
        /// there already.
        fn enqueue(&self, change: PendingChange, now_ms: i64) -> StoreFuture<'_, Enqueued>;

        /// Leases pending entries that are due and not leased (or whose lease expired).
        fn claim(&self, request: ClaimRequest) -> StoreFuture<'_, Vec<Claim>>;

        /// Records what became of a claimed entry, if the claim still holds: `false` when
        /// the entry was taken over (or settled) by another claim meanwhile.
        fn record(
            &self,
            request_id: String,
            token: String,
            settlement: Settlement,
            now_ms: i64,
        ) -> StoreFuture<'_, bool>;

        /// One entry by request id.
        fn get(&self, request_id: String) -> StoreFuture<'_, Option<Entry>>;

        /// Entries by query.
        fn list(&self, query: Query) -> StoreFuture<'_, Vec<Entry>>;

        /// How many entries are in each state; leases alive at `now_ms` count as in flight.
        fn counts(&self, now_ms: i64) -> StoreFuture<'_, Counts>;
    }
}

/// What a dispatcher asks of [`sealed::Backend::claim`].
#[derive(Clone, Debug)]
pub(crate) struct ClaimRequest {
    pub(crate) owner: String,
    pub(crate) token: String,
    /// Entries due by then.
    pub(crate) due_by_ms: i64,
    /// Leases that expired by then are taken over.
    pub(crate) now_ms: i64,
    /// The new lease's end.
    pub(crate) lease_until_ms: i64,
    pub(crate) limit: u32,
    /// Only this entry.
    pub(crate) only: Option<String>,
}

/// A claimed entry.
#[derive(Clone, Debug)]
pub(crate) struct Claim {
    pub(crate) entry: Entry,
    pub(crate) token: String,
    /// The dispatcher whose expired lease this claim took over.
    pub(crate) taken_over_from: Option<String>,
}

/// What becomes of a claimed entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Settlement {
    Applied {
        balance: Option<Coins>,
    },
    Refused(Refusal),
    Reconcile(Reconciliation),
    /// Still pending: sent again at `at_ms`.
    Retry {
        at_ms: i64,
        error: String,
    },
}

/// The columns a settlement writes.
pub(crate) struct SettlementColumns<'a> {
    pub(crate) state: &'static str,
    pub(crate) balance: Option<i64>,
    pub(crate) kind: Option<&'static str>,
    pub(crate) status: Option<i64>,
    pub(crate) message: Option<&'a str>,
}

impl Settlement {
    /// The stored columns of a final settlement; `None` for a retry.
    pub(crate) fn columns(&self) -> Option<SettlementColumns<'_>> {
        Some(match self {
            Self::Applied { balance } => SettlementColumns {
                state: "applied",
                balance: balance.map(|b| i64::try_from(b.get()).unwrap_or(i64::MAX)),
                kind: None,
                status: None,
                message: None,
            },
            Self::Refused(refusal) => SettlementColumns {
                state: "refused",
                balance: None,
                kind: Some(refusal.kind.name()),
                status: match refusal.kind {
                    RefusalKind::Rejected { status } => Some(status),
                    _ => None,
                },
                message: Some(&refusal.message),
            },
            Self::Reconcile(reason) => SettlementColumns {
                state: "reconcile",
                balance: None,
                kind: Some(reason.kind.name()),
                status: None,
                message: Some(&reason.message),
            },
            Self::Retry { .. } => return None,
        })
    }
}

/// The columns every query reads, in [`Row`]'s order.
pub(crate) const COLUMNS: &str = "seq, request_id, change, state, attempts, enqueued_at_ms, \
    next_attempt_at_ms, lease_owner, lease_until_ms, last_error, settled_at_ms, balance, \
    outcome_kind, outcome_status, outcome_message";

/// An entry as stored.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) seq: i64,
    pub(crate) request_id: String,
    pub(crate) change: String,
    pub(crate) state: String,
    pub(crate) attempts: i64,
    pub(crate) enqueued_at_ms: i64,
    pub(crate) next_attempt_at_ms: i64,
    pub(crate) lease_owner: Option<String>,
    pub(crate) lease_until_ms: Option<i64>,
    pub(crate) last_error: Option<String>,
    pub(crate) settled_at_ms: Option<i64>,
    pub(crate) balance: Option<i64>,
    pub(crate) outcome_kind: Option<String>,
    pub(crate) outcome_status: Option<i64>,
    pub(crate) outcome_message: Option<String>,
}

impl Row {
    /// The entry it stores, every value checked.
    pub(crate) fn into_entry(self) -> Result<Entry, OutboxError> {
        let bad = |detail: String| OutboxError::BadRecord {
            request_id: self.request_id.clone(),
            detail,
        };
        let change: PendingChange =
            serde_json::from_str(&self.change).map_err(|e| bad(format!("its change: {e}")))?;
        if change.request_id().as_str() != self.request_id {
            return Err(bad(format!(
                "its change has request_id {}",
                change.request_id()
            )));
        }
        let settled_at = || {
            self.settled_at_ms
                .map(from_ms)
                .ok_or_else(|| bad("settled without a time".to_owned()))
        };
        let message = || self.outcome_message.clone().unwrap_or_default();
        let state = match self.state.as_str() {
            "pending" => State::Pending {
                next_attempt_at: from_ms(self.next_attempt_at_ms),
                lease: match (&self.lease_owner, self.lease_until_ms) {
                    (Some(owner), Some(until)) => Some(Lease {
                        owner: owner.clone(),
                        until: from_ms(until),
                    }),
                    _ => None,
                },
            },
            "applied" => State::Applied {
                balance: match self.balance {
                    Some(b) => Some(
                        u64::try_from(b)
                            .ok()
                            .and_then(|b| Coins::new(b).ok())
                            .ok_or_else(|| bad(format!("balance {b}")))?,
                    ),
                    None => None,
                },
                settled_at: settled_at()?,
            },
            "refused" => State::Refused {
                refusal: Refusal {
                    kind: match (self.outcome_kind.as_deref(), self.outcome_status) {
                        (Some("bad_parameter"), _) => RefusalKind::BadParameter,
                        (Some("rejected"), Some(status)) => RefusalKind::Rejected { status },
                        (Some("invalid"), _) => RefusalKind::Invalid,
                        (kind, _) => return Err(bad(format!("refusal kind {kind:?}"))),
                    },
                    message: message(),
                },
                settled_at: settled_at()?,
            },
            "reconcile" => State::NeedsReconciliation {
                reason: Reconciliation {
                    kind: match self.outcome_kind.as_deref() {
                        Some("resend_window_passed") => ReconcileKind::ResendWindowPassed,
                        kind => return Err(bad(format!("reconciliation kind {kind:?}"))),
                    },
                    message: message(),
                },
                settled_at: settled_at()?,
            },
            other => return Err(bad(format!("state `{other}`"))),
        };
        Ok(Entry {
            seq: u64::try_from(self.seq).map_err(|_| bad(format!("seq {}", self.seq)))?,
            change,
            enqueued_at: from_ms(self.enqueued_at_ms),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            last_error: self.last_error,
            state,
        })
    }
}

/// Whether `stored`, the change already queued under a request id, is the same change as
/// `new`: the same call with the same parameters (a change made again after a restart has
/// another creation time, and is still the same change).
pub(crate) fn same_change(
    stored: &str,
    new: &PendingChange,
    request_id: &str,
) -> Result<bool, OutboxError> {
    let stored: PendingChange =
        serde_json::from_str(stored).map_err(|e| OutboxError::BadRecord {
            request_id: request_id.to_owned(),
            detail: format!("its change: {e}"),
        })?;
    Ok(stored.endpoint() == new.endpoint() && stored.params() == new.params())
}

/// The stored form of a change.
pub(crate) fn change_json(change: &PendingChange) -> Result<String, OutboxError> {
    serde_json::to_string(change).map_err(|e| OutboxError::BadRecord {
        request_id: change.request_id().to_string(),
        detail: format!("the change cannot be written: {e}"),
    })
}

/// Adds a count of `state` (leased or not) to `counts`.
pub(crate) fn add_count(counts: &mut Counts, state: &str, leased: bool, n: i64) {
    let n = u64::try_from(n).unwrap_or(0);
    match state {
        "pending" => {
            counts.pending += n;
            if leased {
                counts.in_flight += n;
            }
        }
        "applied" => counts.applied += n,
        "refused" => counts.refused += n,
        "reconcile" => counts.needs_reconciliation += n,
        _ => {}
    }
}
