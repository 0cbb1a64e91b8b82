//! A ledger as the state file and the inspection API write it, and back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::changes::AppliedChange;
use super::idempotency::Recorded;
use super::journal::Journal;
use super::users::{Profile, User};
use super::{Ledger, Retention};

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
    pub(super) journal: Vec<AppliedChange>,
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

impl Ledger {
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
                .idempotency
                .iter()
                .map(|(id, record)| IdempotencySnapshot {
                    request_id: id.clone(),
                    record: record.clone(),
                })
                .collect(),
            journal: self.journal.iter().cloned().collect(),
            applied_total: self.journal.applied_total(),
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
            ledger.idempotency.remember(entry.request_id, entry.record);
        }
        ledger.journal = Journal::restore(snapshot.journal, snapshot.applied_total);
        ledger.tokens_issued = snapshot.tokens_issued;
        ledger.log_seq = snapshot.log_seq;
        ledger
    }
}
