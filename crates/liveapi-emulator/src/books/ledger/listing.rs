//! A ledger's users as people look them up: by any of their ids, a page at a time, each with
//! its balance and its coins by expiry. Read-only; the dashboard shows it.

use serde::Serialize;

use super::Ledger;
use super::users::User;

/// One of a user's lots: coins that expire together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct LotRow {
    /// When they expire, unix seconds.
    pub(crate) expires_at: u64,
    pub(crate) coins: u64,
    /// Expired lots are kept (moving the clock back brings them back) but do not count.
    pub(crate) expired: bool,
}

/// A user as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct UserRow {
    pub(crate) user_id: String,
    pub(crate) open_id: String,
    pub(crate) aid: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) balance: u64,
    pub(crate) coins: Vec<LotRow>,
}

/// A page of users and how many there are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct UserPage {
    /// Users in the ledger.
    pub(crate) total: usize,
    /// Users the query matched.
    pub(crate) matching: usize,
    /// The first `limit` of them by user id.
    pub(crate) users: Vec<UserRow>,
}

fn row(open_id: &str, user: &User, now_secs: u64) -> UserRow {
    UserRow {
        user_id: user.user_id.clone(),
        open_id: open_id.to_owned(),
        aid: user.profile.aid.clone(),
        name: user.profile.name().map(str::to_owned),
        balance: user.balance(now_secs),
        coins: user
            .lots
            .iter()
            .map(|(&expires_at, &coins)| LotRow {
                expires_at,
                coins,
                expired: expires_at <= now_secs,
            })
            .collect(),
    }
}

impl Ledger {
    /// The users whose user id, open id or `aid` contains `query` (every user for an empty
    /// one), and those with a journal entry whose `request_id` or `order_id` is `query`:
    /// the first `limit` by user id. Linear in the users and the journal; the lock is held
    /// for that long, so the dashboard asks for a page rather than everything.
    pub(crate) fn users_page(&self, query: &str, limit: usize, now_secs: u64) -> UserPage {
        let query = query.trim();
        let by_change: Vec<&str> = if query.is_empty() {
            Vec::new()
        } else {
            self.journal
                .iter()
                .filter(|c| c.request_id == query || c.order_id.as_deref() == Some(query))
                .map(|c| c.uid.as_str())
                .collect()
        };
        let mut matching: Vec<(&String, &User)> = self
            .users
            .iter()
            .filter(|(open_id, user)| {
                query.is_empty()
                    || open_id.contains(query)
                    || user.user_id.contains(query)
                    || user
                        .profile
                        .aid
                        .as_deref()
                        .is_some_and(|a| a.contains(query))
                    || by_change.contains(&open_id.as_str())
            })
            .collect();
        let count = matching.len();
        // The first `limit` by user id without sorting them all.
        let by_user_id = |a: &(&String, &User), b: &(&String, &User)| a.1.user_id.cmp(&b.1.user_id);
        if limit < matching.len() {
            matching.select_nth_unstable_by(limit, by_user_id);
            matching.truncate(limit);
        }
        matching.sort_unstable_by(by_user_id);
        UserPage {
            total: self.users.len(),
            matching: count,
            users: matching
                .into_iter()
                .map(|(open_id, user)| row(open_id, user, now_secs))
                .collect(),
        }
    }

    /// The user id of an open id.
    pub(crate) fn user_id_of(&self, open_id: &str) -> Option<&str> {
        self.users.get(open_id).map(|u| u.user_id.as_str())
    }

    /// How many users the ledger has.
    pub(crate) fn user_count(&self) -> usize {
        self.users.len()
    }
}
