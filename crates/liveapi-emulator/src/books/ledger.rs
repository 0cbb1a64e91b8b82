//! The LinkV ledger of one app: users, coin lots, completed orders, idempotency records and
//! the journal of applied changes. Pure bookkeeping: no HTTP, no clock of its own.
//!
//! Coins live in lots, one per expiry second (credits that expire in the same second are
//! merged). A lot counts while `now < expires_at`. Removals take from the soonest-expiring
//! lots that still count. Expired lots are kept, not deleted, so that moving the emulator's
//! clock back brings them back, as it would on a server whose clock was wrong.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

use liveapi_model::linkv::{ChangeType, Coins, ThGetToken};
use serde::{Deserialize, Serialize};

use crate::rng;

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

/// A user's profile as given to `thGetToken`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(
        rename = "portraitUri",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    portrait_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(
        rename = "countryCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    birthday: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sex: Option<String>,
}

impl Profile {
    /// Overwrites the fields the request gives, keeps the others.
    fn update(&mut self, req: &ThGetToken) {
        fn set<T: ToString>(slot: &mut Option<String>, value: Option<T>) {
            if let Some(v) = value {
                *slot = Some(v.to_string());
            }
        }
        set(&mut self.aid, req.aid());
        set(&mut self.name, req.name());
        set(&mut self.portrait_uri, req.portrait_uri());
        set(&mut self.email, req.email());
        set(&mut self.country_code, req.country_code());
        set(&mut self.birthday, req.birthday());
        set(&mut self.sex, req.sex().map(|s| s.as_str()));
    }
}

#[derive(Clone, Debug)]
struct User {
    user_id: String,
    profile: Profile,
    /// Coins by expiry time in unix seconds.
    lots: BTreeMap<u64, u64>,
}

impl User {
    fn live_lots(&self, now_secs: u64) -> impl Iterator<Item = (&u64, &u64)> {
        self.lots
            .range((Bound::Excluded(now_secs), Bound::Unbounded))
    }

    fn balance(&self, now_secs: u64) -> u64 {
        self.live_lots(now_secs)
            .fold(0u64, |sum, (_, coins)| sum.saturating_add(*coins))
    }

    /// Takes `value` coins from the soonest-expiring live lots; the caller checked the balance.
    fn take(&mut self, now_secs: u64, mut value: u64) {
        let mut emptied = Vec::new();
        for (expires, coins) in self
            .lots
            .range_mut((Bound::Excluded(now_secs), Bound::Unbounded))
        {
            if value == 0 {
                break;
            }
            let taken = value.min(*coins);
            *coins -= taken;
            value -= taken;
            if *coins == 0 {
                emptied.push(*expires);
            }
        }
        for expires in emptied {
            self.lots.remove(&expires);
        }
    }
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
    fn kind(self) -> ChangeKind {
        match self {
            Self::Add { .. } => ChangeKind::Add,
            Self::Remove { .. } => ChangeKind::Remove,
        }
    }

    /// The `expriation` the request carried.
    fn expiration(self) -> Option<u64> {
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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Recorded {
    fingerprint: String,
    balance_after: u64,
    at_ms: u64,
    /// The journal entry of the first application, to count repeats on.
    #[serde(default)]
    seq: u64,
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
    idempotency: HashMap<String, Recorded>,
    /// Request ids in the order they were recorded, for eviction.
    idempotency_order: VecDeque<(u64, String)>,
    journal: VecDeque<AppliedChange>,
    applied_total: u64,
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
            idempotency: HashMap::new(),
            idempotency_order: VecDeque::new(),
            journal: VecDeque::new(),
            applied_total: 0,
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
        let window = self.retention.idempotency_window_ms;
        let capacity = self.retention.idempotency_capacity;
        while let Some((at, _)) = self.idempotency_order.front() {
            let too_old = now_ms.saturating_sub(*at) >= window;
            if !too_old && self.idempotency_order.len() <= capacity {
                break;
            }
            if let Some((at, id)) = self.idempotency_order.pop_front() {
                // Only the record this queue entry was made for; the id may have been
                // recorded again since.
                if self.idempotency.get(&id).is_some_and(|r| r.at_ms == at) {
                    self.idempotency.remove(&id);
                }
            }
        }
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
        self.idempotency.insert(
            applied.request_id.clone(),
            Recorded {
                fingerprint: fingerprint.to_owned(),
                balance_after: applied.balance_after,
                at_ms: applied.at_ms,
                seq: applied.seq,
            },
        );
        self.idempotency_order
            .push_back((applied.at_ms, applied.request_id.clone()));
        self.applied_total += 1;
        self.journal.push_back(applied.clone());
        while self.journal.len() > self.retention.journal_capacity {
            self.journal.pop_front();
        }
    }

    /// Counts a repeat on the journal entry of the `request_id`'s first application, if the
    /// journal still holds it.
    fn count_repeat(&mut self, request_id: &str) {
        let Some(seq) = self.idempotency.get(request_id).map(|r| r.seq) else {
            return;
        };
        // Journal entries are in increasing `seq` order.
        if let Ok(i) = self.journal.binary_search_by_key(&seq, |c| c.seq)
            && let Some(entry) = self.journal.get_mut(i)
        {
            entry.repeats += 1;
        }
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
        }
    }

