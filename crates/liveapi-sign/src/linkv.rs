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

/// Which values a canonical string takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// The documented rule: empty values are left out.
    Documented,
    /// Empty values kept, as `k=`: the official Go and Python SDKs.
    EmptyKept,
    /// Empty values and the value `0` left out: the official Node SDK, which drops the
    /// number 0.
    ZeroDropped,
}

impl Form {
    fn signs(self, value: &str) -> bool {
        match self {
            Self::Documented => !value.is_empty(),
            Self::EmptyKept => true,
            Self::ZeroDropped => !value.is_empty() && value != "0",
        }
    }
}

fn write_canonical(
    params: &SortedParams<'_, impl AsRef<str>, impl AsRef<str>>,
    secret: &str,
    sink: &mut impl Sink,
) {
    write_canonical_as(params, secret, sink, Form::Documented);
}

fn write_canonical_as(
    params: &SortedParams<'_, impl AsRef<str>, impl AsRef<str>>,
    secret: &str,
    sink: &mut impl Sink,
    form: Form,
) {
    let signed = params
        .iter()
        .filter(|(k, v)| form.signs(v) && *k != SIGN_PARAM);
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
    sign_sorted_as(params, secret, Form::Documented)
}

fn sign_sorted_as(
    params: &SortedParams<'_, impl AsRef<str>, impl AsRef<str>>,
    secret: &str,
    form: Form,
) -> Signature {
    let mut sink = HashSink::<Md5>::new();
    write_canonical_as(params, secret, &mut sink, form);
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

/// Verifies like [`verify`], and also accepts the signatures the vendor's official SDKs
/// compute over other canonical strings, for a server that must take whatever the real one
/// takes (`docs/linkv.md#what-the-official-sdks-send`):
///
/// - empty values signed as `k=` (the Go and Python SDKs), where the documented rule leaves
///   them out;
/// - a value `0` left unsigned (the Node SDK drops the number 0).
///
/// A client never signs these ways: [`sign`] is the documented rule. Each form is a full MD5
/// signature with the secret, compared in constant time, so accepting them admits no request
/// that was not signed with the secret. The extra forms are computed only when the parameters
/// hold an empty value or a `0`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_sign::{linkv, VerifyError};
///
/// let secret = "0123456789abcdef0123456789abcdef";
/// let nonce = "24dcadd615637909402f4877b0"; // 1563790940
/// let now = UNIX_EPOCH + Duration::from_secs(1_563_790_940);
/// // The Node SDK sends `sex=0` but leaves it out of what it signs.
/// let node = linkv::sign([("app_id", "a"), ("nonce_str", nonce), ("userId", "u")], secret)?;
/// let sent = [("app_id", "a"), ("nonce_str", nonce), ("sex", "0"), ("userId", "u"), ("sign", node.as_str())];
/// assert_eq!(linkv::verify(sent, secret, now, linkv::DEFAULT_WINDOW), Err(VerifyError::Mismatch));
/// assert_eq!(linkv::verify_lenient(sent, secret, now, linkv::DEFAULT_WINDOW), Ok(()));
/// // Another secret still fails.
/// assert_eq!(linkv::verify_lenient(sent, "other", now, linkv::DEFAULT_WINDOW), Err(VerifyError::Mismatch));
/// # Ok::<(), liveapi_sign::SignError>(())
/// ```
///
/// # Errors
/// As [`verify`]: [`VerifyError::Mismatch`] if no accepted form matches.
pub fn verify_lenient<I, K, V>(
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
        let has = |pred: fn(&str) -> bool| sorted.iter().any(|(k, v)| k != SIGN_PARAM && pred(v));
        let mut forms = [Some(Form::Documented), None, None];
        if has(str::is_empty) {
            forms[1] = Some(Form::EmptyKept);
        }
        if has(|v| v == "0") {
            forms[2] = Some(Form::ZeroDropped);
        }
        let matched = forms
            .into_iter()
            .flatten()
            .any(|form| sign_sorted_as(sorted, secret, form).matches(received));
        if !matched {
            return Err(VerifyError::Mismatch);
        }
        check_nonce(sorted.present(NONCE_PARAM)?, now, window)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::Digest;

    fn md5_hex(text: &str) -> String {
        Md5::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const NONCE: &str = "24dcadd615637909402f4877b0";

    fn now() -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_563_790_940)
    }

    #[test]
    fn lenient_verification_takes_the_official_sdks_forms() {
        // The Go and Python SDKs sign an empty value as `k=`.
        let go = md5_hex(&format!(
            "app_id=a&nonce_str={NONCE}&reason=&uid=7&key={SECRET}"
        ));
        let sent = [
            ("app_id", "a"),
            ("nonce_str", NONCE),
            ("reason", ""),
            ("uid", "7"),
            ("sign", go.as_str()),
        ];
        assert_eq!(
            verify(sent, SECRET, now(), DEFAULT_WINDOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(verify_lenient(sent, SECRET, now(), DEFAULT_WINDOW), Ok(()));

        // The documented form is accepted too, and a wrong one is not.
        let documented = sign(sent, SECRET).unwrap();
        let mut sent = sent;
        sent[4].1 = documented.as_str();
        assert_eq!(verify_lenient(sent, SECRET, now(), DEFAULT_WINDOW), Ok(()));
        let wrong = md5_hex("something else");
        sent[4].1 = wrong.as_str();
        assert_eq!(
            verify_lenient(sent, SECRET, now(), DEFAULT_WINDOW),
            Err(VerifyError::Mismatch)
        );
        // The nonce is still checked.
        let late = now() + Duration::from_secs(301);
        sent[4].1 = go.as_str();
        assert!(matches!(
            verify_lenient(sent, SECRET, late, DEFAULT_WINDOW),
            Err(VerifyError::Stale { .. })
        ));
    }

    #[test]
    fn the_documented_canonical_string_is_unchanged() {
        let params = [("b", "0"), ("a", ""), ("c", "x")];
        assert_eq!(
            sign(params, SECRET).unwrap().as_str(),
            md5_hex(&format!("b=0&c=x&key={SECRET}"))
        );
    }
}
