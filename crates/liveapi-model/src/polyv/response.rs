//! What the Polyv server answers, read tolerantly.

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::{Cents, Enabled};
use crate::RawBody;
use crate::lenient::{self, AnyText};
use crate::{ApiError, Vendor};

/// A response type that can be read from the `data` of a Polyv envelope.
pub trait PolyvResponse: Sized {
    /// Reads `data`, which may be anything.
    ///
    /// # Errors
    /// Why the data is not what this call returns.
    fn from_data(data: Option<&RawValue>) -> Result<Self, String>;
}

/// The update calls: the documented success answers carry `data: true` (`docs/polyv.md#answers`),
/// but `code` and `status` are what say success, so other data (`"success"`, `1`, none at all) is
/// success too. Only `false`, which says the opposite of the code, is not.
impl PolyvResponse for () {
    fn from_data(data: Option<&RawValue>) -> Result<Self, String> {
        match data.map(|raw| raw.get().trim()) {
            Some("false") => Err("`data` is `false` although `code` is 200".to_owned()),
            _ => Ok(()),
        }
    }
}

/// A Y/N switch as responses write it: `"Y"`, `"N"`, `null`, or a boolean.
fn switch<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Enabled>, D::Error> {
    let raw = <Option<Box<RawValue>>>::deserialize(d)?;
    let Some(raw) = raw else { return Ok(None) };
    match raw.get().trim() {
        "null" => Ok(None),
        "true" => Ok(Some(Enabled::Yes)),
        "false" => Ok(Some(Enabled::No)),
        json => match serde_json::from_str::<&str>(json) {
            Ok("Y" | "y") => Ok(Some(Enabled::Yes)),
            Ok("N" | "n") => Ok(Some(Enabled::No)),
            Ok("") => Ok(None),
            _ => Err(D::Error::custom(format!(
                "expected Y or N, found `{}`",
                lenient::short(json)
            ))),
        },
    }
}

/// A list that may be written as `null`.
fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(<Option<Vec<T>>>::deserialize(d)?.unwrap_or_default())
}

/// A gift as `donate/get` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GoodSetting {
    /// `goodName`.
    #[serde(rename = "goodName", default)]
    name: AnyText,
    /// `goodImg`.
    #[serde(rename = "goodImg", default)]
    image: AnyText,
    /// `goodPrice` in fen.
    #[serde(rename = "goodPrice", default)]
    pub price: Option<Cents>,
    /// `goodEnabled`.
    #[serde(rename = "goodEnabled", default, deserialize_with = "switch")]
    pub enabled: Option<Enabled>,
}

impl GoodSetting {
    /// The gift's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.name.0.as_deref().unwrap_or_default()
    }

    /// The gift's image URL.
    #[must_use]
    pub fn image(&self) -> &str {
        self.image.0.as_deref().unwrap_or_default()
    }
}

/// The answer to `donate/get`: the settings a channel effectively uses, or the account-wide
/// ones.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct DonateSettings {
    /// `globalSettingEnabled`: `Y` if the channel uses the account-wide settings, `N` if its
    /// own; `None` when the account-wide settings were asked for.
    #[serde(rename = "globalSettingEnabled", default, deserialize_with = "switch")]
    pub global_setting_enabled: Option<Enabled>,
    /// `donateCashEnabled`: whether cash tips are on.
    #[serde(rename = "donateCashEnabled", default, deserialize_with = "switch")]
    pub cash_enabled: Option<Enabled>,
    /// `donateGoodEnabled`: whether gift tips are on.
    #[serde(rename = "donateGoodEnabled", default, deserialize_with = "switch")]
    pub good_enabled: Option<Enabled>,
    /// `cashes`: the amounts offered.
    #[serde(default, deserialize_with = "list")]
    pub cashes: Vec<Cents>,
    /// `cashMin`: the smallest custom amount.
    #[serde(rename = "cashMin", default)]
    pub cash_min: Option<Cents>,
    /// `goods`: the gifts offered.
    #[serde(default, deserialize_with = "list")]
    pub goods: Vec<GoodSetting>,
    /// `donatePointEnabled`: whether point (积分) tips are on, when the server says.
    #[serde(rename = "donatePointEnabled", default, deserialize_with = "switch")]
    pub point_enabled: Option<Enabled>,
    #[serde(rename = "pointUnit", default)]
    point_unit: AnyText,
    #[serde(rename = "donateTips", default)]
    tips: AnyText,
}

impl DonateSettings {
    /// `donateTips`: the text shown to viewers, if any.
    #[must_use]
    pub fn tips(&self) -> Option<&str> {
        self.tips.0.as_deref()
    }

