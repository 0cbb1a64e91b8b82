//! Polyv live (保利威) signing.
//!
//! # The algorithm
//!
//! 1. Take the parameters that travel in the **query string** (or a form body). A JSON request
//!    body is never signed.
//! 2. Drop empty values (the caller drops nulls) and the keys `sign` and `sign_type`, in any
//!    letter case.
//! 3. Sort keys by UTF-16 code units, as Java does (the same as byte order for ASCII keys:
//!    `Zeta < alpha`).
//! 4. Concatenate `key1value1key2value2…` with no separators, and wrap it as
//!    `secret + concat + secret`.
//! 5. MD5 over the UTF-8 bytes, written as 32 **uppercase** hex digits. If the parameters
//!    include `signatureMethod=SHA256`, SHA-256 instead (64 uppercase hex digits; needs the
//!    `sha256` feature). `signatureMethod` is itself one of the signed parameters.
//!
//! The concatenation has no separators, so `{ab: c}` and `{a: bc}` sign the same: a weakness of
//! the scheme, not of this crate.
//!
//! # Debugging `invalid signature.`
//!
//! Print [`canonical_string`] (its `Display` masks the secret) and check: `channelId` sent in
//! the JSON body instead of the query (it must be signed and sent in the query); a parameter
//! whose value was `null` signed as the text `"null"`; a stale `sign` signed along; lowercase
//! hex; a `timestamp` in seconds rather than milliseconds (the server answers `invalid
//! timestamp.` when it is more than three minutes off).
//!
//! ```
//! use liveapi_sign::polyv;
//!
//! let params = [
//!     ("channelIds", "2477096,2272655"),
//!     ("startDay", "2022-05-20"),
//!     ("endDay", "2022-06-18"),
//!     ("appId", "g4rqgmmjuo"),
//!     ("timestamp", "1660270926732"),
//! ];
//! let secret = "fsq2k5weced1h8vui657xtdva66whf0g";
//! let canonical = polyv::canonical_string(params, secret)?;
//! assert_eq!(
//!     canonical.params(),
//!     "appIdg4rqgmmjuochannelIds2477096,2272655endDay2022-06-18startDay2022-05-20timestamp1660270926732"
//! );
//! assert_eq!(polyv::sign(params, secret)?.as_str(), "0D2BDA2FD04D93A2B8832B91FD973C4D");
//! # Ok::<(), liveapi_sign::SignError>(())
//! ```

use std::fmt;
use std::time::{Duration, SystemTime};

use md5::Md5;

use crate::canonical::{CanonicalString, HashSink, Sink};
use crate::params::{self, KeyOrder, SortedParams};
use crate::signature::HexCase;
use crate::{SignError, Signature, VerifyError, window};

/// The parameter that carries the signature.
pub const SIGN_PARAM: &str = "sign";
/// The parameter that carries the request's time in unix milliseconds.
pub const TIMESTAMP_PARAM: &str = "timestamp";
/// The parameter that selects the digest.
pub const SIGNATURE_METHOD_PARAM: &str = "signatureMethod";
/// How far `timestamp` may be from the server's clock: three minutes.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(180);

/// The digest a Polyv signature uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SignatureMethod {
    /// MD5, the default when `signatureMethod` is absent.
    #[default]
    Md5,
    /// SHA-256, selected by `signatureMethod=SHA256`.
    Sha256,
}

impl SignatureMethod {
    /// The value of the `signatureMethod` parameter that selects this method.
    ///
    /// ```
    /// use liveapi_sign::polyv::SignatureMethod;
    /// assert_eq!(SignatureMethod::Sha256.as_str(), "SHA256");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA256",
        }
    }

    /// Reads the method from a `signatureMethod` value, which is case-sensitive.
    ///
    /// ```
    /// use liveapi_sign::polyv::SignatureMethod;
    /// assert_eq!(SignatureMethod::parse("SHA256"), Ok(SignatureMethod::Sha256));
    /// assert!(SignatureMethod::parse("sha256").is_err());
    /// ```
    ///
    /// # Errors
    /// [`SignError::UnsupportedSignatureMethod`] for anything but `MD5` and `SHA256`.
    pub fn parse(value: &str) -> Result<Self, SignError> {
        match value {
            "MD5" => Ok(Self::Md5),
            "SHA256" => Ok(Self::Sha256),
            other => Err(SignError::UnsupportedSignatureMethod {
                method: other.to_owned(),
            }),
        }
    }
}

