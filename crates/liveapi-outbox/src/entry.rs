//! What the outbox holds: entries, their states, and the questions asked of them.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liveapi::model::linkv::{Coins, OpenId, PendingChange, RequestId};

/// One coin change in the outbox, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub(crate) seq: u64,
    pub(crate) change: PendingChange,
    pub(crate) enqueued_at: SystemTime,
    pub(crate) attempts: u32,
    pub(crate) last_error: Option<String>,
    /// The entry this one re-issues, after a person resolved it as not applied.
    pub(crate) reissue_of: Option<String>,
    pub(crate) state: State,
}

impl Entry {
    /// Its place in the order entries were enqueued (from 1, with gaps).
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The change, exactly as enqueued and as sent.
    #[must_use]
    pub fn change(&self) -> &PendingChange {
        &self.change
    }

    /// The change's request id, the entry's key.
    #[must_use]
    pub fn request_id(&self) -> &RequestId {
        self.change.request_id()
    }

    /// The user whose coins it changes.
    #[must_use]
    pub fn uid(&self) -> &OpenId {
        self.change.uid()
    }

    /// When it was enqueued (committed), by the enqueuing outbox's
    /// [clock](crate::OutboxBuilder::clock) (or the time given to `enqueue_in`).
    #[must_use]
    pub fn enqueued_at(&self) -> SystemTime {
        self.enqueued_at
    }

    /// How many times a dispatcher claimed it to send it. A claim whose worker died counts:
    /// its request may have reached the server. So does the claim that found the change past
    /// its resend window and settled it without sending.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// What the last attempt that did not settle it ran into, if one did not.
    #[must_use]
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The request id of the entry this one re-issues: a person resolved that one as not
    /// applied ([`Outbox::resolve`](crate::Outbox::resolve)) and enqueued the same change
    /// under this entry's new id. Its link back is [`Resolution::reissued_as`].
    #[must_use]
    pub fn reissue_of(&self) -> Option<&str> {
        self.reissue_of.as_deref()
    }

    /// Where it stands.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Whether it is settled: applied, refused, needing reconciliation or resolved. A settled
    /// entry is never sent again.
    #[must_use]
    pub fn is_settled(&self) -> bool {
        !matches!(self.state, State::Pending { .. })
    }
}

/// Where an entry stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Not settled: waiting to be sent, being sent, or to be sent again after an unknown
    /// outcome.
    Pending {
        /// It is not sent before this time (a retry's backoff); a new entry is due at once,
        /// whatever the dispatcher's clock says, and shows the Unix epoch here.
        next_attempt_at: SystemTime,
        /// The dispatcher sending it now, if one is.
        lease: Option<Lease>,
    },
    /// The server applied it.
    Applied {
        /// The balance after, when the call answers one (`orderSuccess` does, `changeGold`
        /// does not, nor does a success whose data could not be read: `docs/linkv.md#answers`).
        balance: Option<Coins>,
        /// When it was settled.
        settled_at: SystemTime,
    },
    /// The server refused it: nothing was applied, and sending it again would be refused
    /// again.
    Refused {
        /// Why.
        refusal: Refusal,
        /// When it was settled.
        settled_at: SystemTime,
    },
    /// Whether it was applied cannot be found out by sending it again: check the user's
    /// balance and the vendor's records, and make a new change if it was not applied.
    NeedsReconciliation {
        /// Why.
        reason: Reconciliation,
        /// When it was settled.
        settled_at: SystemTime,
    },
    /// It needed reconciliation, and a person decided what became of it
    /// ([`Outbox::resolve`](crate::Outbox::resolve)): nothing is sent for it any more.
    Resolved {
        /// Why it needed reconciliation.
        reason: Reconciliation,
        /// The decision.
        resolution: Resolution,
        /// When it was settled for reconciliation.
        settled_at: SystemTime,
    },
}

impl State {
    /// The name used on the command line and in logs: `pending`, `applied`, `refused`,
    /// `reconcile` or `resolved`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending { .. } => "pending",
            Self::Applied { .. } => "applied",
            Self::Refused { .. } => "refused",
            Self::NeedsReconciliation { .. } => "reconcile",
            Self::Resolved { .. } => "resolved",
        }
    }

    /// When it was settled, unless it is pending.
    #[must_use]
    pub fn settled_at(&self) -> Option<SystemTime> {
        match self {
            Self::Pending { .. } => None,
            Self::Applied { settled_at, .. }
            | Self::Refused { settled_at, .. }
            | Self::NeedsReconciliation { settled_at, .. }
            | Self::Resolved { settled_at, .. } => Some(*settled_at),
        }
    }
}

