//! What the outbox tells the `metrics` facade (names in `docs/metrics.md#outbox`): gauges
//! of the entries by state and of the oldest pending entry's age, set from the store's
//! counts at most once per poll, and a counter of what became of each send, counted where
//! the dispatcher records it. Nothing is recorded until the application installs a recorder.

use std::time::SystemTime;

use metrics::{Unit, counter, describe_counter, describe_gauge, gauge};

use crate::entry::Counts;
use crate::report::{Outcome, Recorded, Sent};

/// The gauge of entries, by `state`.
pub(crate) const ENTRIES: &str = "liveapi_outbox_entries";
/// The gauge of the oldest pending entry's age.
pub(crate) const OLDEST_PENDING_AGE: &str = "liveapi_outbox_oldest_pending_age_seconds";
/// The counter of sends, by `outcome`.
pub(crate) const SETTLEMENTS: &str = "liveapi_outbox_settlements_total";

/// Describes the outbox's metrics to the installed recorder (their help and unit), as
/// `liveapi::request::metrics::describe` does the calls'. Call it once after installing one.
pub fn describe() {
    describe_gauge!(
        ENTRIES,
        Unit::Count,
        "Entries in the outbox by state (pending, in_flight, applied, refused, reconcile, resolved)"
    );
    describe_gauge!(
        OLDEST_PENDING_AGE,
        Unit::Seconds,
        "How long the oldest pending entry has waited since it was enqueued (0 when none)"
    );
    describe_counter!(
        SETTLEMENTS,
        Unit::Count,
        "Sends of outbox entries by what became of them"
    );
}

/// Sets the gauges from `counts`, read at `now`.
pub(crate) fn gauges(counts: &Counts, now: SystemTime) {
    for (state, n) in [
        ("pending", counts.pending),
        ("in_flight", counts.in_flight),
        ("applied", counts.applied),
        ("refused", counts.refused),
        ("reconcile", counts.needs_reconciliation),
        ("resolved", counts.resolved),
    ] {
        #[allow(clippy::cast_precision_loss)] // counts of entries stay far below 2^52
        gauge!(ENTRIES, "state" => state).set(n as f64);
    }
    let age = counts
        .oldest_pending_age(now)
        .map_or(0.0, |age| age.as_secs_f64());
    gauge!(OLDEST_PENDING_AGE).set(age);
}

/// Counts what became of one send: `applied`, `refused`, `reconcile`, `retry`, or
/// `lease_lost` and `unrecorded` when its outcome was not recorded.
pub(crate) fn settlement(sent: &Sent) {
    let outcome = match (&sent.recorded, &sent.outcome) {
        (Recorded::LeaseLost, _) => "lease_lost",
        (Recorded::Failed(_), _) => "unrecorded",
        (Recorded::Yes, Outcome::Applied { .. }) => "applied",
        (Recorded::Yes, Outcome::Refused(_)) => "refused",
        (Recorded::Yes, Outcome::NeedsReconciliation(_)) => "reconcile",
        (Recorded::Yes, Outcome::Retry { .. }) => "retry",
    };
    counter!(SETTLEMENTS, "outcome" => outcome).increment(1);
}

/// Counts a person's resolution: `resolved_applied` or `resolved_not_applied`.
pub(crate) fn resolution(decision: crate::entry::Decision) {
    let outcome = match decision {
        crate::entry::Decision::Applied => "resolved_applied",
        crate::entry::Decision::NotApplied => "resolved_not_applied",
    };
    counter!(SETTLEMENTS, "outcome" => outcome).increment(1);
}
