//! What the LinkV server answers, read tolerantly.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Coins, LinkvError, OpenId};
use crate::RawBody;
use crate::lenient::{self, AnyText, Text};

/// A live token for the 互动娱乐 SDK (`token`, at most 256 bytes).
///
/// It lets the user's app act as that user, so `Debug` does not print it.
///
/// ```
/// let token = liveapi_model::linkv::LiveToken::new("asdsaddfa3234234ada2adsf");
/// assert_eq!(token.as_str(), "asdsaddfa3234234ada2adsf");
/// assert_eq!(format!("{token:?}"), "LiveToken([redacted])");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LiveToken(String);

impl LiveToken {
    /// Wraps a token.
    #[must_use]
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token, to hand to the user's app.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LiveToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LiveToken([redacted])")
    }
}

/// The answer to `thGetToken`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserToken {
    /// The live token for the user's app.
    pub token: LiveToken,
    /// LinkV's id for the user, used as `uid` in the coin calls.
    pub open_id: OpenId,
    /// Your app's id for the user, echoed back.
    pub user_id: Option<String>,
    /// The device id, echoed back.
    pub aid: Option<String>,
}

impl UserToken {
    /// A token answer, as an emulator or a test double would build it.
    #[must_use]
    pub fn new(token: LiveToken, open_id: OpenId) -> Self {
        Self {
            token,
            open_id,
            user_id: None,
            aid: None,
        }
    }
}

/// A response type that can be read from the `data` of a LinkV envelope.
pub trait LinkvResponse: Sized {
    /// Whether a successful answer carries a secret (a live token): the body of such an
    /// answer is never kept in an error, even when it cannot be read, because the error may
    /// be displayed or logged.
    const SECRET: bool = false;

    /// Reads `data`, which may be absent, `null`, `[]` or an object.
    ///
    /// # Errors
    /// Why the data is not what this call returns.
    fn from_data(data: Option<&RawValue>) -> Result<Self, String>;
}

/// `changeGold` answers with nothing but the status.
impl LinkvResponse for () {
    fn from_data(_: Option<&RawValue>) -> Result<Self, String> {
        Ok(())
    }
}

fn object(data: Option<&RawValue>) -> Result<&RawValue, String> {
    match data {
        Some(raw) if raw.get().trim_start().starts_with('{') => Ok(raw),
        Some(raw) => Err(format!(
            "`data` is `{}`, not an object",
            lenient::short(raw.get())
        )),
        None => Err("`data` is missing".to_owned()),
    }
}

#[derive(Deserialize)]
struct TokenData {
    token: Option<Text>,
    #[serde(rename = "openId")]
    open_id: Option<Text>,
    #[serde(rename = "userId", default)]
    user_id: AnyText,
    #[serde(default)]
    aid: AnyText,
}

impl LinkvResponse for UserToken {
    const SECRET: bool = true;

    fn from_data(data: Option<&RawValue>) -> Result<Self, String> {
        let data: TokenData =
            serde_json::from_str(object(data)?.get()).map_err(|e| e.to_string())?;
        let token = data.token.ok_or("`data.token` is missing")?.0;
        if token.is_empty() || token.len() > 256 {
            return Err("`data.token` is empty or longer than 256 bytes".to_owned());
        }
        let open_id = data.open_id.ok_or("`data.openId` is missing")?.0;
        let open_id = OpenId::new(open_id).map_err(|e| format!("`data.openId`: {e}"))?;
        Ok(Self {
            token: LiveToken(token),
            open_id,
            user_id: data.user_id.0,
            aid: data.aid.0,
        })
    }
}

#[derive(Deserialize)]
struct BalanceData<'a> {
    #[serde(borrow)]
    tokens: Option<&'a RawValue>,
    /// The name of the field before 2020-08-26.
    #[serde(rename = "livemeTokens", borrow)]
    liveme_tokens: Option<&'a RawValue>,
}

/// The balance (`tokens`, formerly `livemeTokens`), a string or a number of coins.
impl LinkvResponse for Coins {
    fn from_data(data: Option<&RawValue>) -> Result<Self, String> {
        let data: BalanceData<'_> =
            serde_json::from_str(object(data)?.get()).map_err(|e| e.to_string())?;
        let raw = data
            .tokens
            .or(data.liveme_tokens)
            .ok_or("`data.tokens` is missing")?;
        let text = lenient::text_ref(raw)?.ok_or("`data.tokens` is null")?;
        match lenient::integer(&text) {
            Some(n) if n < 0 => Err(format!("`data.tokens` is negative ({n})")),
            Some(n) => Coins::new(n.unsigned_abs()).map_err(|e| e.to_string()),
            None => Err(format!(
                "`data.tokens` is not a whole number of coins: `{}`",
                lenient::short(&text)
            )),
        }
    }
}

/// Borrowed from the body: a success reads no text it does not need and copies none.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    msg: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// Reads a LinkV response: the HTTP status and the body, whatever its `Content-Type` says.
///
/// The envelope's `status` decides, not the HTTP status (the server answers errors with HTTP
/// 200 too). A body that is not a LinkV envelope (an HTML error page, truncated JSON) is
/// [`LinkvError::UnexpectedResponse`] with the start of the body kept.
///
/// ```
/// use liveapi_model::linkv::{decode, Coins, LinkvError};
///
/// let balance: Coins = decode(200, br#"{"data":{"tokens":"123"},"msg":"","status":"200"}"#)?;
/// assert_eq!(balance.get(), 123);
///
/// let err = decode::<Coins>(200, br#"{"status":403,"msg":"sign err","data":[]}"#).unwrap_err();
/// assert!(matches!(err, LinkvError::BadSignature { .. }));
///
/// let err = decode::<Coins>(502, b"<html>Bad Gateway</html>").unwrap_err();
/// assert!(err.is_retryable());
/// # Ok::<(), LinkvError>(())
/// ```
///
/// # Errors
/// The [`LinkvError`] the response stands for.
pub fn decode<T: LinkvResponse>(http_status: u16, body: &[u8]) -> Result<T, LinkvError> {
    let unexpected = |reason: String| LinkvError::UnexpectedResponse {
        http_status,
        reason,
        body: if T::SECRET {
            RawBody::withheld(body.len())
        } else {
            RawBody::new(body)
        },
    };
    let decoded = lenient::with_json(body, |json| {
        let envelope: Envelope<'_> = serde_json::from_slice(json)?;
        Ok(read(envelope, &unexpected))
    });
    decoded.unwrap_or_else(|e| Err(unexpected(format!("not a LinkV JSON envelope: {e}"))))
}

fn read<T: LinkvResponse>(
    envelope: Envelope<'_>,
    unexpected: &impl Fn(String) -> LinkvError,
) -> Result<T, LinkvError> {
    let status = envelope
        .status
        .map(lenient::text_ref)
        .transpose()
        .map_err(|e| unexpected(format!("`status`: {e}")))?
        .flatten()
        .ok_or_else(|| unexpected("`status` is missing".to_owned()))?;
    let status = lenient::integer(&status)
        .ok_or_else(|| unexpected(format!("`status` is not a number: `{status}`")))?;
    if status != 200 {
        let msg = envelope
            .msg
            .and_then(|m| lenient::text_ref(m).ok().flatten());
        return Err(LinkvError::classify(
            status,
            msg.map(Cow::into_owned).unwrap_or_default(),
        ));
    }
    T::from_data(envelope.data).map_err(unexpected)
}