/// A person's decision on an entry that needed reconciliation: whether the change was
/// applied, after checking the user's balance and the vendor's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Decision {
    /// The server had applied it: nothing more to do.
    Applied,
    /// The server had not applied it; it may have been re-issued under a new request id.
    NotApplied,
}

impl Decision {
    /// Its name on the command line and in the store: `applied` or `not_applied`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::NotApplied => "not_applied",
        }
    }
}

/// What a person decided about an entry that needed reconciliation, when, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub(crate) decision: Decision,
    pub(crate) at: SystemTime,
    pub(crate) note: String,
    pub(crate) reissued_as: Option<String>,
}

impl Resolution {
    /// The decision.
    #[must_use]
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// When it was recorded, by the resolving outbox's [clock](crate::OutboxBuilder::clock).
    #[must_use]
    pub fn at(&self) -> SystemTime {
        self.at
    }

    /// The person's note: who decided, on what evidence.
    #[must_use]
    pub fn note(&self) -> &str {
        &self.note
    }

    /// The request id of the entry that re-issued the change, if it was re-issued.
    #[must_use]
    pub fn reissued_as(&self) -> Option<&str> {
        self.reissued_as.as_deref()
    }
}

/// A dispatcher's hold on an entry it is sending. Another dispatcher takes the entry over
/// once the lease has expired (its worker died, say), and sends it again with the same request
/// id, which the server applies at most once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub(crate) owner: String,
    pub(crate) until: SystemTime,
}

impl Lease {
    /// The dispatcher holding it ([`OutboxBuilder::owner`](crate::OutboxBuilder::owner)).
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// When it expires, by the clock of the outbox that claimed it.
    #[must_use]
    pub fn until(&self) -> SystemTime {
        self.until
    }
}

/// Why the server refused a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub(crate) kind: RefusalKind,
    pub(crate) message: String,
}

impl Refusal {
    /// The kind of refusal.
    #[must_use]
    pub fn kind(&self) -> RefusalKind {
        self.kind
    }

    /// The server's message (or this crate's, for a change it refused itself).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// The kinds of [`Refusal`]: the LinkV answers that settle a change as not applied
/// (`liveapi::model::ApiError`; what each answer means: `docs/answers.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// Status 400 (参数错误, `docs/linkv.md#errors`): a parameter or the ledger refused the
    /// change (unknown user, not enough coins, order already completed…).
    BadParameter,
    /// A status `docs/linkv.md#errors` does not describe, neither a server error nor rate
    /// limiting.
    Rejected {
        /// The server's `status`.
        status: i64,
    },
    /// The stored change breaks the limits of `docs/linkv.md#validation-rules`; it was never
    /// sent.
    Invalid,
}

impl RefusalKind {
    /// The name used in the store and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::BadParameter => "bad_parameter",
            Self::Rejected { .. } => "rejected",
            Self::Invalid => "invalid",
        }
    }
}

impl fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected { status } => write!(f, "rejected (status {status})"),
            other => f.write_str(other.name()),
        }
    }
}

/// Why a change needs reconciling by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconciliation {
    pub(crate) kind: ReconcileKind,
    pub(crate) message: String,
}

impl Reconciliation {
    /// The kind.
    #[must_use]
    pub fn kind(&self) -> ReconcileKind {
        self.kind
    }

    /// What the client said.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Reconciliation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

/// The kinds of [`Reconciliation`], as `liveapi::Error::needs_reconciliation` tells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReconcileKind {
    /// The change outlived the client's resend window before it was settled: the server may
    /// have forgotten its request id, so sending it again could apply it twice
    /// (`liveapi::ErrorKind::ResendWindowPassed`).
    ResendWindowPassed,
}

impl ReconcileKind {
    /// The name used in the store and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::ResendWindowPassed => "resend_window_passed",
        }
    }
}

/// Which entries a [`Query`] selects by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StateFilter {
    /// Every entry.
    #[default]
    Any,
    /// Entries not settled yet.
    Pending,
    /// Entries applied, refused or needing reconciliation.
    Settled,
    /// Applied entries.
    Applied,
    /// Refused entries.
    Refused,
    /// Entries needing reconciliation (not resolved yet).
    NeedsReconciliation,
    /// Entries a person resolved.
    Resolved,
}

impl StateFilter {
    /// Every filter, by its name.
    pub const ALL: [Self; 7] = [
        Self::Any,
        Self::Pending,
        Self::Settled,
        Self::Applied,
        Self::Refused,
        Self::NeedsReconciliation,
        Self::Resolved,
    ];