    /// The state store's sequence number of the last event logged for this ledger.
    pub(crate) fn log_seq(&self) -> u64 {
        self.log_seq
    }

    /// Notes the state store's sequence number of the event just logged for this ledger.
    pub(crate) fn set_log_seq(&mut self, log_seq: u64) {
        self.log_seq = log_seq;
    }

    /// The journal, oldest first.
    pub(crate) fn journal(&self) -> impl Iterator<Item = &AppliedChange> {
        self.journal.iter()
    }

    /// How many changes were ever applied, including those the bounded journal has dropped.
    pub(crate) fn applied_total(&self) -> u64 {
        self.applied_total
    }

    /// The highest journal sequence number, so a restored emulator continues after it.
    pub(crate) fn last_seq(&self) -> u64 {
        self.journal.back().map_or(0, |c| c.seq)
    }

    pub(crate) fn snapshot(&self, now_secs: u64) -> LedgerSnapshot {
        let mut users: Vec<UserSnapshot> = self
            .users
            .iter()
            .map(|(open_id, u)| UserSnapshot {
                open_id: open_id.clone(),
                user_id: u.user_id.clone(),
                profile: u.profile.clone(),
                lots: u
                    .lots
                    .iter()
                    .map(|(&expires_at, &coins)| LotSnapshot {
                        expires_at,
                        coins,
                        expired: expires_at <= now_secs,
                    })
                    .collect(),
                balance: u.balance(now_secs),
            })
            .collect();
        users.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        LedgerSnapshot {
            users,
            orders: self
                .orders
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            idempotency: self
                .idempotency_order
                .iter()
                .filter_map(|(at, id)| {
                    let r = self.idempotency.get(id).filter(|r| r.at_ms == *at)?;
                    Some(IdempotencySnapshot {
                        request_id: id.clone(),
                        record: r.clone(),
                    })
                })
                .collect(),
            journal: self.journal.iter().cloned().collect(),
            applied_total: self.applied_total,
            tokens_issued: self.tokens_issued,
            log_seq: self.log_seq,
        }
    }

    /// A ledger with the contents of a snapshot (from a state file).
    pub(crate) fn restore(
        app_key: &str,
        seed: u64,
        retention: Retention,
        snapshot: LedgerSnapshot,
    ) -> Self {
        let mut ledger = Self::new(app_key, seed, retention);
        for user in snapshot.users {
            ledger
                .by_user_id
                .insert(user.user_id.clone(), user.open_id.clone());
            ledger.users.insert(
                user.open_id,
                User {
                    user_id: user.user_id,
                    profile: user.profile,
                    lots: user
                        .lots
                        .into_iter()
                        .filter(|l| l.coins > 0)
                        .map(|l| (l.expires_at, l.coins))
                        .collect(),
                },
            );
        }
        ledger.orders = snapshot.orders.into_iter().collect();
        for entry in snapshot.idempotency {
            ledger
                .idempotency_order
                .push_back((entry.record.at_ms, entry.request_id.clone()));
            ledger.idempotency.insert(entry.request_id, entry.record);
        }
        ledger.journal = snapshot.journal.into();
        ledger.applied_total = snapshot.applied_total;
        ledger.tokens_issued = snapshot.tokens_issued;
        ledger.log_seq = snapshot.log_seq;
        ledger
    }
}

