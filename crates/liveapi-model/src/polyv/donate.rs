//! Donate (tipping) settings: cash amounts and gifts, per channel or account-wide.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Amount, DonateSettings, GoodPrice, PolyvResponse, Scope};
use crate::ValidationError;
use crate::validate::{Check, Rule, string_newtype};

/// A Y/N switch (`enabled`, `goodEnabled`): the seed's "值为 Y/N , Y为开启" (Y or N, Y is on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Enabled {
    /// `Y`: on.
    #[serde(rename = "Y")]
    Yes,
    /// `N`: off.
    #[serde(rename = "N")]
    No,
}

impl Enabled {
    /// The value as sent on the wire.
    ///
    /// ```
    /// assert_eq!(liveapi_model::polyv::Enabled::Yes.as_str(), "Y");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "Y",
            Self::No => "N",
        }
    }

    /// Whether it is on.
    #[must_use]
    pub const fn is_on(self) -> bool {
        matches!(self, Self::Yes)
    }

    fn from_json(field: &'static str, raw: &RawValue) -> Result<Self, ValidationError> {
        match serde_json::from_str::<&str>(raw.get()) {
            Ok("Y") => Ok(Self::Yes),
            Ok("N") => Ok(Self::No),
            _ => Err(Check { field }.fail(Rule::Format { expected: "Y or N" })),
        }
    }
}

impl From<bool> for Enabled {
    fn from(on: bool) -> Self {
        if on { Self::Yes } else { Self::No }
    }
}

impl FromStr for Enabled {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        match s {
            "Y" => Ok(Self::Yes),
            "N" => Ok(Self::No),
            _ => Err(Check { field: "enabled" }.fail(Rule::Format { expected: "Y or N" })),
        }
    }
}

