//! Quantities: coins, US cents, expiry times, and what a change does.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ValidationError;
use crate::validate::{Check, Rule};

/// Parses a wire integer: ASCII digits only, no sign, no spaces.
fn parse_digits(
    field: &'static str,
    s: &str,
    max: u64,
    range: &'static str,
) -> Result<u64, ValidationError> {
    let check = Check { field };
    check.non_empty(s)?;
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(check.fail(Rule::Format {
            expected: "a whole number written in digits",
        }));
    }
    s.parse::<u64>()
        .ok()
        .filter(|v| *v <= max)
        .ok_or(check.fail(Rule::Range { range }))
}

const I64_RANGE: &str = "at most 9223372036854775807";

/// A number of coins: a balance, or the size of a change (`value`, `tokens`).
///
/// At most `i64::MAX`: the vendor gives no limit (`docs/linkv.md#validation-rules`), and this is
/// the largest count a server's integer holds (PHP's, Java's or Go's), so a larger one could only
/// be misread.
///
/// ```
/// use liveapi_model::linkv::Coins;
/// let coins = Coins::new(100)?;
/// assert_eq!(coins.get(), 100);
/// assert_eq!(coins.to_string(), "100");
/// assert!(Coins::new(u64::MAX).is_err());
/// # Ok::<(), liveapi_model::ValidationError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coins(u64);

impl Coins {
    /// The largest number of coins.
    pub const MAX: Self = Self(i64::MAX as u64);
    /// No coins.
    pub const ZERO: Self = Self(0);

    /// Wraps a count of coins.
    ///
    /// # Errors
    /// A [`ValidationError`] above [`Coins::MAX`].
    pub fn new(coins: u64) -> Result<Self, ValidationError> {
        if coins > Self::MAX.0 {
            return Err(Check { field: "value" }.fail(Rule::Range {
                range: "at most 9223372036854775807",
            }));
        }
        Ok(Self(coins))
    }

    /// The count.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `self + other`, or `None` past [`Coins::MAX`].
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0
            .checked_add(other.0)
            .filter(|v| *v <= Self::MAX.0)
            .map(Self)
    }

    /// `self - other`, or `None` below zero.
    #[must_use]
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }
}

impl fmt::Display for Coins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Coins {
    type Err = ValidationError;

    /// Parses the wire form: digits only.
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        parse_digits("value", s, Self::MAX.0, I64_RANGE).map(Self)
    }
}

/// An amount of money in US cents (`money` of `orderSuccess`: the US dollars topped up, in
/// cents, an `int`: `docs/linkv.md#validation-rules`).
///
/// ```
/// use liveapi_model::linkv::UsdCents;
/// assert_eq!(UsdCents::new(199).to_string(), "199");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsdCents(u32);

impl UsdCents {
    /// Wraps a number of cents (up to $42,949,672.95 per order).
    #[must_use]
    pub const fn new(cents: u32) -> Self {
        Self(cents)
    }

    /// The number of cents.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for UsdCents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for UsdCents {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        let v = parse_digits("money", s, u64::from(u32::MAX), "at most 4294967295")?;
        Ok(Self(v as u32))
    }
}

/// When credited coins expire (`expriation`, misspelled by the API): whole unix seconds.
///
/// Compute it once per operation, before the first attempt, so that retries send the same
/// value: the server compares a repeated `request_id`'s parameters.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_model::linkv::Expiration;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
/// let exp = Expiration::after_days(now, 91);
/// assert_eq!(exp.unix_seconds(), 1_600_000_000 + 91 * 86_400);
/// assert_eq!(exp.to_string(), "1607862400");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiration(u64);

impl Expiration {
    /// At a unix time in seconds.
    #[must_use]
    pub const fn at_unix_seconds(secs: u64) -> Self {
        Self(secs)
    }

    /// At `now` plus a number of days (`now + days × 86400`, the whole seconds of `now`).
    #[must_use]
    pub fn after_days(now: SystemTime, days: u32) -> Self {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        Self(now.saturating_add(u64::from(days) * 86_400))
    }

    /// At the start (00:00 UTC) of the day `days` after today: the vendor's own example,
    /// `(time() / 86400 + days) * 86400`.
    ///
    /// Unlike [`after_days`](Self::after_days) it is the same all day, so a coin change resent
    /// later that day (by a retry, or by a process that restarted) carries the same
    /// parameters as the first sending, which a server deduplicating by `request_id` expects.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use liveapi_model::linkv::Expiration;
    ///
    /// let morning = UNIX_EPOCH + Duration::from_secs(1_600_041_600 + 60); // 2020-09-14 00:01 UTC
    /// let evening = morning + Duration::from_secs(23 * 3600);
    /// let exp = Expiration::days_from_today(morning, 91);
    /// assert_eq!(exp, Expiration::days_from_today(evening, 91));
    /// assert_eq!(exp.unix_seconds(), 1_600_041_600 + 91 * 86_400);
    /// ```
    #[must_use]
    pub fn days_from_today(now: SystemTime, days: u32) -> Self {
        let today = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400;
        Self(today.saturating_add(u64::from(days)).saturating_mul(86_400))
    }

