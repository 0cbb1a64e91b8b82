//! A LinkV app's users: the profile `thGetToken` gave, and their coins in lots by expiry.
//!
//! Coins live in lots, one per expiry second (credits that expire in the same second are
//! merged). A lot counts while `now < expires_at`. Removals take from the soonest-expiring
//! lots that still count. Expired lots are kept, not deleted, so that moving the emulator's
//! clock back brings them back, as it would on a server whose clock was wrong.

use std::collections::BTreeMap;
use std::ops::Bound;

use liveapi_model::linkv::ThGetToken;
use serde::{Deserialize, Serialize};

/// A user's profile as given to `thGetToken`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) aid: Option<String>,
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
    /// The display name given at registration or since.
    pub(super) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Overwrites the fields the request gives, keeps the others.
    pub(super) fn update(&mut self, req: &ThGetToken) {
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
pub(super) struct User {
    pub(super) user_id: String,
    pub(super) profile: Profile,
    /// Coins by expiry time in unix seconds.
    pub(super) lots: BTreeMap<u64, u64>,
}

impl User {
    fn live_lots(&self, now_secs: u64) -> impl Iterator<Item = (&u64, &u64)> {
        self.lots
            .range((Bound::Excluded(now_secs), Bound::Unbounded))
    }

    pub(super) fn balance(&self, now_secs: u64) -> u64 {
        self.live_lots(now_secs)
            .fold(0u64, |sum, (_, coins)| sum.saturating_add(*coins))
    }

    /// Takes `value` coins from the soonest-expiring live lots; the caller checked the balance.
    pub(super) fn take(&mut self, now_secs: u64, mut value: u64) {
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