impl fmt::Display for Enabled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The six cash amounts a viewer can pick from (`cashes`): exactly six (the seed:
/// "数组的长度必须为6"), each 0.01–9999.99 (see [`Amount`]).
///
/// ```
/// use liveapi_model::polyv::{Amount, Cashes};
/// let cashes = Cashes::parse(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"])?;
/// assert_eq!(serde_json::to_string(&cashes).unwrap(), "[0.88,6.66,8.88,18.11,66.6,88.8]");
/// assert!(Cashes::parse(["1", "2"]).is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Cashes([Amount; 6]);

impl Cashes {
    /// The wire name of the field.
    pub const FIELD: &'static str = "cashes";

    /// Six amounts.
    #[must_use]
    pub const fn new(amounts: [Amount; 6]) -> Self {
        Self(amounts)
    }

    /// Parses six decimal texts of yuan.
    ///
    /// # Errors
    /// A [`ValidationError`] for a count other than six or an amount out of range.
    pub fn parse<S: AsRef<str>>(
        texts: impl IntoIterator<Item = S>,
    ) -> Result<Self, ValidationError> {
        let amounts = texts
            .into_iter()
            .map(|t| {
                t.as_ref()
                    .parse::<Amount>()
                    .map_err(|e| ValidationError::new(Self::FIELD, e.rule().clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::try_from(amounts.as_slice())
    }

    /// The amounts.
    #[must_use]
    pub const fn amounts(&self) -> &[Amount; 6] {
        &self.0
    }

    fn from_json(raw: &RawValue) -> Result<Self, ValidationError> {
        let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get()).map_err(|_| {
            Check { field: Self::FIELD }.fail(Rule::Format {
                expected: "an array of six amounts",
            })
        })?;
        let amounts = items
            .iter()
            .map(|raw| Amount::from_json(Self::FIELD, raw))
            .collect::<Result<Vec<_>, _>>()?;
        Self::try_from(amounts.as_slice())
    }
}

impl TryFrom<&[Amount]> for Cashes {
    type Error = ValidationError;

    fn try_from(amounts: &[Amount]) -> Result<Self, ValidationError> {
        <[Amount; 6]>::try_from(amounts).map(Self).map_err(|_| {
            Check { field: Self::FIELD }.fail(Rule::Count {
                expected: "exactly 6",
                actual: amounts.len(),
            })
        })
    }
}

string_newtype! {
    /// The name of a gift (`goodName`): 1 to 5 characters of any text (API-NOTES, donate
    /// endpoints: `goodName ≤5 chars`).
    ///
    /// ```
    /// use liveapi_model::polyv::GoodName;
    /// assert!(GoodName::new("小星星").is_ok());
    /// assert!(GoodName::new("a b").is_ok());
    /// assert!(GoodName::new("一二三四五六").is_err());
    /// ```
    GoodName, field = "goodName", check = |c, s| {
        c.max_chars(s, 5)?;
    }
}

string_newtype! {
    /// The image of a gift (`goodImg`): a URL of 1 to 120 characters (API-NOTES, donate
    /// endpoints: `goodImg ≤120 chars`), sent as given.
    ///
    /// ```
    /// use liveapi_model::polyv::GoodImage;
    /// assert!(GoodImage::new("//livestatic.videocc.net/uploaded/images/webapp/channel/donate/01-flower.png").is_ok());
    /// assert!(GoodImage::new("x".repeat(121)).is_err());
    /// ```
    GoodImage, field = "goodImg", check = |c, s| {
        c.max_chars(s, 120)?;
    }
}

/// A gift a viewer can send.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DonateGood {
    #[serde(rename = "goodName")]
    name: GoodName,
    #[serde(rename = "goodImg")]
    image: GoodImage,
    #[serde(rename = "goodPrice")]
    price: GoodPrice,
    #[serde(rename = "goodEnabled")]
    enabled: Enabled,
}

impl DonateGood {
    /// A gift, switched on.
    ///
    /// ```
    /// use liveapi_model::polyv::{DonateGood, GoodName, GoodImage};
    /// let flower = DonateGood::new(
    ///     GoodName::new("鲜花")?,
    ///     GoodImage::new("//cdn.example.com/flower.png")?,
    ///     "0".parse()?,
    /// );
    /// assert!(flower.enabled().is_on());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    #[must_use]
    pub fn new(name: GoodName, image: GoodImage, price: GoodPrice) -> Self {
        Self {
            name,
            image,
            price,
            enabled: Enabled::Yes,
        }
    }

    /// Switches the gift on or off.
    #[must_use]
    pub fn with_enabled(mut self, enabled: Enabled) -> Self {
        self.enabled = enabled;
        self
    }

    /// The name.
    #[must_use]
    pub fn name(&self) -> &GoodName {
        &self.name
    }

    /// The image URL.
    #[must_use]
    pub fn image(&self) -> &GoodImage {
        &self.image
    }

    /// The price.
    #[must_use]
    pub fn price(&self) -> GoodPrice {
        self.price
    }

    /// Whether it is offered.
    #[must_use]
    pub fn enabled(&self) -> Enabled {
        self.enabled
    }

    fn from_json(raw: &RawValue) -> Result<Self, ValidationError> {
        let fields = object_fields("goods", raw)?;
        let get = |key: &'static str| {
            fields
                .get(key)
                .ok_or(Check { field: key }.fail(Rule::Missing))
        };
        let text = |key: &'static str| -> Result<String, ValidationError> {
            serde_json::from_str::<String>(get(key)?.get()).map_err(|_| {
                Check { field: key }.fail(Rule::Format {
                    expected: "a string",
                })
            })
        };
        Ok(Self {
            name: GoodName::new(text("goodName")?)?,
            image: GoodImage::new(text("goodImg")?)?,
            price: GoodPrice::from_json("goodPrice", get("goodPrice")?)?,
            enabled: match fields.get("goodEnabled") {
                Some(raw) => Enabled::from_json("goodEnabled", raw)?,
                None => Enabled::Yes,
            },
        })
    }
}

/// The gifts of a channel or account (`goods`): 1 to 9 of them (API-NOTES, donate endpoints).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DonateGoods(Vec<DonateGood>);

impl DonateGoods {
    /// The wire name of the field.
    pub const FIELD: &'static str = "goods";

    /// Checks the count.
    ///
    /// ```
    /// use liveapi_model::polyv::DonateGoods;
    /// assert!(DonateGoods::new(vec![]).is_err());
    /// ```
    ///
    /// # Errors
    /// A [`ValidationError`] for fewer than 1 or more than 9 gifts.
    pub fn new(goods: Vec<DonateGood>) -> Result<Self, ValidationError> {
        if !(1..=9).contains(&goods.len()) {
            return Err(Check { field: Self::FIELD }.fail(Rule::Count {
                expected: "1 to 9",
                actual: goods.len(),
            }));
        }
        Ok(Self(goods))
    }

    /// The gifts.
    #[must_use]
    pub fn as_slice(&self) -> &[DonateGood] {
        &self.0
    }

    fn from_json(raw: &RawValue) -> Result<Self, ValidationError> {
        let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get()).map_err(|_| {
            Check { field: Self::FIELD }.fail(Rule::Format {
                expected: "an array of gifts",
            })
        })?;
        Self::new(
            items
                .iter()
                .map(|raw| DonateGood::from_json(raw))
                .collect::<Result<_, _>>()?,
        )
    }
}

