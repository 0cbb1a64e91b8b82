//! Polyv donate settings of one account: account-wide, per channel, and the defaults.
//!
//! `donate/get` for a channel shows what the channel effectively uses, part by part: the
//! channel's own cash (or gift) settings if it has them, else the account-wide ones, else the
//! defaults. `globalSettingEnabled` is `N` once the channel has any setting of its own.

use std::collections::{BTreeMap, BTreeSet};

use liveapi_model::polyv::{CashSettings, Cents, Enabled, GoodSettings};
use serde::{Deserialize, Serialize};

/// The cash amounts a new account offers, in fen.
const DEFAULT_CASHES: [u32; 6] = [88, 666, 888, 1_888, 6_666, 8_888];
/// The smallest custom amount a new account accepts, in fen.
const DEFAULT_CASH_MIN: u32 = 1;
/// Gifts a new account offers: name, image, price in fen.
const DEFAULT_GOODS: [(&str, &str, u32); 4] = [
    (
        "鲜花",
        "//livestatic.videocc.net/uploaded/images/webapp/channel/donate/01-flower.png",
        0,
    ),
    (
        "咖啡",
        "//livestatic.videocc.net/uploaded/images/webapp/channel/donate/02-coffee.png",
        520,
    ),
    (
        "点赞",
        "//livestatic.videocc.net/uploaded/images/webapp/channel/donate/03-good.png",
        0,
    ),
    (
        "火箭",
        "//livestatic.videocc.net/uploaded/images/webapp/channel/donate/04-rocket.png",
        8_800,
    ),
];

/// The settings stored for one scope: either part may be unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ScopeSettings {
    cash: Option<CashSettings>,
    goods: Option<GoodSettings>,
}

impl ScopeSettings {
    fn is_empty(&self) -> bool {
        self.cash.is_none() && self.goods.is_none()
    }
}

/// A gift as `donate/get` writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct GoodView {
    #[serde(rename = "goodName")]
    name: String,
    #[serde(rename = "goodImg")]
    image: String,
    #[serde(rename = "goodPrice")]
    price: Cents,
    #[serde(rename = "goodEnabled")]
    enabled: Enabled,
}

/// The `data` of a `donate/get` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct DonateView {
    #[serde(
        rename = "globalSettingEnabled",
        skip_serializing_if = "Option::is_none"
    )]
    global_setting_enabled: Option<Enabled>,
    #[serde(rename = "donateCashEnabled")]
    cash_enabled: Enabled,
    #[serde(rename = "donateGoodEnabled")]
    good_enabled: Enabled,
    cashes: Vec<Cents>,
    #[serde(rename = "cashMin")]
    cash_min: Cents,
    goods: Vec<GoodView>,
}

/// One account's donate settings.
#[derive(Debug)]
pub(crate) struct Donate {
    channels: BTreeSet<u64>,
    account: ScopeSettings,
    per_channel: BTreeMap<u64, ScopeSettings>,
}

impl Donate {
    pub(crate) fn new(channels: impl IntoIterator<Item = u64>) -> Self {
        Self {
            channels: channels.into_iter().collect(),
            account: ScopeSettings::default(),
            per_channel: BTreeMap::new(),
        }
    }

    pub(crate) fn has_channel(&self, channel: u64) -> bool {
        self.channels.contains(&channel)
    }

    fn scope_mut(&mut self, channel: Option<u64>) -> &mut ScopeSettings {
        match channel {
            Some(c) => self.per_channel.entry(c).or_default(),
            None => &mut self.account,
        }
    }

    pub(crate) fn set_cash(&mut self, channel: Option<u64>, settings: CashSettings) {
        self.scope_mut(channel).cash = Some(settings);
    }

    pub(crate) fn set_goods(&mut self, channel: Option<u64>, settings: GoodSettings) {
        self.scope_mut(channel).goods = Some(settings);
    }

    /// What `donate/get` answers for the channel, or for the account with `None`.
    pub(crate) fn view(&self, channel: Option<u64>) -> DonateView {
        let own = channel.and_then(|c| self.per_channel.get(&c));
        let cash = own
            .and_then(|s| s.cash.as_ref())
            .or(self.account.cash.as_ref());
        let goods = own
            .and_then(|s| s.goods.as_ref())
            .or(self.account.goods.as_ref());
        let (cash_enabled, cashes, cash_min) = match cash {
            Some(c) => (
                c.enabled().unwrap_or(Enabled::Yes),
                c.cashes().amounts().iter().map(|a| a.cents()).collect(),
                c.cash_min().cents(),
            ),
            None => (
                Enabled::No,
                DEFAULT_CASHES.iter().map(|&c| Cents::new(c)).collect(),
                Cents::new(DEFAULT_CASH_MIN),
            ),
        };
        let (good_enabled, goods) = match goods {
            Some(g) => (
                g.enabled().unwrap_or(Enabled::Yes),
                g.goods()
                    .as_slice()
                    .iter()
                    .map(|good| GoodView {
                        name: good.name().to_string(),
                        image: good.image().to_string(),
                        price: good.price().cents(),
                        enabled: good.enabled(),
                    })
                    .collect(),
            ),
            None => (
                Enabled::Yes,
                DEFAULT_GOODS
                    .iter()
                    .map(|&(name, image, price)| GoodView {
                        name: name.to_owned(),
                        image: image.to_owned(),
                        price: Cents::new(price),
                        enabled: Enabled::Yes,
                    })
                    .collect(),
            ),
        };
        DonateView {
            global_setting_enabled: channel
                .map(|_| Enabled::from(own.is_none_or(ScopeSettings::is_empty))),
            cash_enabled,
            good_enabled,
            cashes,
            cash_min,
            goods,
        }
    }

