//! Coin changes: what a request asks of the ledger, what it answers, the journal entry of an
//! applied change, and the events the state store logs to replay them.

use liveapi_model::linkv::ChangeType;
use serde::{Deserialize, Serialize};

use super::users::Profile;

/// Whether a change added or removed coins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// `type=1`: coins were credited.
    Add,
    /// `type=2`: coins were taken away.
    Remove,
}

impl From<ChangeType> for ChangeKind {
    fn from(t: ChangeType) -> Self {
        match t {
            ChangeType::Add => Self::Add,
            ChangeType::Remove => Self::Remove,
        }
    }
}

/// One coin change the emulator applied: an entry of the journal.
///
/// Every applied `orderSuccess` or `changeGold` appears exactly once: the entry is the
/// `request_id`'s first (and only) application. A repeat answered from the idempotency store
/// adds no entry; it counts in the entry's [`repeats`](Self::repeats) instead, across restarts
/// of an emulator with a state file. A test that wants to prove that nothing was applied twice
/// checks that no `request_id` appears twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppliedChange {
    /// Position in the order changes were applied, across all apps, from 1.
    pub seq: u64,
    /// The app (`live_app_key`).
    pub app_key: String,
    /// `orderSuccess` or `changeGold`.
    pub endpoint: String,
    /// The idempotency key.
    pub request_id: String,
    /// The user's open id.
    pub uid: String,
    /// Added or removed.
    pub change: ChangeKind,
    /// How many coins.
    pub value: u64,
    /// The `expriation` sent (unix seconds); only credits use it, and a removal may come
    /// without one (as the official Go and Python SDKs send it).
    #[serde(default)]
    pub expiration: Option<u64>,
    /// The order, for `orderSuccess`.
    pub order_id: Option<String>,
    /// The user's balance right after the change.
    pub balance_after: u64,
    /// When it was applied, in the emulator's unix milliseconds.
    pub at_ms: u64,
    /// How many times a repeat of this `request_id` was answered from the idempotency store
    /// without being applied again.
    #[serde(default)]
    pub repeats: u64,
}

/// What a successful `thGetToken` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenGrant {
    pub(crate) open_id: String,
    pub(crate) token: String,
    pub(crate) aid: Option<String>,
    /// What the state store logs.
    pub(crate) event: Event,
}

/// What a change does: a credit always has its expiry; a removal may carry one, unused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delta {
    Add { expires_at: u64 },
    Remove { expiration: Option<u64> },
}

impl Delta {
    pub(super) fn kind(self) -> ChangeKind {
        match self {
            Self::Add { .. } => ChangeKind::Add,
            Self::Remove { .. } => ChangeKind::Remove,
        }
    }

    /// The `expriation` the request carried.
    pub(super) fn expiration(self) -> Option<u64> {
        match self {
            Self::Add { expires_at } => Some(expires_at),
            Self::Remove { expiration } => expiration,
        }
    }
}

/// A coin change as the ledger needs it, read from a validated request.
#[derive(Clone, Debug)]
pub(crate) struct Change<'a> {
    pub(crate) endpoint: &'static str,
    pub(crate) request_id: &'a str,
    pub(crate) uid: &'a str,
    pub(crate) delta: Delta,
    pub(crate) value: u64,
    pub(crate) order_id: Option<&'a str>,
    /// The call and its business parameters, normalised: what a repeat must match.
    pub(crate) fingerprint: String,
}

/// What a successful change answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChangeOutcome {
    pub(crate) balance_after: u64,
    /// Answered from the idempotency store; no coins moved (only the repeat was counted).
    pub(crate) replayed: bool,
    /// What the state store logs.
    pub(crate) event: Event,
}

/// A change to a ledger as the state store logs it. The events of a ledger, applied in the
/// order they happened to the snapshot they followed ([`Ledger::apply`]), give the same
/// ledger: they carry results (the profile after, the change with its balance), not requests
/// to judge again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Event {
    /// `thGetToken`: a user registered or logged in (a token was issued).
    User {
        open_id: String,
        user_id: String,
        profile: Profile,
        tokens_issued: u64,
    },
    /// A coin change was applied, with its idempotency record.
    Applied {
        change: AppliedChange,
        fingerprint: String,
    },
    /// A repeat was answered from the idempotency store.
    Repeat { request_id: String },
    /// The books were emptied (`POST /_emulator/reset`): no users, coins, orders, idempotency
    /// records or journal.
    Reset,
}