    /// Its name on the command line: `any`, `pending`, `settled`, `applied`, `refused`,
    /// `reconcile`, `resolved`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Pending => "pending",
            Self::Settled => "settled",
            Self::Applied => "applied",
            Self::Refused => "refused",
            Self::NeedsReconciliation => "reconcile",
            Self::Resolved => "resolved",
        }
    }

    /// The SQL condition on the `state` column; a fixed text, never built from input.
    pub(crate) fn condition(self) -> &'static str {
        match self {
            Self::Any => "TRUE",
            Self::Pending => "state = 'pending'",
            Self::Settled => "state <> 'pending'",
            Self::Applied => "state = 'applied'",
            Self::Refused => "state = 'refused'",
            Self::NeedsReconciliation => "state = 'reconcile' AND resolution IS NULL",
            Self::Resolved => "state = 'reconcile' AND resolution IS NOT NULL",
        }
    }
}

impl std::str::FromStr for StateFilter {
    type Err = String;

    /// Parses [`StateFilter::name`].
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|f| f.name()).collect();
                format!("`{s}` is not one of {}", names.join(", "))
            })
    }
}

/// Which entries [`Outbox::list`](crate::Outbox::list) answers: by state and user, in the
/// order they were enqueued, a page at a time.
///
/// ```
/// use liveapi_outbox::{Query, StateFilter};
/// use liveapi::model::linkv::OpenId;
///
/// let query = Query::new()
///     .state(StateFilter::NeedsReconciliation)
///     .open_id(OpenId::new("42")?)
///     .limit(50);
/// // The next page starts after the last entry of this one: `query.after(last.seq())`.
/// # Ok::<(), liveapi::model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub(crate) state: StateFilter,
    pub(crate) open_id: Option<OpenId>,
    pub(crate) after: u64,
    pub(crate) limit: u32,
}

impl Default for Query {
    fn default() -> Self {
        Self::new()
    }
}

impl Query {
    /// The largest page.
    pub const MAX_LIMIT: u32 = 10_000;

    /// Every entry, 100 at a time.
    #[must_use]
    pub fn new() -> Self {
        Self {
            state: StateFilter::Any,
            open_id: None,
            after: 0,
            limit: 100,
        }
    }

    /// Only entries in `state`.
    #[must_use]
    pub fn state(mut self, state: StateFilter) -> Self {
        self.state = state;
        self
    }

    /// Only entries changing the coins of the user whose open id is `open_id` (LinkV's
    /// `uid`).
    #[must_use]
    pub fn open_id(mut self, open_id: OpenId) -> Self {
        self.open_id = Some(open_id);
        self
    }

    /// Only entries enqueued after the one whose [`seq`](Entry::seq) is `seq`.
    #[must_use]
    pub fn after(mut self, seq: u64) -> Self {
        self.after = seq;
        self
    }

    /// At most `limit` entries (1 to [`MAX_LIMIT`](Self::MAX_LIMIT); values outside are
    /// brought inside).
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, Self::MAX_LIMIT);
        self
    }
}

/// How many entries the outbox holds in each state, the oldest pending one and the next one
/// due: the gauges to export as metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Counts {
    /// Entries not settled, in flight or not.
    pub pending: u64,
    /// Of the pending entries, those a dispatcher holds a live lease on: being sent now.
    pub in_flight: u64,
    /// Applied entries.
    pub applied: u64,
    /// Refused entries.
    pub refused: u64,
    /// Entries needing reconciliation, not resolved yet: each needs a person.
    pub needs_reconciliation: u64,
    /// Entries a person resolved.
    pub resolved: u64,
    /// When the oldest pending entry was enqueued, if one is pending.
    pub oldest_pending_enqueued_at: Option<SystemTime>,
    /// When the next pending entry comes due, if one is pending: its next attempt, or the end
    /// of the lease a dispatcher holds on it (as stored: a time scheduled by a clock ahead of
    /// the reader's is brought back by the next claim).
    pub next_due_at: Option<SystemTime>,
}

impl Counts {
    /// Every entry.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.pending + self.applied + self.refused + self.needs_reconciliation + self.resolved
    }

    /// How long the oldest pending entry has waited at `now`, if one is pending.
    #[must_use]
    pub fn oldest_pending_age(&self, now: SystemTime) -> Option<Duration> {
        self.oldest_pending_enqueued_at
            .map(|at| now.duration_since(at).unwrap_or_default())
    }
}

/// Whether [`Outbox::enqueue`](crate::Outbox::enqueue) added the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Enqueued {
    /// It is new, and now durable.
    Added,
    /// The same change (the same request id and parameters) was enqueued before: nothing
    /// changed, whatever state it is in.
    AlreadyQueued,
}

/// Milliseconds since the Unix epoch, the stores' time: 0 before it, saturated far after.
pub(crate) fn to_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The time of a stored number of milliseconds (negative ones as the epoch).
pub(crate) fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