/// A request body that is not what the call takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// Empty, not JSON, or not a JSON object.
    #[error("the body is not a JSON object: {0}")]
    Syntax(String),
    /// A JSON object whose fields break a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

fn object_fields(
    field: &'static str,
    raw: &RawValue,
) -> Result<BTreeMap<String, Box<RawValue>>, ValidationError> {
    serde_json::from_str(raw.get()).map_err(|_| {
        Check { field }.fail(Rule::Format {
            expected: "a JSON object",
        })
    })
}

fn body_fields(body: &[u8]) -> Result<BTreeMap<String, Box<RawValue>>, BodyError> {
    serde_json::from_slice(body).map_err(|e| BodyError::Syntax(e.to_string()))
}

fn optional_enabled(
    fields: &BTreeMap<String, Box<RawValue>>,
) -> Result<Option<Enabled>, ValidationError> {
    present(fields, "enabled")
        .map(|raw| Enabled::from_json("enabled", raw))
        .transpose()
}

/// A body field that may be absent or `null`.
fn present<'a>(fields: &'a BTreeMap<String, Box<RawValue>>, key: &str) -> Option<&'a RawValue> {
    fields
        .get(key)
        .map(AsRef::as_ref)
        .filter(|raw| raw.get().trim() != "null")
}

/// The JSON body of `donate/update-cash`: any of `cashes`, `cashMin` and `enabled`, at least
/// one of them: `{"cashes":[…6],"cashMin":0.02,"enabled":"Y"}`, `{"enabled":"N"}`,
/// `{"cashMin":0.5}`.
///
/// The seed leaves the "必选" (required) column blank for all three, so an update may change
/// any one alone. **A field left out is left as it is, the switch included**: an update
/// without `enabled` never switches cash tips on or off. (The seed's "不传默认开启", on when
/// not sent, is the state of a switch never set: cash tips start on.) An update with nothing
/// in it is refused, as the seed refuses an empty JSON ("json为空", `param validate error`).
///
/// ```
/// use liveapi_model::polyv::{CashSettings, Cashes, Enabled};
/// let settings = CashSettings::new(
///     Cashes::parse(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"])?,
///     "0.02".parse()?,
/// )
/// .with_enabled(Enabled::Yes);
/// let json = serde_json::to_string(&settings).unwrap();
/// assert_eq!(json, r#"{"cashes":[0.88,6.66,8.88,18.11,66.6,88.8],"cashMin":0.02,"enabled":"Y"}"#);
/// assert_eq!(CashSettings::from_json(json.as_bytes()).unwrap(), settings);
///
/// // Switching tips off, and nothing else.
/// let off = CashSettings::switch(Enabled::No);
/// assert_eq!(serde_json::to_string(&off).unwrap(), r#"{"enabled":"N"}"#);
///
/// // Changing only the smallest amount.
/// let min = CashSettings::from_parts(None, Some("0.5".parse()?), None)?;
/// assert_eq!(serde_json::to_string(&min).unwrap(), r#"{"cashMin":0.5}"#);
/// assert!(CashSettings::from_parts(None, None, None).is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CashSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    cashes: Option<Cashes>,
    #[serde(rename = "cashMin", skip_serializing_if = "Option::is_none")]
    cash_min: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<Enabled>,
}

impl CashSettings {
    /// What an update with nothing in it is refused as.
    fn nothing() -> ValidationError {
        Check {
            field: "cashes, cashMin or enabled",
        }
        .fail(Rule::Missing)
    }

    /// The six amounts and the smallest custom amount; the switch left as it is.
    #[must_use]
    pub fn new(cashes: Cashes, cash_min: Amount) -> Self {
        Self {
            cashes: Some(cashes),
            cash_min: Some(cash_min),
            enabled: None,
        }
    }

    /// Only the switch: turns cash tips on or off and leaves the amounts as they are.
    #[must_use]
    pub fn switch(enabled: Enabled) -> Self {
        Self {
            cashes: None,
            cash_min: None,
            enabled: Some(enabled),
        }
    }

