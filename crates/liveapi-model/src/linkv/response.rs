//! What the LinkV server answers, read tolerantly.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Coins, OpenId};
use crate::RawBody;
use crate::lenient::{self, AnyText};
use crate::validate::ISSUED_BYTES;
use crate::{ApiError, Vendor};

/// A live token for the 互动娱乐 SDK (`token`).
///
/// The vendor documents it as within 256 bytes (`docs/linkv.md#answers`), but the server
/// issues it, so an answer is not held to that: any non-empty token up to 4096 bytes is read.
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
    /// Your app's id for the user, echoed back as the server wrote it (not checked against
    /// [`UserId`](super::UserId)'s rules: the server issued it).
    pub user_id: Option<String>,
    /// The device id, echoed back as the server wrote it.
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

/// Borrowed from the body, every field raw: a value that cannot be read is reported by its
/// name only, because any part of this answer may be the user's live token.
#[derive(Deserialize)]
struct TokenData<'a> {
    #[serde(borrow)]
    token: Option<&'a RawValue>,
    #[serde(rename = "openId", borrow)]
    open_id: Option<&'a RawValue>,
    #[serde(rename = "userId", default)]
    user_id: AnyText,
    #[serde(default)]
    aid: AnyText,
}

/// The text of a field of a token answer, or an error that names the field and quotes none
/// of the answer.
fn secret_text(raw: Option<&RawValue>, field: &str) -> Result<String, String> {
    let raw = raw.ok_or_else(|| format!("`data.{field}` is missing"))?;
    match lenient::text(raw) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(format!("`data.{field}` is null")),
        Err(_) => Err(format!("`data.{field}` is not a string or a number")),
    }
}

/// Server-issued values are read as they come (any text, numbers as their digits), only bounded:
/// the documented limits (`docs/linkv.md#validation-rules`) are rules for what is sent, not for
/// what is answered. No error quotes any part of the answer: it may carry the user's live token.
impl LinkvResponse for UserToken {
    const SECRET: bool = true;

    fn from_data(data: Option<&RawValue>) -> Result<Self, String> {
        let data = match data {
            Some(raw) if raw.get().trim_start().starts_with('{') => raw,
            Some(_) => return Err("`data` is not an object".to_owned()),
            None => return Err("`data` is missing".to_owned()),
        };
        let data: TokenData<'_> = serde_json::from_str(data.get())
            .map_err(|_| "`data` is not an object of the token answer's fields".to_owned())?;
        let token = secret_text(data.token, "token")?;
        if token.is_empty() || token.len() > ISSUED_BYTES {
            return Err(format!(
                "`data.token` is empty or longer than {ISSUED_BYTES} bytes"
            ));
        }
        let open_id = secret_text(data.open_id, "openId")?;
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
    #[serde(rename = "isMigrate", borrow)]
    is_migrate: Option<&'a RawValue>,
}

impl BalanceData<'_> {
    fn read(data: Option<&RawValue>) -> Result<BalanceData<'_>, String> {
        serde_json::from_str(object(data)?.get()).map_err(|e| e.to_string())
    }

    fn coins(&self) -> Result<Coins, String> {
        let raw = self
            .tokens
            .or(self.liveme_tokens)
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

/// The balance (`tokens`, formerly `livemeTokens`), a string or a number of coins: what
/// `orderSuccess` answers.
impl LinkvResponse for Coins {
    fn from_data(data: Option<&RawValue>) -> Result<Self, String> {
        BalanceData::read(data)?.coins()
    }
}

/// The answer to `getUserTokens`: the balance, and the `isMigrate` flag when the server sends
/// one.
///
/// ```
/// use liveapi_model::linkv::{decode, Balance};
///
/// let balance: Balance = decode(200, br#"{"status":"200","data":{"tokens":"123","isMigrate":1}}"#)?;
/// assert_eq!(balance.coins.get(), 123);
/// assert_eq!(balance.is_migrate.as_deref(), Some("1"));
/// assert_eq!(balance.is_migrated(), Some(true));
///
/// let balance: Balance = decode(200, br#"{"status":"200","data":{"tokens":"7"}}"#)?;
/// assert_eq!((balance.coins.get(), balance.is_migrate), (7, None));
/// # Ok::<(), liveapi_model::ApiError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Balance {
    /// The coins that have not expired (`tokens`, formerly `livemeTokens`).
    pub coins: Coins,
    /// `isMigrate` as the server wrote it (a string, a number's digits, `true` or `false`),
    /// if it sent one. It is known only to appear at times (`docs/linkv.md#answers`); its
    /// meaning is undocumented.
    pub is_migrate: Option<String>,
}

