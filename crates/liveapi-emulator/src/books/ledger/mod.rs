//! The LinkV ledger of one app: users, coin lots, completed orders, idempotency records and
//! the journal of applied changes. Pure bookkeeping: no HTTP, no clock of its own.
//!
//! Every change is checked first and applied only if it passes, by the same code that
//! replays it from the state store's log (`record`), so a replayed ledger is the ledger that
//! was live.

mod changes;
mod idempotency;
mod journal;
mod listing;
mod snapshot;
#[cfg(test)]
mod tests;
mod users;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use liveapi_model::linkv::{Coins, ThGetToken};

pub use changes::{AppliedChange, ChangeKind};
pub(crate) use changes::{Change, ChangeOutcome, Delta, Event, TokenGrant};
pub(crate) use listing::UserPage;
pub(crate) use snapshot::LedgerSnapshot;

use crate::rng;
use idempotency::{Idempotency, Recorded};
use journal::Journal;
use users::{Profile, User};

/// Why the ledger refused something. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LedgerError {
    UnknownUid,
    RegistrationIncomplete,
    InsufficientBalance,
    RequestIdReused,
    OrderCompleted,
    ExpirationPast,
    Overflow,
}

/// How long and how many idempotency records are kept, and how much journal.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retention {
    pub(crate) idempotency_window_ms: u64,
    pub(crate) idempotency_capacity: usize,
    pub(crate) journal_capacity: usize,
}

/// One app's ledger.
#[derive(Debug)]
pub(crate) struct Ledger {
    app_key: String,
    token_seed: u64,
    retention: Retention,
    users: HashMap<String, User>,
    by_user_id: HashMap<String, String>,
    /// Completed orders: `order_id` → the `request_id` that completed it.
    orders: HashMap<String, String>,
    idempotency: Idempotency,
    journal: Journal,
    tokens_issued: u64,
    /// The state store's sequence number of the last event logged for this ledger: replay
    /// skips events up to it, which a snapshot taken after them already holds.
    log_seq: u64,
}

impl Ledger {
    pub(crate) fn new(app_key: &str, seed: u64, retention: Retention) -> Self {
        Self {
            app_key: app_key.to_owned(),
            token_seed: seed ^ rng::fnv1a(&[app_key]),
            retention,
            users: HashMap::new(),
            by_user_id: HashMap::new(),
            orders: HashMap::new(),
            idempotency: Idempotency::default(),
            journal: Journal::default(),
            tokens_issued: 0,
            log_seq: 0,
        }
    }

    /// A LinkV-like open id for `user_id`: 19 digits, derived from the app and the user so that
    /// the same user gets the same id in every emulator.
    fn derive_open_id(&self, user_id: &str) -> String {
        let mut attempt = 0u64;
        loop {
            let salt = attempt.to_string();
            let h = rng::splitmix64(rng::fnv1a(&[&self.app_key, user_id, &salt]));
            let id = (1_000_000_000_000_000_000 + h % 9_000_000_000_000_000_000).to_string();
            if !self.users.contains_key(&id) {
                return id;
            }
            attempt += 1;
        }
    }

    fn next_token(&mut self) -> String {
        let n = self.tokens_issued;
        self.tokens_issued += 1;
        format!(
            "{:016x}{:016x}{:016x}",
            rng::draw(self.token_seed, 10, n),
            rng::draw(self.token_seed, 11, n),
            rng::draw(self.token_seed, 12, n)
        )
    }

