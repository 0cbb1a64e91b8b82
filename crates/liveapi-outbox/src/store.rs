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
    Counts, Decision, Enqueued, Entry, Lease, Query, ReconcileKind, Reconciliation, Refusal,
    RefusalKind, Resolution, State, from_ms,
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
    use super::{
        Claim, ClaimRequest, Counts, Enqueued, Entry, Query, Resolve, Settlement, StoreFuture,
    };
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

        /// Records a person's decision on an entry that needs reconciliation, and enqueues
        /// its re-issue, in one transaction.
        fn resolve(&self, resolve: Resolve) -> StoreFuture<'_, ()>;

        /// Deletes up to `batch` settled entries settled (or resolved) before `before_ms`;
        /// answers how many.
        fn prune(&self, before_ms: i64, batch: u32) -> StoreFuture<'_, u64>;

        /// Ends the leases `owner` holds on pending entries, so that they are due at once for
        /// any dispatcher; answers how many.
        fn release(&self, owner: String) -> StoreFuture<'_, u64>;
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
    /// No pending entry is due later than this, whichever clock scheduled it (now plus the
    /// longest backoff).
    pub(crate) latest_due_ms: i64,
    /// No lease lasts past this, whichever clock wrote it.
    pub(crate) latest_lease_ms: i64,
}

/// A person's decision on an entry, for [`sealed::Backend::resolve`].
#[derive(Clone, Debug)]
pub(crate) struct Resolve {
    pub(crate) request_id: String,
    pub(crate) decision: Decision,
    pub(crate) note: String,
    pub(crate) at_ms: i64,
    /// The change to enqueue in its place, under a new request id.
    pub(crate) reissue: Option<PendingChange>,
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
    /// Still pending: sent again at `at_ms`, `delay_ms` after the settlement's time (kept so
    /// that a schedule written by a clock ahead of the reader's is seen for what it is).
    Retry {
        at_ms: i64,
        delay_ms: i64,
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
    outcome_kind, outcome_status, outcome_message, resolution, resolved_at_ms, resolution_note, \
    reissued_as, reissue_of";

/// The columns schema version 2 added, as a version 1 store reads them (nothing).
pub(crate) const V2_COLUMNS_AS_NULL: &str = "NULL AS retry_delay_ms, NULL AS resolution, \
    NULL AS resolved_at_ms, NULL AS resolution_note, NULL AS reissued_as, NULL AS reissue_of";

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
    pub(crate) resolution: Option<String>,
    pub(crate) resolved_at_ms: Option<i64>,
    pub(crate) resolution_note: Option<String>,
    pub(crate) reissued_as: Option<String>,
    pub(crate) reissue_of: Option<String>,
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
            "reconcile" => {
                let reason = Reconciliation {
                    kind: match self.outcome_kind.as_deref() {
                        Some("resend_window_passed") => ReconcileKind::ResendWindowPassed,
                        kind => return Err(bad(format!("reconciliation kind {kind:?}"))),
                    },
                    message: message(),
                };
                match self.resolution.as_deref() {
                    None => State::NeedsReconciliation {
                        reason,
                        settled_at: settled_at()?,
                    },
                    Some(decision) => State::Resolved {
                        reason,
                        resolution: Resolution {
                            decision: match decision {
                                "applied" => Decision::Applied,
                                "not_applied" => Decision::NotApplied,
                                other => return Err(bad(format!("resolution `{other}`"))),
                            },
                            at: self
                                .resolved_at_ms
                                .map(from_ms)
                                .ok_or_else(|| bad("resolved without a time".to_owned()))?,
                            note: self.resolution_note.clone().unwrap_or_default(),
                            reissued_as: self.reissued_as.clone(),
                        },
                        settled_at: settled_at()?,
                    },
                }
            }
            other => return Err(bad(format!("state `{other}`"))),
        };
        Ok(Entry {
            seq: u64::try_from(self.seq).map_err(|_| bad(format!("seq {}", self.seq)))?,
            change,
            enqueued_at: from_ms(self.enqueued_at_ms),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            last_error: self.last_error,
            reissue_of: self.reissue_of,
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

/// The statement of the counts: how many of each state (a resolved entry counts apart from one
/// that needs reconciliation), leased or not; then the oldest pending entry's enqueue time and
/// when the next pending one is due (its lease's end if one is alive). `{table}` is the table;
/// `{now}` the parameter of now.
pub(crate) const COUNTS: &str = "SELECT CASE WHEN state = 'reconcile' AND resolution IS NOT NULL \
    THEN 'resolved' ELSE state END, coalesce(lease_until_ms > {now}, false), count(*), \
    min(CASE WHEN state = 'pending' THEN enqueued_at_ms END), \
    min(CASE WHEN state = 'pending' THEN CASE WHEN lease_until_ms > {now} \
      THEN lease_until_ms ELSE next_attempt_at_ms END END) \
    FROM {table} GROUP BY 1, 2";

/// Adds one row of [`COUNTS`] to `counts`.
pub(crate) fn add_counts_row(
    counts: &mut Counts,
    state: &str,
    leased: bool,
    n: i64,
    oldest_ms: Option<i64>,
    next_ms: Option<i64>,
) {
    add_count(counts, state, leased, n);
    if let Some(oldest) = oldest_ms.map(from_ms) {
        counts.oldest_pending_enqueued_at = Some(
            counts
                .oldest_pending_enqueued_at
                .map_or(oldest, |o| o.min(oldest)),
        );
    }
    if let Some(next) = next_ms.map(from_ms) {
        counts.next_due_at = Some(counts.next_due_at.map_or(next, |o| o.min(next)));
    }
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
        "resolved" => counts.resolved += n,
        _ => {}
    }
}

/// Whether the entry `found` (its state and resolution, if it exists) may be resolved.
pub(crate) fn check_resolvable(
    resolve: &Resolve,
    found: Option<(String, Option<String>)>,
) -> Result<(), OutboxError> {
    let request_id = || {
        liveapi::model::linkv::RequestId::new(resolve.request_id.as_str()).map_err(|e| {
            OutboxError::BadRecord {
                request_id: resolve.request_id.clone(),
                detail: e.to_string(),
            }
        })
    };
    match found {
        None => Err(OutboxError::NotFound {
            request_id: request_id()?,
        }),
        Some((state, Some(_))) if state == "reconcile" => Err(OutboxError::WrongState {
            request_id: request_id()?,
            state: "resolved",
            detail: "it was resolved already, and a resolution is never changed".to_owned(),
        }),
        Some((state, None)) if state == "reconcile" => Ok(()),
        Some((state, _)) => Err(OutboxError::WrongState {
            request_id: request_id()?,
            state: match state.as_str() {
                "pending" => "pending",
                "applied" => "applied",
                "refused" => "refused",
                _ => "unknown",
            },
            detail: "only an entry that needs reconciliation is resolved by a person".to_owned(),
        }),
    }
}
