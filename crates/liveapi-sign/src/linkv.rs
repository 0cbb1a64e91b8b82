//! LinkV live (互动娱乐) signing.
//!
//! # The algorithm
//!
//! 1. Take every parameter that is sent, except `sign`, and drop those whose value is the empty
//!    string. `"0"`, `" "` and `"null"` are ordinary values and are signed.
//! 2. Sort by key in byte order: uppercase before lowercase, `_` after the uppercase letters,
//!    so `NAME < Name < app_id < nAme < name`.
//! 3. Join as `key=value` with `&`. Values are taken raw: not URL-encoded, not URL-decoded.
//! 4. Append `&key=<live_app_secret>`. With no parameters left the string is just
//!    `&key=<secret>`.
//! 5. MD5 over the UTF-8 bytes, written as 32 **lowercase** hex digits.
//!
//! Duplicate keys are refused with [`SignError::DuplicateKey`]: a server and a signer that pick
//! different copies disagree on the signature.
//!
//! # Debugging `sign err`
//!
//! Print [`canonical_string`] for the exact parameters you send (its `Display` masks the
//! secret) and check, in order: a parameter you send but did not sign, or the reverse; an empty
//! value that was signed; values URL-encoded before signing (`a%20b` instead of `a b`); keys
//! sorted case-insensitively; the secret of another app (`live_app_secret` is the decrypted
//! one, not the console's `app_secret`); uppercase hex; a nonce more than five minutes from
//! the server's clock (see [`Nonce`]).
//!
//! ```
//! use liveapi_sign::linkv;
//!
//! let params = [
//!     ("app_id", "LM6000101140927991745433"),
//!     ("nonce_str", "24dcadd615637909402f4877b0"),
//!     ("uid", "1291371456374120449"),
//! ];
//! let secret = "0123456789abcdef0123456789abcdef";
//! assert_eq!(
//!     linkv::canonical_string(params, secret)?.to_string(),
//!     "app_id=LM6000101140927991745433&nonce_str=24dcadd615637909402f4877b0\
//!      &uid=1291371456374120449&key=***",
//! );
//! assert_eq!(linkv::sign(params, secret)?.as_str(), "1fbb078cfc348c445728b79bb06c0a3d");
//! # Ok::<(), liveapi_sign::SignError>(())
//! ```

use std::time::{Duration, SystemTime};

use md5::Md5;

use crate::canonical::{CanonicalString, HashSink, Sink};
pub use crate::nonce::Nonce;
use crate::params::{self, KeyOrder, SortedParams};
use crate::signature::HexCase;
use crate::{SignError, Signature, VerifyError, window};

/// The parameter that carries the signature; it is never signed itself.
pub const SIGN_PARAM: &str = "sign";
/// The parameter that carries the nonce and, inside it, the request's time.
pub const NONCE_PARAM: &str = "nonce_str";
/// How far a nonce's time may be from the server's clock: five minutes.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);
/// Joins the parameters to the secret.
pub(crate) const KEY_SUFFIX: &str = "&key=";

fn write_canonical(
    params: &SortedParams<'_, impl AsRef<str>, impl AsRef<str>>,
    secret: &str,
    sink: &mut impl Sink,
) {
    let signed = params
        .iter()
        .filter(|(k, v)| !v.is_empty() && *k != SIGN_PARAM);
    for (i, (key, value)) in signed.enumerate() {
        if i > 0 {
            sink.put("&");
        }
        sink.put(key);
        sink.put("=");
        sink.put(value);
    }
    sink.put(KEY_SUFFIX);
    sink.put(secret);
}

fn sign_sorted(
    params: &SortedParams<'_, impl AsRef<str>, impl AsRef<str>>,
    secret: &str,
) -> Signature {
    let mut sink = HashSink::<Md5>::new();
    write_canonical(params, secret, &mut sink);
    Signature::from_digest(&sink.finish(), HexCase::Lower)
}