impl fmt::Display for SignatureMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_signed(key: &str, value: &str) -> bool {
    !value.is_empty() && !key.eq_ignore_ascii_case("sign") && !key.eq_ignore_ascii_case("sign_type")
}

fn write_canonical(
    params: &SortedParams<'_, impl AsRef<str>, impl AsRef<str>>,
    secret: &str,
    sink: &mut impl Sink,
) {
    sink.put(secret);
    for (key, value) in params.iter().filter(|(k, v)| is_signed(k, v)) {
        sink.put(key);
        sink.put(value);
    }
    sink.put(secret);
}

fn method_of<K: AsRef<str>, V: AsRef<str>>(
    params: &SortedParams<'_, K, V>,
) -> Result<SignatureMethod, SignError> {
    match params.get(SIGNATURE_METHOD_PARAM) {
        None | Some("") => Ok(SignatureMethod::Md5),
        Some(value) => SignatureMethod::parse(value),
    }
}

fn sign_sorted(
    params: &SortedParams<'_, impl AsRef<str>, impl AsRef<str>>,
    secret: &str,
) -> Result<Signature, SignError> {
    match method_of(params)? {
        SignatureMethod::Md5 => {
            let mut sink = HashSink::<Md5>::new();
            write_canonical(params, secret, &mut sink);
            Ok(Signature::from_digest(&sink.finish(), HexCase::Upper))
        }
        #[cfg(feature = "sha256")]
        SignatureMethod::Sha256 => {
            let mut sink = HashSink::<sha2::Sha256>::new();
            write_canonical(params, secret, &mut sink);
            Ok(Signature::from_digest(&sink.finish(), HexCase::Upper))
        }
        #[cfg(not(feature = "sha256"))]
        SignatureMethod::Sha256 => Err(SignError::Sha256Disabled),
    }
}

/// The string Polyv computes the digest over, for debugging (printed masked).
///
/// ```
/// let s = liveapi_sign::polyv::canonical_string(
///     [("timestamp", "1621844038326"), ("appId", "frlr1zazn3"), ("channelId", ""), ("SIGN", "X")],
///     "secret",
/// )?;
/// assert_eq!(s.to_string(), "***appIdfrlr1zazn3timestamp1621844038326***");
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
///
/// # Errors
/// [`SignError::DuplicateKey`] if a key appears twice.
pub fn canonical_string<I, K, V>(params: I, secret: &str) -> Result<CanonicalString, SignError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    params::sorted(params, KeyOrder::Utf16, |sorted| {
        let mut text = String::new();
        write_canonical(sorted, secret, &mut text);
        CanonicalString::polyv(text, secret.len())
    })
}

/// Signs the query parameters: MD5 (or SHA-256, see [`SignatureMethod`]), uppercase hex.
///
/// Does not allocate for up to [`INLINE_PARAMS`](crate::INLINE_PARAMS) parameters.
///
/// ```
/// let sign = liveapi_sign::polyv::sign(
///     [("appId", "frlr1zazn3"), ("timestamp", "1621844038326"), ("channelId", "2149710")],
///     "fsq2k5weced1h8vui657xtdva66whf0g",
/// )?;
/// assert_eq!(sign.as_str(), "6FE33012E0A8BD754012801D325C34BC");
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
///
/// # Errors
/// [`SignError::DuplicateKey`] if a key appears twice; [`SignError::UnsupportedSignatureMethod`]
/// or [`SignError::Sha256Disabled`] for a `signatureMethod` that cannot be honoured.
#[must_use = "a computed signature does nothing unless it is sent"]
pub fn sign<I, K, V>(params: I, secret: &str) -> Result<Signature, SignError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    params::sorted(params, KeyOrder::Utf16, |sorted| {
        sign_sorted(sorted, secret)
    })?
}

/// Reads a `timestamp` value: exactly 13 digits of unix milliseconds.
///
/// ```
/// use std::time::Duration;
/// use liveapi_sign::polyv::parse_timestamp;
/// assert_eq!(parse_timestamp("1660270926732"), Ok(Duration::from_millis(1_660_270_926_732)));
/// assert!(parse_timestamp("1660270926").is_err()); // seconds, a common mistake
/// ```
///
/// # Errors
/// [`SignError::MalformedTimestamp`] for anything else.
pub fn parse_timestamp(timestamp: &str) -> Result<Duration, SignError> {
    if timestamp.len() != 13 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignError::MalformedTimestamp);
    }
    let millis = timestamp
        .bytes()
        .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    Ok(Duration::from_millis(millis))
}