    /// The unix time in seconds.
    #[must_use]
    pub const fn unix_seconds(self) -> u64 {
        self.0
    }

    /// The time as a [`SystemTime`], or `None` past what the platform's clock can hold.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use liveapi_model::linkv::Expiration;
    /// let exp = Expiration::at_unix_seconds(1_600_000_000);
    /// assert_eq!(exp.as_system_time(), Some(UNIX_EPOCH + Duration::from_secs(1_600_000_000)));
    /// assert_eq!(Expiration::at_unix_seconds(u64::MAX).as_system_time(), None);
    /// ```
    #[must_use]
    pub fn as_system_time(self) -> Option<SystemTime> {
        UNIX_EPOCH.checked_add(Duration::from_secs(self.0))
    }
}

impl fmt::Display for Expiration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Expiration {
    type Err = ValidationError;

    /// Parses whole seconds as the server reads them (what a server or an emulator does).
    ///
    /// The vendor documents an `int`, and this crate always sends one. The official Python SDK in
    /// production sends a float's text (`1796343222.0`), which the server's integer cast takes
    /// (`docs/linkv.md#what-the-official-sdks-send`), so digits followed by a fraction of zeros are
    /// read too. Anything else (`1.5`, `1e9`, `-1`, ` 1`) is refused. At most `i64::MAX`, the
    /// largest a server's integer holds; the Node SDK's string-concatenated expiries
    /// (`1796084294259200`) fit.
    ///
    /// ```
    /// use liveapi_model::linkv::Expiration;
    /// assert_eq!("1796343222".parse::<Expiration>()?.unix_seconds(), 1_796_343_222);
    /// assert_eq!("1796343222.0".parse::<Expiration>()?.unix_seconds(), 1_796_343_222);
    /// assert_eq!("1796343222.000".parse::<Expiration>()?.to_string(), "1796343222");
    /// assert!("1796343222.5".parse::<Expiration>().is_err());
    /// assert!("1796343222.".parse::<Expiration>().is_err());
    /// assert!("1.8e9".parse::<Expiration>().is_err());
    /// # Ok::<(), liveapi_model::ValidationError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "expriation";
        let whole = match s.split_once('.') {
            Some((whole, fraction))
                if !whole.is_empty()
                    && !fraction.is_empty()
                    && fraction.bytes().all(|b| b == b'0') =>
            {
                whole
            }
            Some(_) => {
                return Err(Check { field: FIELD }.fail(Rule::Format {
                    expected: "whole seconds, written in digits (a fraction of zeros is ignored)",
                }));
            }
            None => s,
        };
        parse_digits(FIELD, whole, i64::MAX as u64, I64_RANGE).map(Self)
    }
}

/// Whether a change adds or removes coins (`type`): `1` adds, `2` removes
/// (`docs/linkv.md#validation-rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeType {
    /// `1`: credit coins.
    Add,
    /// `2`: take coins away.
    Remove,
}

impl ChangeType {
    /// The value as sent on the wire.
    ///
    /// ```
    /// assert_eq!(liveapi_model::linkv::ChangeType::Remove.as_str(), "2");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Add => "1",
            Self::Remove => "2",
        }
    }
}

impl FromStr for ChangeType {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        match s {
            "1" => Ok(Self::Add),
            "2" => Ok(Self::Remove),
            _ => Err(Check { field: "type" }.fail(Rule::Format {
                expected: "1 (add) or 2 (remove)",
            })),
        }
    }
}

impl fmt::Display for ChangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a top-up was paid (`platform`): `h5`, `ios` or `android`
/// (`docs/linkv.md#validation-rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// `h5`: a web page.
    H5,
    /// `ios`.
    Ios,
    /// `android`.
    Android,
}

impl Platform {
    /// The value as sent on the wire.
    ///
    /// ```
    /// assert_eq!(liveapi_model::linkv::Platform::Ios.as_str(), "ios");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::H5 => "h5",
            Self::Ios => "ios",
            Self::Android => "android",
        }
    }
}

impl FromStr for Platform {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, ValidationError> {
        match s {
            "h5" => Ok(Self::H5),
            "ios" => Ok(Self::Ios),
            "android" => Ok(Self::Android),
            _ => Err(Check { field: "platform" }.fail(Rule::Format {
                expected: "h5, ios or android",
            })),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::validate::try_from_str!(Coins, UsdCents, Expiration, ChangeType, Platform);
