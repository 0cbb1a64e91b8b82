//! What can go wrong when signing or verifying.
//!
//! The `Display` and `Error` impls are written out by hand rather than derived with
//! `thiserror`, so that this crate depends on `md-5` alone (and `sha2` with its feature).

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// The parameters or inputs could not be signed.
///
/// Every variant is a caller mistake that retrying will not fix; none carries a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The same key appeared twice. Servers read one value while a signer may read the other,
    /// so the request would be rejected with a signature error at best.
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
    /// Polyv's `signatureMethod` named an algorithm this crate does not know.
    UnsupportedSignatureMethod {
        /// The value that was given.
        method: String,
    },
    /// Polyv's `signatureMethod=SHA256` was asked for but the `sha256` feature is off.
    Sha256Disabled,
    /// A signature was not 32 or 64 hexadecimal digits.
    MalformedSignature,
    /// A LinkV `nonce_str` was not 8 alphanumerics, a 10-digit unix time and 8 alphanumerics.
    MalformedNonce,
    /// A Polyv `timestamp` was not a 13-digit unix time in milliseconds.
    MalformedTimestamp,
    /// The time given cannot be written the way the vendor wants it (before 2001-09-09 or
    /// after 2286-11-20 for a LinkV nonce, or before the unix epoch).
    TimeOutOfRange,
    /// The randomness source kept returning bytes that unbiased sampling has to reject; it is
    /// almost certainly broken (for example, it always returns `0xFF`).
    RandomnessExhausted,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateKey { key } => write!(f, "parameter `{key}` is given more than once"),
            Self::UnsupportedSignatureMethod { method } => write!(
                f,
                "unsupported signatureMethod `{method}` (expected `MD5` or `SHA256`)"
            ),
            Self::Sha256Disabled => {
                f.write_str("signatureMethod=SHA256 needs the `sha256` feature of liveapi-sign")
            }
            Self::MalformedSignature => f.write_str("signature is not 32 or 64 hexadecimal digits"),
            Self::MalformedNonce => f.write_str(
                "nonce_str is not 8 alphanumerics + 10-digit unix seconds + 8 alphanumerics",
            ),
            Self::MalformedTimestamp => {
                f.write_str("timestamp is not a 13-digit unix time in milliseconds")
            }
            Self::TimeOutOfRange => {
                f.write_str("time cannot be written in the vendor's timestamp format")
            }
            Self::RandomnessExhausted => {
                f.write_str("randomness source returned only bytes that had to be rejected")
            }
        }
    }
}

impl Error for SignError {}

/// A request did not pass verification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The parameters could not be read (duplicate key, malformed nonce, sign or timestamp).
    Invalid(SignError),
    /// A parameter that verification needs is absent or empty.
    Missing {
        /// Its name: `sign`, `nonce_str` or `timestamp`.
        param: &'static str,
    },
    /// The signature does not match the parameters and secret.
    Mismatch,
    /// The request's time is further from `now` than the window allows.
    Stale {
        /// How far the request's time is from `now`.
        skew: Duration,
        /// Whether the request claims to come from the future (a fast client clock).
        ahead: bool,
        /// The window that was allowed.
        window: Duration,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(e) => write!(f, "invalid parameters: {e}"),
            Self::Missing { param } => write!(f, "parameter `{param}` is missing"),
            Self::Mismatch => f.write_str("signature does not match"),
            Self::Stale {
                skew,
                ahead,
                window,
            } => write!(
                f,
                "timestamp is {}s {} the verifier's clock (window {}s)",
                skew.as_secs(),
                if *ahead { "ahead of" } else { "behind" },
                window.as_secs()
            ),
        }
    }
}

impl Error for VerifyError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SignError> for VerifyError {
    fn from(e: SignError) -> Self {
        Self::Invalid(e)
    }
}