    /// Whichever parts are given; what is `None` is left as it is.
    ///
    /// # Errors
    /// A [`ValidationError`] if all three are `None`: such an update changes nothing.
    pub fn from_parts(
        cashes: Option<Cashes>,
        cash_min: Option<Amount>,
        enabled: Option<Enabled>,
    ) -> Result<Self, ValidationError> {
        if cashes.is_none() && cash_min.is_none() && enabled.is_none() {
            return Err(Self::nothing());
        }
        Ok(Self {
            cashes,
            cash_min,
            enabled,
        })
    }

    /// Sets the six amounts too.
    #[must_use]
    pub fn with_cashes(mut self, cashes: Cashes) -> Self {
        self.cashes = Some(cashes);
        self
    }

    /// Sets the smallest custom amount too.
    #[must_use]
    pub fn with_cash_min(mut self, cash_min: Amount) -> Self {
        self.cash_min = Some(cash_min);
        self
    }

    /// Switches cash tips on or off too.
    #[must_use]
    pub fn with_enabled(mut self, enabled: Enabled) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// The six amounts, if this update sets them.
    #[must_use]
    pub fn cashes(&self) -> Option<&Cashes> {
        self.cashes.as_ref()
    }

    /// The smallest custom amount, if this update sets it.
    #[must_use]
    pub fn cash_min(&self) -> Option<Amount> {
        self.cash_min
    }

    /// The switch, if this update sets it.
    #[must_use]
    pub fn enabled(&self) -> Option<Enabled> {
        self.enabled
    }

    /// Reads a request body (what a server does). A field that is absent or `null` is left
    /// out of the update; other fields (such as a `channelId`, which belongs in the query)
    /// are ignored.
    ///
    /// # Errors
    /// [`BodyError::Syntax`] for a body that is not a JSON object, [`BodyError::Invalid`] for
    /// an invalid field or an object with none of the three.
    pub fn from_json(body: &[u8]) -> Result<Self, BodyError> {
        let fields = body_fields(body)?;
        let cashes = present(&fields, Cashes::FIELD)
            .map(Cashes::from_json)
            .transpose()?;
        let cash_min = present(&fields, "cashMin")
            .map(|raw| Amount::from_json("cashMin", raw))
            .transpose()?;
        let enabled = optional_enabled(&fields)?;
        Ok(Self::from_parts(cashes, cash_min, enabled)?)
    }
}

/// The JSON body of `donate/update-good`: `{"goods":[…1–9],"enabled":"Y"}`.
///
/// `goods` is required (API-NOTES, donate endpoints); `enabled` is optional, and an update
/// without it leaves the switch as it is.
///
/// ```
/// use liveapi_model::polyv::{DonateGood, DonateGoods, GoodImage, GoodName, GoodSettings};
/// let settings = GoodSettings::new(DonateGoods::new(vec![DonateGood::new(
///     GoodName::new("鲜花")?,
///     GoodImage::new("//cdn.example.com/f.png")?,
///     "0".parse()?,
/// )])?);
/// assert_eq!(
///     serde_json::to_string(&settings).unwrap(),
///     r#"{"goods":[{"goodName":"鲜花","goodImg":"//cdn.example.com/f.png","goodPrice":0.0,"goodEnabled":"Y"}]}"#
/// );
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct GoodSettings {
    goods: DonateGoods,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<Enabled>,
}

impl GoodSettings {
    /// The gifts; the switch left as it is.
    #[must_use]
    pub fn new(goods: DonateGoods) -> Self {
        Self {
            goods,
            enabled: None,
        }
    }

    /// Switches gift tips on or off explicitly.
    #[must_use]
    pub fn with_enabled(mut self, enabled: Enabled) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// The gifts.
    #[must_use]
    pub fn goods(&self) -> &DonateGoods {
        &self.goods
    }

    /// The switch, if set.
    #[must_use]
    pub fn enabled(&self) -> Option<Enabled> {
        self.enabled
    }

    /// Reads a request body (what a server does).
    ///
    /// # Errors
    /// [`BodyError::Syntax`] for a body that is not a JSON object, [`BodyError::Invalid`] for
    /// a missing or invalid field.
    pub fn from_json(body: &[u8]) -> Result<Self, BodyError> {
        let fields = body_fields(body)?;
        let goods = fields
            .get("goods")
            .ok_or(Check { field: "goods" }.fail(Rule::Missing))?;
        Ok(Self {
            goods: DonateGoods::from_json(goods)?,
            enabled: optional_enabled(&fields)?,
        })
    }
}