    pub(crate) fn snapshot(&self) -> DonateSnapshot {
        let scope = |s: &ScopeSettings| ScopeSnapshot {
            cash: s.cash.as_ref().and_then(|c| serde_json::to_value(c).ok()),
            goods: s.goods.as_ref().and_then(|g| serde_json::to_value(g).ok()),
        };
        DonateSnapshot {
            channels: self.channels.iter().copied().collect(),
            account: scope(&self.account),
            per_channel: self
                .per_channel
                .iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(c, s)| (c.to_string(), scope(s)))
                .collect(),
        }
    }

    /// Restores stored settings. Settings that no longer validate are dropped, since the
    /// model types are the only judge of what is valid.
    pub(crate) fn restore(&mut self, snapshot: DonateSnapshot) {
        let read = |s: ScopeSnapshot| ScopeSettings {
            cash: s
                .cash
                .and_then(|v| CashSettings::from_json(v.to_string().as_bytes()).ok()),
            goods: s
                .goods
                .and_then(|v| GoodSettings::from_json(v.to_string().as_bytes()).ok()),
        };
        self.account = read(snapshot.account);
        for (channel, settings) in snapshot.per_channel {
            if let Ok(channel) = channel.parse::<u64>() {
                self.per_channel.insert(channel, read(settings));
            }
        }
    }
}

/// One account's settings as the state file and the inspection API write them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct DonateSnapshot {
    /// Informational: the channels come from the configuration, not from the file.
    #[serde(default, skip_deserializing)]
    channels: Vec<u64>,
    #[serde(default)]
    account: ScopeSnapshot,
    #[serde(default)]
    per_channel: BTreeMap<String, ScopeSnapshot>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct ScopeSnapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cash: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    goods: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveapi_model::polyv::{DonateSettings, PolyvResponse};
    use serde_json::value::RawValue;

    fn decode(view: &DonateView) -> DonateSettings {
        let json = serde_json::to_string(view).unwrap();
        let raw = RawValue::from_string(json).unwrap();
        DonateSettings::from_data(Some(&raw)).unwrap()
    }

    fn cash(json: &str) -> CashSettings {
        CashSettings::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn channels_fall_back_part_by_part() {
        let mut d = Donate::new([1, 2]);
        let fresh = decode(&d.view(Some(1)));
        assert_eq!(fresh.global_setting_enabled, Some(Enabled::Yes));
        assert_eq!(fresh.cash_enabled, Some(Enabled::No));
        assert_eq!(fresh.cashes.len(), 6);

        d.set_cash(None, cash(r#"{"cashes":[1,2,3,4,5,6],"cashMin":0.5}"#));
        let account = decode(&d.view(Some(1)));
        assert_eq!(account.global_setting_enabled, Some(Enabled::Yes));
        assert_eq!(account.cash_min, Some(Cents::new(50)));
        assert_eq!(account.cash_enabled, Some(Enabled::Yes));

        d.set_cash(
            Some(2),
            cash(r#"{"cashes":[0.88,6.66,8.88,18.11,66.6,88.8],"cashMin":0.02,"enabled":"N"}"#),
        );
        let own = decode(&d.view(Some(2)));
        assert_eq!(own.global_setting_enabled, Some(Enabled::No));
        assert_eq!(own.cash_enabled, Some(Enabled::No));
        assert_eq!(own.cashes[0], Cents::new(88));
        // Channel 2 has no gifts of its own: the defaults show through.
        assert_eq!(own.goods.len(), DEFAULT_GOODS.len());

        assert_eq!(decode(&d.view(None)).global_setting_enabled, None);
    }

    #[test]
    fn snapshots_round_trip() {
        let mut d = Donate::new([7]);
        d.set_cash(Some(7), cash(r#"{"cashes":[1,2,3,4,5,6],"cashMin":0.01}"#));
        let json = serde_json::to_string(&d.snapshot()).unwrap();
        let mut back = Donate::new([7]);
        back.restore(serde_json::from_str(&json).unwrap());
        assert_eq!(back.view(Some(7)), d.view(Some(7)));
    }
}
