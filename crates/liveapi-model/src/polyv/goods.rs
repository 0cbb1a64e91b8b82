//! Gift tips: the gifts a viewer can send and the `donate/update-good` body.

use serde::Serialize;
use serde_json::value::RawValue;

use super::body::{body_fields, object_fields, optional_enabled};
use super::{BodyError, Enabled, GoodPrice};
use crate::ValidationError;
use crate::validate::{Check, Rule, string_newtype};

string_newtype! {
    /// The name of a gift (`goodName`): 1 to 5 characters of any text
    /// (`docs/polyv.md#validation-rules`).
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
    /// The image of a gift (`goodImg`): a URL of 1 to 120 characters, sent as given
    /// (`docs/polyv.md#validation-rules`).
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

/// The gifts of a channel or account (`goods`): 1 to 9 of them
/// (`docs/polyv.md#validation-rules`).
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

/// The JSON body of `donate/update-good`: `{"goods":[…1–9],"enabled":"Y"}`.
///
/// `goods` is required (`docs/polyv.md#validation-rules`); `enabled` is optional, and an update
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