    /// Registers or logs in a user and issues a fresh token.
    pub(crate) fn get_token(&mut self, req: &ThGetToken) -> Result<TokenGrant, LedgerError> {
        let user_id = req.user_id().as_str();
        let open_id = match self.by_user_id.get(user_id) {
            Some(open_id) => open_id.clone(),
            None => {
                if req.name().is_none() || req.portrait_uri().is_none() {
                    return Err(LedgerError::RegistrationIncomplete);
                }
                let open_id = self.derive_open_id(user_id);
                self.by_user_id.insert(user_id.to_owned(), open_id.clone());
                self.users.insert(
                    open_id.clone(),
                    User {
                        user_id: user_id.to_owned(),
                        profile: Profile::default(),
                        lots: BTreeMap::new(),
                    },
                );
                open_id
            }
        };
        let (aid, profile) = match self.users.get_mut(&open_id) {
            Some(user) => {
                user.profile.update(req);
                (user.profile.aid.clone(), user.profile.clone())
            }
            None => (None, Profile::default()),
        };
        let token = self.next_token();
        Ok(TokenGrant {
            token,
            event: Event::User {
                open_id: open_id.clone(),
                user_id: user_id.to_owned(),
                profile,
                tokens_issued: self.tokens_issued,
            },
            open_id,
            aid,
        })
    }

    /// The live balance of a user.
    pub(crate) fn balance(&self, open_id: &str, now_secs: u64) -> Result<u64, LedgerError> {
        self.users
            .get(open_id)
            .map(|u| u.balance(now_secs))
            .ok_or(LedgerError::UnknownUid)
    }

    /// Every user's live balance, by open id.
    pub(crate) fn balances(&self, now_secs: u64) -> BTreeMap<String, u64> {
        self.users
            .iter()
            .map(|(id, u)| (id.clone(), u.balance(now_secs)))
            .collect()
    }

    /// The open id of a registered `user_id`.
    pub(crate) fn open_id(&self, user_id: &str) -> Option<String> {
        self.by_user_id.get(user_id).cloned()
    }

    fn evict(&mut self, now_ms: u64) {
        self.idempotency.evict(
            now_ms,
            self.retention.idempotency_window_ms,
            self.retention.idempotency_capacity,
        );
    }

    /// Applies a coin change at most once per `request_id`.
    pub(crate) fn change(
        &mut self,
        change: &Change<'_>,
        now_ms: u64,
        seq: &AtomicU64,
    ) -> Result<ChangeOutcome, LedgerError> {
        self.evict(now_ms);
        if let Some(recorded) = self.idempotency.get(change.request_id) {
            if recorded.fingerprint != change.fingerprint {
                return Err(LedgerError::RequestIdReused);
            }
            let balance_after = recorded.balance_after;
            self.count_repeat(change.request_id);
            return Ok(ChangeOutcome {
                balance_after,
                replayed: true,
                event: Event::Repeat {
                    request_id: change.request_id.to_owned(),
                },
            });
        }
        let now_secs = now_ms / 1_000;
        let user = self.users.get(change.uid).ok_or(LedgerError::UnknownUid)?;
        if let Some(order_id) = change.order_id
            && self.orders.contains_key(order_id)
        {
            return Err(LedgerError::OrderCompleted);
        }
        let balance = user.balance(now_secs);
        // Checked here, applied by `record`, which replay runs too.
        let balance_after = match change.delta {
            Delta::Add { expires_at } => {
                if expires_at <= now_secs {
                    return Err(LedgerError::ExpirationPast);
                }
                balance
                    .checked_add(change.value)
                    .filter(|b| *b <= Coins::MAX.get())
                    .ok_or(LedgerError::Overflow)?
            }
            Delta::Remove { .. } => balance
                .checked_sub(change.value)
                .ok_or(LedgerError::InsufficientBalance)?,
        };
        let applied = AppliedChange {
            seq: seq.fetch_add(1, Ordering::Relaxed) + 1,
            app_key: self.app_key.clone(),
            endpoint: change.endpoint.to_owned(),
            request_id: change.request_id.to_owned(),
            uid: change.uid.to_owned(),
            change: change.delta.kind(),
            value: change.value,
            expiration: change.delta.expiration(),
            order_id: change.order_id.map(str::to_owned),
            balance_after,
            at_ms: now_ms,
            repeats: 0,
        };
        self.record(&applied, &change.fingerprint);
        Ok(ChangeOutcome {
            balance_after,
            replayed: false,
            event: Event::Applied {
                change: applied,
                fingerprint: change.fingerprint.clone(),
            },
        })
    }

