//! Polyv donate settings of one account: account-wide, per channel, and the defaults.
//!
//! `donate/get` for a channel shows what the channel effectively uses, part by part: the
//! channel's own cash (or gift) settings if it has them, else the account-wide ones, else the
//! defaults. `globalSettingEnabled` is `N` once the channel has any setting of its own.
//!
//! An update changes only what it gives and leaves the rest as it was, the switch included
//! (the documented `update-cash` fields are all optional, `docs/polyv.md#calls`). A scope's
//! first update starts from what it effectively used until then. Both switches start on: the
//! documentation says of `enabled` "不传默认开启" (on when not sent), which is the state of a
//! switch never set.

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

/// A scope's cash settings, complete: what `update-cash` bodies add up to. Written as an
/// `update-cash` body in the state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct CashState {
    cashes: Vec<Cents>,
    #[serde(rename = "cashMin")]
    cash_min: Cents,
    enabled: Enabled,
}

impl CashState {
    fn defaults() -> Self {
        Self {
            cashes: DEFAULT_CASHES.iter().map(|&c| Cents::new(c)).collect(),
            cash_min: Cents::new(DEFAULT_CASH_MIN),
            enabled: Enabled::Yes,
        }
    }

    /// These settings with what `update` gives changed, and nothing else.
    fn updated(&self, update: &CashSettings) -> Self {
        Self {
            cashes: update.cashes().map_or_else(
                || self.cashes.clone(),
                |c| c.amounts().iter().map(|a| a.cents()).collect(),
            ),
            cash_min: update.cash_min().map_or(self.cash_min, |m| m.cents()),
            enabled: update.enabled().unwrap_or(self.enabled),
        }
    }
}

/// A scope's gift settings, complete. Written as an `update-good` body in the state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct GoodState {
    goods: Vec<GoodView>,
    enabled: Enabled,
}

impl GoodState {
    fn defaults() -> Self {
        Self {
            goods: DEFAULT_GOODS
                .iter()
                .map(|&(name, image, price)| GoodView {
                    name: name.to_owned(),
                    image: image.to_owned(),
                    price: Cents::new(price),
                    enabled: Enabled::Yes,
                })
                .collect(),
            enabled: Enabled::Yes,
        }
    }

    /// The gifts of `update` (an update always gives them), and its switch if it gives one.
    fn updated(&self, update: &GoodSettings) -> Self {
        Self {
            goods: update
                .goods()
                .as_slice()
                .iter()
                .map(|good| GoodView {
                    name: good.name().to_string(),
                    image: good.image().to_string(),
                    price: good.price().cents(),
                    enabled: good.enabled(),
                })
                .collect(),
            enabled: update.enabled().unwrap_or(self.enabled),
        }
    }
}

/// The settings stored for one scope: either part may be unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ScopeSettings {
    cash: Option<CashState>,
    goods: Option<GoodState>,
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