/// Formats `now` as a `timestamp` value (13 digits of unix milliseconds).
///
/// The text lives in a fixed-size buffer, so formatting does not allocate.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let ts = liveapi_sign::polyv::timestamp(UNIX_EPOCH + Duration::from_millis(1_660_270_926_732))?;
/// assert_eq!(ts.as_str(), "1660270926732");
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
///
/// # Errors
/// [`SignError::TimeOutOfRange`] outside 2001-09-09 .. 2286-11-20.
pub fn timestamp(now: SystemTime) -> Result<Timestamp, SignError> {
    let millis = window::since_epoch(now)?.as_millis();
    if !(1_000_000_000_000..=9_999_999_999_999).contains(&millis) {
        return Err(SignError::TimeOutOfRange);
    }
    let mut text = [0u8; 13];
    let mut rest = millis;
    for slot in text.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    Ok(Timestamp(text))
}

/// A formatted Polyv `timestamp`: 13 digits of unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp([u8; 13]);

impl Timestamp {
    /// The digits.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let now = UNIX_EPOCH + Duration::from_millis(1_660_270_926_732);
    /// assert_eq!(liveapi_sign::polyv::timestamp(now)?.as_str(), "1660270926732");
    /// # Ok::<(), liveapi_sign::SignError>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        #[allow(clippy::expect_used)] // An invariant of the type, not an input check.
        std::str::from_utf8(&self.0).expect("a timestamp holds ASCII digits only")
    }
}

impl AsRef<str> for Timestamp {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks that a `timestamp` value lies within `window` of `now`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_sign::polyv;
///
/// let now = UNIX_EPOCH + Duration::from_millis(1_660_270_926_732 + 60_000);
/// assert!(polyv::check_timestamp("1660270926732", now, polyv::DEFAULT_WINDOW).is_ok());
/// assert!(polyv::check_timestamp("1660270926732", now + polyv::DEFAULT_WINDOW, polyv::DEFAULT_WINDOW).is_err());
/// ```
///
/// # Errors
/// [`VerifyError::Invalid`] for a malformed value, [`VerifyError::Stale`] outside the window.
pub fn check_timestamp(
    timestamp: &str,
    now: SystemTime,
    window: Duration,
) -> Result<(), VerifyError> {
    window::check(parse_timestamp(timestamp)?, now, window)
}

/// Verifies received query parameters, `sign` included, the way the Polyv server does.
///
/// The signature is checked first (constant time, exact case), then `timestamp` against `now`
/// and `window` (use [`DEFAULT_WINDOW`]).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_sign::{polyv, VerifyError};
///
/// let secret = "fsq2k5weced1h8vui657xtdva66whf0g";
/// let params = [
///     ("appId", "frlr1zazn3"),
///     ("timestamp", "1621844038326"),
///     ("channelId", "2149710"),
///     ("sign", "6FE33012E0A8BD754012801D325C34BC"),
/// ];
/// let now = UNIX_EPOCH + Duration::from_millis(1_621_844_038_326);
/// assert_eq!(polyv::verify(params, secret, now, polyv::DEFAULT_WINDOW), Ok(()));
/// let lowercase = [("appId", "frlr1zazn3"), ("timestamp", "1621844038326"),
///     ("channelId", "2149710"), ("sign", "6fe33012e0a8bd754012801d325c34bc")];
/// assert_eq!(polyv::verify(lowercase, secret, now, polyv::DEFAULT_WINDOW), Err(VerifyError::Mismatch));
/// ```
///
/// # Errors
/// [`VerifyError::Missing`] without `sign` or `timestamp`, [`VerifyError::Invalid`] for
/// duplicate keys, malformed values or an unusable `signatureMethod`,
/// [`VerifyError::Mismatch`] for a wrong signature, [`VerifyError::Stale`] outside the window.
pub fn verify<I, K, V>(
    params: I,
    secret: &str,
    now: SystemTime,
    window: Duration,
) -> Result<(), VerifyError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    params::sorted(params, KeyOrder::Utf16, |sorted| {
        let received = sorted.present(SIGN_PARAM)?;
        received.parse::<Signature>()?;
        if !sign_sorted(sorted, secret)?.matches(received) {
            return Err(VerifyError::Mismatch);
        }
        check_timestamp(sorted.present(TIMESTAMP_PARAM)?, now, window)
    })?
}