/// The HTTP method of a Polyv call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`, with no body.
    Get,
    /// `POST`, with a JSON body.
    Post,
}

/// What every Polyv donate call has: a path, a method, a scope and maybe a JSON body.
pub trait PolyvRequest {
    /// What the call answers with.
    type Response: PolyvResponse;
    /// The endpoint's name, for logs: `donate/update-cash`.
    const NAME: &'static str;
    /// The path below the API host: `/live/v3/channel/donate/update-cash`.
    const PATH: &'static str;
    /// The HTTP method.
    const METHOD: Method;

    /// The channel or the account; decides the signed `channelId` query parameter.
    fn scope(&self) -> Scope;

    /// The JSON body, if the call has one. It is never signed.
    fn body(&self) -> Option<Vec<u8>>;
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    #[allow(clippy::expect_used)] // An invariant of the types, not an input check.
    serde_json::to_vec(value)
        .expect("settings are plain structs of strings and finite numbers, always serialisable")
}

/// Sets the cash tip amounts of a channel or of the whole account
/// (`POST /live/v3/channel/donate/update-cash`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateCash {
    scope: Scope,
    settings: CashSettings,
}

impl UpdateCash {
    /// Sets `settings` for `scope`.
    ///
    /// ```
    /// use liveapi_model::polyv::*;
    /// let req = UpdateCash::new(
    ///     ChannelId::new(2_149_710)?,
    ///     CashSettings::new(Cashes::parse(["1", "2", "3", "4", "5", "6"])?, "0.5".parse()?),
    /// );
    /// assert_eq!(req.scope().channel().map(ChannelId::get), Some(2_149_710));
    /// assert_eq!(req.body().unwrap(), br#"{"cashes":[1.0,2.0,3.0,4.0,5.0,6.0],"cashMin":0.5}"#);
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    #[must_use]
    pub fn new(scope: impl Into<Scope>, settings: CashSettings) -> Self {
        Self {
            scope: scope.into(),
            settings,
        }
    }

    /// The channel or the account.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &CashSettings {
        &self.settings
    }
}

impl PolyvRequest for UpdateCash {
    type Response = ();
    const NAME: &'static str = "donate/update-cash";
    const PATH: &'static str = "/live/v3/channel/donate/update-cash";
    const METHOD: Method = Method::Post;

    fn scope(&self) -> Scope {
        self.scope
    }

    fn body(&self) -> Option<Vec<u8>> {
        Some(to_json(&self.settings))
    }
}

/// Sets the gifts of a channel or of the whole account
/// (`POST /live/v3/channel/donate/update-good`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateGoods {
    scope: Scope,
    settings: GoodSettings,
}

impl UpdateGoods {
    /// Sets `settings` for `scope`.
    #[must_use]
    pub fn new(scope: impl Into<Scope>, settings: GoodSettings) -> Self {
        Self {
            scope: scope.into(),
            settings,
        }
    }

    /// The channel or the account.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &GoodSettings {
        &self.settings
    }
}

impl PolyvRequest for UpdateGoods {
    type Response = ();
    const NAME: &'static str = "donate/update-good";
    const PATH: &'static str = "/live/v3/channel/donate/update-good";
    const METHOD: Method = Method::Post;

    fn scope(&self) -> Scope {
        self.scope
    }

    fn body(&self) -> Option<Vec<u8>> {
        Some(to_json(&self.settings))
    }
}

/// Reads the donate settings a channel effectively uses, or the account-wide ones
/// (`GET /live/v3/channel/donate/get`).
///
/// ```
/// use liveapi_model::polyv::{GetDonate, PolyvRequest, Scope};
/// let req = GetDonate::new(Scope::Account);
/// assert!(req.body().is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetDonate {
    scope: Scope,
}

impl GetDonate {
    /// Reads the settings of `scope`.
    #[must_use]
    pub fn new(scope: impl Into<Scope>) -> Self {
        Self {
            scope: scope.into(),
        }
    }

    /// The channel or the account.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }
}

impl PolyvRequest for GetDonate {
    type Response = DonateSettings;
    const NAME: &'static str = "donate/get";
    const PATH: &'static str = "/live/v3/channel/donate/get";
    const METHOD: Method = Method::Get;

    fn scope(&self) -> Scope {
        self.scope
    }

    fn body(&self) -> Option<Vec<u8>> {
        None
    }
}