/// Where the settings a scope uses come from, part by part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Origin {
    /// The channel's own.
    Channel,
    /// Inherited from the account.
    Account,
    /// Nobody set them: a new account's defaults.
    Default,
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

    fn own(&self, channel: Option<u64>) -> Option<&ScopeSettings> {
        channel.and_then(|c| self.per_channel.get(&c))
    }

    /// The cash settings `channel` (or the account, with `None`) effectively uses.
    fn cash_of(&self, channel: Option<u64>) -> CashState {
        self.own(channel)
            .and_then(|s| s.cash.as_ref())
            .or(self.account.cash.as_ref())
            .cloned()
            .unwrap_or_else(CashState::defaults)
    }

    /// The gift settings `channel` (or the account, with `None`) effectively uses.
    fn goods_of(&self, channel: Option<u64>) -> GoodState {
        self.own(channel)
            .and_then(|s| s.goods.as_ref())
            .or(self.account.goods.as_ref())
            .cloned()
            .unwrap_or_else(GoodState::defaults)
    }

    /// Where the cash and the gift settings `channel` (or the account, with `None`) uses come
    /// from.
    pub(crate) fn origins(&self, channel: Option<u64>) -> (Origin, Origin) {
        let own = self.own(channel);
        let origin = |own_set: bool, account_set: bool| match (own_set, account_set) {
            (true, _) => Origin::Channel,
            (false, true) => Origin::Account,
            (false, false) => Origin::Default,
        };
        (
            origin(
                own.is_some_and(|s| s.cash.is_some()),
                self.account.cash.is_some(),
            ),
            origin(
                own.is_some_and(|s| s.goods.is_some()),
                self.account.goods.is_some(),
            ),
        )
    }

    /// The account's channels, in order.
    pub(crate) fn channels(&self) -> impl Iterator<Item = u64> + '_ {
        self.channels.iter().copied()
    }

    /// Changes what `update` gives, for the channel or the account.
    pub(crate) fn set_cash(&mut self, channel: Option<u64>, update: &CashSettings) {
        let cash = self.cash_of(channel).updated(update);
        self.scope_mut(channel).cash = Some(cash);
    }

    /// Sets the gifts of `update`, and its switch if it gives one.
    pub(crate) fn set_goods(&mut self, channel: Option<u64>, update: &GoodSettings) {
        let goods = self.goods_of(channel).updated(update);
        self.scope_mut(channel).goods = Some(goods);
    }

    /// What `donate/get` answers for the channel, or for the account with `None`.
    pub(crate) fn view(&self, channel: Option<u64>) -> DonateView {
        let cash = self.cash_of(channel);
        let goods = self.goods_of(channel);
        DonateView {
            global_setting_enabled: channel
                .map(|_| Enabled::from(self.own(channel).is_none_or(ScopeSettings::is_empty))),
            cash_enabled: cash.enabled,
            good_enabled: goods.enabled,
            cashes: cash.cashes,
            cash_min: cash.cash_min,
            goods: goods.goods,
        }
    }

    /// Forgets every setting: the account and its channels use the defaults again.
    pub(crate) fn reset(&mut self) {
        self.account = ScopeSettings::default();
        self.per_channel.clear();
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

    /// Restores stored settings, read as update bodies over the defaults (so a file written
    /// before a field existed reads as that field's default). Settings that no longer
    /// validate are dropped, since the model types are the only judge of what is valid.
    pub(crate) fn restore(&mut self, snapshot: DonateSnapshot) {
        let read = |s: ScopeSnapshot| ScopeSettings {
            cash: s
                .cash
                .and_then(|v| CashSettings::from_json(v.to_string().as_bytes()).ok())
                .map(|update| CashState::defaults().updated(&update)),
            goods: s
                .goods
                .and_then(|v| GoodSettings::from_json(v.to_string().as_bytes()).ok())
                .map(|update| GoodState::defaults().updated(&update)),
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
        assert_eq!(fresh.cash_enabled, Some(Enabled::Yes));
        assert_eq!(fresh.cashes.len(), 6);

        d.set_cash(None, &cash(r#"{"cashes":[1,2,3,4,5,6],"cashMin":0.5}"#));
        let account = decode(&d.view(Some(1)));
        assert_eq!(account.global_setting_enabled, Some(Enabled::Yes));
        assert_eq!(account.cash_min, Some(Cents::new(50)));
        assert_eq!(account.cash_enabled, Some(Enabled::Yes));

        d.set_cash(
            Some(2),
            &cash(r#"{"cashes":[0.88,6.66,8.88,18.11,66.6,88.8],"cashMin":0.02,"enabled":"N"}"#),
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
    fn an_update_changes_only_what_it_gives() {
        let mut d = Donate::new([1]);
        d.set_cash(Some(1), &cash(r#"{"enabled":"N"}"#));
        let off = decode(&d.view(Some(1)));
        assert_eq!(off.cash_enabled, Some(Enabled::No));
        assert_eq!(off.cashes[0], Cents::new(DEFAULT_CASHES[0]));

        // Amounts without the switch leave the switch off.
        d.set_cash(Some(1), &cash(r#"{"cashes":[1,2,3,4,5,6],"cashMin":0.5}"#));
        let amounts = decode(&d.view(Some(1)));
        assert_eq!(amounts.cash_enabled, Some(Enabled::No));
        assert_eq!(amounts.cashes[5], Cents::new(600));

        // Only the minimum: the amounts and the switch stay.
        d.set_cash(Some(1), &cash(r#"{"cashMin":2}"#));
        let min = decode(&d.view(Some(1)));
        assert_eq!(min.cash_min, Some(Cents::new(200)));
        assert_eq!(min.cashes[5], Cents::new(600));
        assert_eq!(min.cash_enabled, Some(Enabled::No));

        // A channel's first update starts from the account's settings it used.
        let mut d = Donate::new([1]);
        d.set_cash(None, &cash(r#"{"enabled":"N","cashMin":3}"#));
        d.set_cash(Some(1), &cash(r#"{"cashes":[1,2,3,4,5,6]}"#));
        let own = decode(&d.view(Some(1)));
        assert_eq!(own.cash_enabled, Some(Enabled::No));
        assert_eq!(own.cash_min, Some(Cents::new(300)));
    }

    #[test]
    fn origins_tell_own_inherited_and_default_parts() {
        let mut d = Donate::new([1, 2]);
        assert_eq!(d.origins(Some(1)), (Origin::Default, Origin::Default));
        d.set_cash(None, &cash(r#"{"enabled":"N"}"#));
        d.set_cash(Some(2), &cash(r#"{"cashMin":2}"#));
        assert_eq!(d.origins(Some(1)), (Origin::Account, Origin::Default));
        assert_eq!(d.origins(Some(2)), (Origin::Channel, Origin::Default));
        assert_eq!(d.origins(None), (Origin::Account, Origin::Default));
        d.reset();
        assert_eq!(d.origins(Some(2)), (Origin::Default, Origin::Default));
        assert_eq!(d.channels().collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn snapshots_round_trip() {
        let mut d = Donate::new([7]);
        d.set_cash(Some(7), &cash(r#"{"cashes":[1,2,3,4,5,6],"cashMin":0.01}"#));
        d.set_cash(None, &cash(r#"{"enabled":"N"}"#));
        let json = serde_json::to_string(&d.snapshot()).unwrap();
        let mut back = Donate::new([7]);
        back.restore(serde_json::from_str(&json).unwrap());
        assert_eq!(back.view(Some(7)), d.view(Some(7)));
        assert_eq!(back.view(None), d.view(None));
    }
}