    /// Applies a checked change: moves the coins, completes the order, remembers the
    /// `request_id` and journals it. Live changes and replayed ones both come through here.
    fn record(&mut self, applied: &AppliedChange, fingerprint: &str) {
        let now_secs = applied.at_ms / 1_000;
        if let Some(user) = self.users.get_mut(&applied.uid) {
            match (applied.change, applied.expiration) {
                (ChangeKind::Add, Some(expires_at)) => {
                    let lot = user.lots.entry(expires_at).or_insert(0);
                    *lot = lot.saturating_add(applied.value);
                }
                // A credit always carries its expiry (`Delta::Add`); none means no lot.
                (ChangeKind::Add, None) => {}
                (ChangeKind::Remove, _) => user.take(now_secs, applied.value),
            }
        }
        if let Some(order_id) = &applied.order_id {
            self.orders
                .insert(order_id.clone(), applied.request_id.clone());
        }
        self.idempotency.remember(
            applied.request_id.clone(),
            Recorded {
                fingerprint: fingerprint.to_owned(),
                balance_after: applied.balance_after,
                at_ms: applied.at_ms,
                seq: applied.seq,
            },
        );
        self.journal
            .push(applied.clone(), self.retention.journal_capacity);
    }

    /// Counts a repeat on the journal entry of the `request_id`'s first application, if the
    /// journal still holds it.
    fn count_repeat(&mut self, request_id: &str) {
        let Some(seq) = self.idempotency.get(request_id).map(|r| r.seq) else {
            return;
        };
        self.journal.count_repeat(seq);
    }

    /// Applies a logged event again, at start. Events up to the ledger's `log_seq` are
    /// already in the snapshot it was restored from and are skipped.
    pub(crate) fn apply(&mut self, log_seq: u64, event: Event) {
        if log_seq <= self.log_seq {
            return;
        }
        self.log_seq = log_seq;
        match event {
            Event::User {
                open_id,
                user_id,
                profile,
                tokens_issued,
            } => {
                self.by_user_id.insert(user_id.clone(), open_id.clone());
                let user = self.users.entry(open_id).or_insert_with(|| User {
                    user_id,
                    profile: Profile::default(),
                    lots: BTreeMap::new(),
                });
                user.profile = profile;
                self.tokens_issued = tokens_issued;
            }
            Event::Applied {
                change,
                fingerprint,
            } => {
                self.evict(change.at_ms);
                self.record(&change, &fingerprint);
            }
            Event::Repeat { request_id } => self.count_repeat(&request_id),
            Event::Reset => {
                self.reset();
            }
        }
    }

    /// Empties the books, as a fresh emulator's: no users, coins, orders, idempotency records
    /// or journal, and tokens drawn from the start of the sequence again. Returns the event
    /// for the state store.
    pub(crate) fn reset(&mut self) -> Event {
        self.users.clear();
        self.by_user_id.clear();
        self.orders.clear();
        self.idempotency = Idempotency::default();
        self.journal = Journal::default();
        self.tokens_issued = 0;
        Event::Reset
    }

    /// The state store's sequence number of the last event logged for this ledger.
    pub(crate) fn log_seq(&self) -> u64 {
        self.log_seq
    }

    /// Notes the state store's sequence number of the event just logged for this ledger.
    pub(crate) fn set_log_seq(&mut self, log_seq: u64) {
        self.log_seq = log_seq;
    }

    /// The journal, oldest first (`.rev()` for newest first).
    pub(crate) fn journal(&self) -> impl DoubleEndedIterator<Item = &AppliedChange> {
        self.journal.iter()
    }

    /// How many changes were ever applied, including those the bounded journal has dropped.
    pub(crate) fn applied_total(&self) -> u64 {
        self.journal.applied_total()
    }

    /// The highest journal sequence number, so a restored emulator continues after it.
    pub(crate) fn last_seq(&self) -> u64 {
        self.journal.last_seq()
    }
}