/// The string LinkV computes the MD5 over, for debugging and for logs (printed masked).
///
/// A `sign` parameter, if present, is left out, as are empty values.
///
/// ```
/// let s = liveapi_sign::linkv::canonical_string(
///     [("value", "0"), ("reason", ""), ("sign", "x"), ("Uid", "7")],
///     "secret",
/// )?;
/// assert_eq!(s.to_string(), "Uid=7&value=0&key=***");
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
    params::sorted(params, KeyOrder::Bytes, |sorted| {
        let mut text = String::new();
        write_canonical(sorted, secret, &mut text);
        CanonicalString::linkv(text, secret.len())
    })
}

/// Signs the parameters: MD5 of the canonical string, lowercase hex.
///
/// Does not allocate for up to [`INLINE_PARAMS`](crate::INLINE_PARAMS) parameters.
///
/// ```
/// let sign = liveapi_sign::linkv::sign(
///     [("app_id", "LM6000101140927991745433"), ("nonce_str", "24dcadd615637909402f4877b0"),
///      ("uid", "1291371456374120449")],
///     "0123456789abcdef0123456789abcdef",
/// )?;
/// assert_eq!(sign.to_string(), "1fbb078cfc348c445728b79bb06c0a3d");
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
///
/// # Errors
/// [`SignError::DuplicateKey`] if a key appears twice.
#[must_use = "a computed signature does nothing unless it is sent"]
pub fn sign<I, K, V>(params: I, secret: &str) -> Result<Signature, SignError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    params::sorted(params, KeyOrder::Bytes, |sorted| {
        sign_sorted(sorted, secret)
    })
}

/// Checks that the nonce's time lies within `window` of `now`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_sign::{linkv, VerifyError};
///
/// let nonce = "24dcadd615637909402f4877b0"; // 1563790940
/// let now = UNIX_EPOCH + Duration::from_secs(1_563_790_940 + 299);
/// assert!(linkv::check_nonce(nonce, now, linkv::DEFAULT_WINDOW).is_ok());
/// let later = now + Duration::from_secs(2);
/// assert!(matches!(
///     linkv::check_nonce(nonce, later, linkv::DEFAULT_WINDOW),
///     Err(VerifyError::Stale { ahead: false, .. })
/// ));
/// ```
///
/// # Errors
/// [`VerifyError::Invalid`] for a malformed nonce, [`VerifyError::Stale`] outside the window.
pub fn check_nonce(nonce: &str, now: SystemTime, window: Duration) -> Result<(), VerifyError> {
    let nonce: Nonce = nonce.parse()?;
    window::check(nonce.timestamp(), now, window)
}

/// Verifies received parameters, `sign` included, the way the LinkV server does.
///
/// The signature is checked first (in constant time, letter case included), then the nonce's
/// time against `now` and `window` (use [`DEFAULT_WINDOW`]).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_sign::{linkv, VerifyError};
///
/// let secret = "0123456789abcdef0123456789abcdef";
/// let mut params = vec![
///     ("app_id", "LM6000101140927991745433"),
///     ("nonce_str", "24dcadd615637909402f4877b0"),
///     ("uid", "1291371456374120449"),
/// ];
/// let sign = linkv::sign(params.iter().copied(), secret)?;
/// params.push(("sign", sign.as_str()));
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_563_790_940 + 10);
/// assert_eq!(linkv::verify(params.iter().copied(), secret, now, linkv::DEFAULT_WINDOW), Ok(()));
/// assert_eq!(
///     linkv::verify(params.iter().copied(), "another secret", now, linkv::DEFAULT_WINDOW),
///     Err(VerifyError::Mismatch)
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`VerifyError::Missing`] without `sign` or `nonce_str`, [`VerifyError::Invalid`] for
/// duplicate keys or malformed values, [`VerifyError::Mismatch`] for a wrong signature,
/// [`VerifyError::Stale`] for a nonce outside the window.
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
    params::sorted(params, KeyOrder::Bytes, |sorted| {
        let received = sorted.present(SIGN_PARAM)?;
        received.parse::<Signature>()?;
        if !sign_sorted(sorted, secret).matches(received) {
            return Err(VerifyError::Mismatch);
        }
        check_nonce(sorted.present(NONCE_PARAM)?, now, window)
    })?
}