/// A ledger as the state file and the inspection API write it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LedgerSnapshot {
    #[serde(default)]
    users: Vec<UserSnapshot>,
    #[serde(default)]
    orders: BTreeMap<String, String>,
    #[serde(default)]
    idempotency: Vec<IdempotencySnapshot>,
    #[serde(default)]
    journal: Vec<AppliedChange>,
    #[serde(default)]
    applied_total: u64,
    #[serde(default)]
    tokens_issued: u64,
    /// The state store's sequence number of the last event the snapshot holds.
    #[serde(default)]
    log_seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct UserSnapshot {
    #[serde(rename = "openId")]
    open_id: String,
    #[serde(rename = "userId")]
    user_id: String,
    #[serde(flatten)]
    profile: Profile,
    #[serde(default)]
    lots: Vec<LotSnapshot>,
    /// Written for people reading the file; recomputed from the lots when read.
    #[serde(default, skip_deserializing)]
    balance: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct LotSnapshot {
    expires_at: u64,
    coins: u64,
    #[serde(default, skip_deserializing)]
    expired: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct IdempotencySnapshot {
    request_id: String,
    #[serde(flatten)]
    record: Recorded,
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveapi_model::linkv::{PortraitUri, UserId, UserName};

    const RETENTION: Retention = Retention {
        idempotency_window_ms: 86_400_000,
        idempotency_capacity: 1_000,
        journal_capacity: 1_000,
    };
    const NOW_MS: u64 = 1_700_000_000_000;
    const NOW: u64 = NOW_MS / 1_000;

    fn register(ledger: &mut Ledger, user: &str) -> String {
        let req = ThGetToken::register(
            UserId::new(user).unwrap(),
            UserName::new("Ann").unwrap(),
            PortraitUri::new("https://x/a.png").unwrap(),
        );
        ledger.get_token(&req).unwrap().open_id
    }

    #[test]
    fn open_ids_are_19_digits_spread_by_user_and_a_taken_one_is_skipped() {
        let mut ledger = Ledger::new("app", 1, RETENTION);
        let ids: std::collections::HashSet<String> = (0..10)
            .map(|n| ledger.derive_open_id(&format!("user{n}")))
            .collect();
        assert_eq!(ids.len(), 10);
        assert!(
            ids.iter()
                .all(|id| id.len() == 19 && id.bytes().all(|b| b.is_ascii_digit()))
        );
        let first = ledger.derive_open_id("ann");
        assert_eq!(register(&mut ledger, "ann"), first);
        // The id is taken now: the next candidate is used, still of the same shape.
        let next = ledger.derive_open_id("ann");
        assert_ne!(next, first);
        assert_eq!(next.len(), 19);
    }

    fn change<'a>(
        rid: &'a str,
        uid: &'a str,
        kind: ChangeKind,
        value: u64,
        exp: u64,
    ) -> Change<'a> {
        Change {
            endpoint: "changeGold",
            request_id: rid,
            uid,
            delta: match kind {
                ChangeKind::Add => Delta::Add { expires_at: exp },
                ChangeKind::Remove => Delta::Remove {
                    expiration: Some(exp),
                },
            },
            value,
            order_id: None,
            fingerprint: format!("{rid}{uid}{kind:?}{value}{exp}"),
        }
    }

    #[test]
    fn removals_take_the_soonest_expiring_coins() {
        let seq = AtomicU64::new(0);
        let mut l = Ledger::new("app", 0, RETENTION);
        let uid = register(&mut l, "u1");
        l.change(
            &change("a", &uid, ChangeKind::Add, 10, NOW + 100),
            NOW_MS,
            &seq,
        )
        .unwrap();
        l.change(
            &change("b", &uid, ChangeKind::Add, 5, NOW + 50),
            NOW_MS,
            &seq,
        )
        .unwrap();
        let out = l
            .change(&change("c", &uid, ChangeKind::Remove, 7, NOW), NOW_MS, &seq)
            .unwrap();
        assert_eq!(out.balance_after, 8);
        // The 5 expiring at +50 went first, then 2 of the 10.
        assert_eq!(l.balance(&uid, NOW + 50).unwrap(), 8);
        assert_eq!(l.balance(&uid, NOW + 100).unwrap(), 0);
        assert_eq!(
            l.change(&change("d", &uid, ChangeKind::Remove, 9, NOW), NOW_MS, &seq),
            Err(LedgerError::InsufficientBalance)
        );
        assert_eq!(l.balance(&uid, NOW).unwrap(), 8);
        assert_eq!(l.journal().count(), 3);
    }

    #[test]
    fn removals_never_take_expired_coins() {
        let seq = AtomicU64::new(0);
        let mut l = Ledger::new("app", 0, RETENTION);
        let uid = register(&mut l, "u1");
        l.change(
            &change("a", &uid, ChangeKind::Add, 5, NOW + 50),
            NOW_MS,
            &seq,
        )
        .unwrap();
        l.change(
            &change("b", &uid, ChangeKind::Add, 10, NOW + 100),
            NOW_MS,
            &seq,
        )
        .unwrap();
        // At +60 the 5 have expired: the removal takes 7 of the 10, none of the dead lot.
        let later_ms = (NOW + 60) * 1_000;
        let out = l
            .change(
                &change("c", &uid, ChangeKind::Remove, 7, NOW),
                later_ms,
                &seq,
            )
            .unwrap();
        assert_eq!(out.balance_after, 3);
        assert_eq!(l.balance(&uid, NOW + 60).unwrap(), 3);
        assert_eq!(l.balance(&uid, NOW + 99).unwrap(), 3);
    }

    #[test]
    fn the_journal_keeps_exactly_its_capacity_of_latest_changes() {
        let seq = AtomicU64::new(0);
        let retention = Retention {
            journal_capacity: 2,
            ..RETENTION
        };
        let mut l = Ledger::new("app", 0, retention);
        let uid = register(&mut l, "u1");
        for rid in ["a", "b", "c"] {
            l.change(
                &change(rid, &uid, ChangeKind::Add, 1, NOW + 100),
                NOW_MS,
                &seq,
            )
            .unwrap();
        }
        let kept: Vec<&str> = l.journal().map(|c| c.request_id.as_str()).collect();
        assert_eq!(kept, ["b", "c"]);
        assert_eq!(l.applied_total(), 3);
    }

    #[test]
    fn eviction_forgets_old_request_ids_only() {
        let seq = AtomicU64::new(0);
        let retention = Retention {
            idempotency_window_ms: 1_000,
            ..RETENTION
        };
        let mut l = Ledger::new("app", 0, retention);
        let uid = register(&mut l, "u1");
        let c = change("a", &uid, ChangeKind::Add, 1, NOW + 100);
        assert!(!l.change(&c, NOW_MS, &seq).unwrap().replayed);
        assert!(l.change(&c, NOW_MS + 999, &seq).unwrap().replayed);
        assert!(!l.change(&c, NOW_MS + 1_000, &seq).unwrap().replayed);
        assert_eq!(l.balance(&uid, NOW).unwrap(), 2);
    }

    #[test]
    fn snapshots_round_trip() {
        let seq = AtomicU64::new(0);
        let mut l = Ledger::new("app", 0, RETENTION);
        let uid = register(&mut l, "u1");
        l.change(
            &change("a", &uid, ChangeKind::Add, 10, NOW + 100),
            NOW_MS,
            &seq,
        )
        .unwrap();
        let snap = l.snapshot(NOW);
        let json = serde_json::to_string(&snap).unwrap();
        let back: LedgerSnapshot = serde_json::from_str(&json).unwrap();
        let restored = Ledger::restore("app", 0, RETENTION, back);
        assert_eq!(restored.balance(&uid, NOW).unwrap(), 10);
        assert_eq!(restored.open_id("u1"), Some(uid));
        assert_eq!(restored.applied_total(), 1);
        assert_eq!(restored.last_seq(), 1);
    }

    #[test]
    fn replay_applies_each_logged_event_once_after_the_snapshot() {
        let seq = AtomicU64::new(0);
        let mut live = Ledger::new("app", 0, RETENTION);
        let uid = register(&mut live, "u1");
        let mut events = Vec::new();
        for (i, rid) in ["a", "b", "c"].into_iter().enumerate() {
            let c = change(rid, &uid, ChangeKind::Add, 10 + i as u64, NOW + 100);
            events.push(live.change(&c, NOW_MS, &seq).unwrap().event);
        }
        let repeat = change("a", &uid, ChangeKind::Add, 10, NOW + 100);
        events.push(live.change(&repeat, NOW_MS, &seq).unwrap().event);
        let spend = change("d", &uid, ChangeKind::Remove, 15, NOW);
        events.push(live.change(&spend, NOW_MS, &seq).unwrap().event);

        // A snapshot that holds the registration and the first credit (log records 1 and 2).
        let mut base = Ledger::new("app", 0, RETENTION);
        let grant = base.get_token(&ThGetToken::register(
            UserId::new("u1").unwrap(),
            UserName::new("Ann").unwrap(),
            PortraitUri::new("https://x/a.png").unwrap(),
        ));
        base.set_log_seq(1);
        base.apply(2, events[0].clone());
        assert_eq!(grant.unwrap().open_id, uid);
        let mut replayed = Ledger::restore("app", 0, RETENTION, base.snapshot(NOW));
        // The log still holds record 2 (a crash before it was emptied): skipped.
        for (log_seq, event) in (2..).zip(events.iter().cloned()) {
            replayed.apply(log_seq, event);
        }
        assert_eq!(replayed.balance(&uid, NOW).unwrap(), 10 + 11 + 12 - 15);
        assert_eq!(replayed.snapshot(NOW).journal, live.snapshot(NOW).journal);
        assert_eq!(replayed.journal().next().unwrap().repeats, 1);
        assert_eq!(replayed.applied_total(), 4);
        assert_eq!(replayed.log_seq(), 6);
    }

    #[test]
    fn open_ids_are_stable_digits() {
        let mut a = Ledger::new("app", 1, RETENTION);
        let mut b = Ledger::new("app", 2, RETENTION);
        let id = register(&mut a, "same-user");
        assert_eq!(id, register(&mut b, "same-user"));
        assert_eq!(id.len(), 19);
        assert!(id.bytes().all(|c| c.is_ascii_digit()));
    }
}