impl Balance {
    /// A balance without `isMigrate`, as an emulator or a test double would build it.
    #[must_use]
    pub fn new(coins: Coins) -> Self {
        Self {
            coins,
            is_migrate: None,
        }
    }

    /// `isMigrate` read as a flag: `1` or `true` is `Some(true)`, `0` or `false` is
    /// `Some(false)`, anything else (or nothing) is `None`.
    #[must_use]
    pub fn is_migrated(&self) -> Option<bool> {
        match self.is_migrate.as_deref()?.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        }
    }
}

/// The coins, as a number: `123`.
impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.coins, f)
    }
}

impl LinkvResponse for Balance {
    fn from_data(data: Option<&RawValue>) -> Result<Self, String> {
        let data = BalanceData::read(data)?;
        Ok(Self {
            coins: data.coins()?,
            is_migrate: data.is_migrate.and_then(lenient::scalar_text),
        })
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
/// The envelope's `status` decides, whatever the HTTP status: the real server answers its
/// errors with HTTP 200 and the error in the body (`docs/linkv.md#how-the-real-server-answers`),
/// and an HTTP error status with a LinkV envelope is read the same way. A body that is not a
/// LinkV envelope (an HTML error page, truncated JSON) is
/// [`UnreadableAnswer`](crate::ApiErrorKind::UnreadableAnswer); a success whose `data` is not
/// what the call returns is [`UnreadableData`](crate::ApiErrorKind::UnreadableData). Every
/// error keeps the start of the body, except where the answer may carry a live token.
///
/// ```
/// use liveapi_model::linkv::{decode, Coins};
/// use liveapi_model::ApiErrorKind;
///
/// let balance: Coins = decode(200, br#"{"data":{"tokens":"123"},"msg":"","status":"200"}"#)?;
/// assert_eq!(balance.get(), 123);
///
/// let err = decode::<Coins>(200, br#"{"status":403,"msg":"sign err","data":[]}"#).unwrap_err();
/// assert_eq!(err.kind(), ApiErrorKind::BadSignature);
///
/// let err = decode::<Coins>(502, b"<html>Bad Gateway</html>").unwrap_err();
/// assert_eq!(err.kind(), ApiErrorKind::UnreadableAnswer);
///
/// // An error in an HTTP 200 answer, as the real server sends it.
/// let err = decode::<Coins>(200, br#"{"status":"500","msg":"system err","data":[]}"#).unwrap_err();
/// assert_eq!((err.kind(), err.code(), err.http_status()), (ApiErrorKind::ServerError, Some(500), 200));
/// # Ok::<(), liveapi_model::ApiError>(())
/// ```
///
/// # Errors
/// The [`ApiError`] the response stands for.
pub fn decode<T: LinkvResponse>(http_status: u16, body: &[u8]) -> Result<T, ApiError> {
    let kept = || {
        if T::SECRET {
            RawBody::withheld(body.len())
        } else {
            RawBody::new(body)
        }
    };
    let unexpected =
        |reason: String| ApiError::unreadable_answer(Vendor::Linkv, http_status, reason, kept());
    let unreadable =
        |reason: String| ApiError::unreadable_data(Vendor::Linkv, http_status, reason, kept());
    let refused = |status: i64, message: String| {
        ApiError::linkv(status, message)
            .with_http_status(http_status)
            .with_body(kept())
    };
    let decoded = lenient::with_json(body, |json| {
        let envelope: Envelope<'_> = serde_json::from_slice(json)?;
        Ok(read(envelope, &unexpected, &unreadable, &refused))
    });
    decoded.unwrap_or_else(|e| Err(unexpected(format!("not a LinkV JSON envelope: {e}"))))
}

fn read<T: LinkvResponse>(
    envelope: Envelope<'_>,
    unexpected: &impl Fn(String) -> ApiError,
    unreadable: &impl Fn(String) -> ApiError,
    refused: &impl Fn(i64, String) -> ApiError,
) -> Result<T, ApiError> {
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
        return Err(refused(
            status,
            msg.map(Cow::into_owned).unwrap_or_default(),
        ));
    }
    T::from_data(envelope.data).map_err(unreadable)
}