    /// `pointUnit`: the name of the points viewers tip with (such as `积分`), when the
    /// server says.
    #[must_use]
    pub fn point_unit(&self) -> Option<&str> {
        self.point_unit.0.as_deref()
    }
}

impl PolyvResponse for DonateSettings {
    fn from_data(data: Option<&RawValue>) -> Result<Self, String> {
        let data = data.ok_or("`data` is missing")?;
        if !data.get().trim_start().starts_with('{') {
            return Err(format!(
                "`data` is `{}`, not an object",
                lenient::short(data.get())
            ));
        }
        serde_json::from_str(data.get()).map_err(|e| format!("`data`: {e}"))
    }
}

/// Borrowed from the body: a success reads no text it does not need and copies none.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    code: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// An informative text field: its text if it is a string or number, else nothing.
fn loose(raw: Option<&RawValue>) -> Cow<'_, str> {
    raw.and_then(|r| lenient::text_ref(r).ok().flatten())
        .unwrap_or_default()
}

/// Reads a Polyv response: the HTTP status and the body, whatever its `Content-Type` says.
///
/// The body's `code` decides, whatever the HTTP status (a `status` of `error` or `fail` next
/// to a code of 200 is a failure too). A body that is not a Polyv envelope is
/// [`UnreadableAnswer`](crate::ApiErrorKind::UnreadableAnswer); a success whose `data` is not
/// what the call returns is [`UnreadableData`](crate::ApiErrorKind::UnreadableData).
///
/// ```
/// use liveapi_model::polyv::{decode, DonateSettings};
/// use liveapi_model::ApiErrorKind;
///
/// decode::<()>(200, br#"{"code":200,"status":"success","message":"","data":true}"#)?;
/// decode::<()>(200, br#"{"code":200,"status":"success","message":"","data":"success"}"#)?;
///
/// let err = decode::<()>(403, br#"{"code":403,"status":"error","message":"invalid signature.","data":""}"#)
///     .unwrap_err();
/// assert_eq!(err.kind(), ApiErrorKind::BadSignature);
///
/// let settings: DonateSettings = decode(200, br#"{"code":"200","status":"success","data":
///     {"cashes":[0.88,"6.66"],"cashMin":0.01,"donateCashEnabled":"Y","goods":null}}"#)?;
/// assert_eq!(settings.cashes[1].get(), 666);
/// # Ok::<(), liveapi_model::ApiError>(())
/// ```
///
/// # Errors
/// The [`ApiError`] the response stands for.
pub fn decode<T: PolyvResponse>(http_status: u16, body: &[u8]) -> Result<T, ApiError> {
    let unexpected = |reason: String| {
        ApiError::unreadable_answer(Vendor::Polyv, http_status, reason, RawBody::new(body))
    };
    let unreadable = |reason: String| {
        ApiError::unreadable_data(Vendor::Polyv, http_status, reason, RawBody::new(body))
    };
    let refused = |code: i64, status: &str, message: String| {
        ApiError::polyv(code, status, message)
            .with_http_status(http_status)
            .with_body(RawBody::new(body))
    };
    let decoded = lenient::with_json(body, |json| {
        let envelope: Envelope<'_> = serde_json::from_slice(json)?;
        Ok(read(envelope, &unexpected, &unreadable, &refused))
    });
    decoded.unwrap_or_else(|e| Err(unexpected(format!("not a Polyv JSON envelope: {e}"))))
}

fn read<T: PolyvResponse>(
    envelope: Envelope<'_>,
    unexpected: &impl Fn(String) -> ApiError,
    unreadable: &impl Fn(String) -> ApiError,
    refused: &impl Fn(i64, &str, String) -> ApiError,
) -> Result<T, ApiError> {
    let status = loose(envelope.status);
    let code = envelope
        .code
        .map(lenient::text_ref)
        .transpose()
        .map_err(|e| unexpected(format!("`code`: {e}")))?
        .flatten();
    let code = match code {
        Some(code) => lenient::integer(&code)
            .ok_or_else(|| unexpected(format!("`code` is not a number: `{code}`")))?,
        None if status == "success" => 200,
        None => return Err(unexpected("`code` is missing".to_owned())),
    };
    // A `status` of `error` or `fail` contradicts a code of 200; the failure wins.
    let failed = status.eq_ignore_ascii_case("error") || status.eq_ignore_ascii_case("fail");
    if code != 200 || failed {
        return Err(refused(code, &status, loose(envelope.message).into_owned()));
    }
    T::from_data(envelope.data).map_err(unreadable)
}
