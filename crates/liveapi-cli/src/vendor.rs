//! The two signing schemes, so that `sign` and `verify` are written once for both vendors.
//!
//! Everything here forwards to `liveapi::sign`; the CLI adds only the names a user sees.

use std::time::{Duration, SystemTime};

use liveapi::sign::{CanonicalString, SignError, Signature, VerifyError, linkv, polyv};

use crate::env;
use crate::exit::Failure;
use crate::input::Params;

/// Whose signing rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vendor {
    /// LinkV live: `k1=v1&k2=v2&key=SECRET`, MD5, lowercase hex.
    Linkv,
    /// Polyv live: `SECRET k1v1k2v2 SECRET`, MD5 or SHA-256, uppercase hex.
    Polyv,
}

impl Vendor {
    /// The variable that holds the signing secret.
    pub(crate) fn secret_var(self) -> &'static str {
        match self {
            Self::Linkv => env::LINKV_SECRET,
            Self::Polyv => env::POLYV_SECRET,
        }
    }

    /// The parameter that carries the request's time.
    pub(crate) fn time_param(self) -> &'static str {
        match self {
            Self::Linkv => linkv::NONCE_PARAM,
            Self::Polyv => polyv::TIMESTAMP_PARAM,
        }
    }

    /// How far the request's time may be from the clock.
    pub(crate) fn default_window(self) -> Duration {
        match self {
            Self::Linkv => linkv::DEFAULT_WINDOW,
            Self::Polyv => polyv::DEFAULT_WINDOW,
        }
    }

    /// The signature of `params`; a `sign` parameter among them is left out, as the servers
    /// do.
    pub(crate) fn sign(self, params: &Params, secret: &str) -> Result<Signature, SignError> {
        match self {
            Self::Linkv => linkv::sign(params.pairs(), secret),
            Self::Polyv => polyv::sign(params.pairs(), secret),
        }
    }

    /// The text the digest is computed over; its `Display` masks the secret.
    pub(crate) fn canonical(
        self,
        params: &Params,
        secret: &str,
    ) -> Result<CanonicalString, SignError> {
        match self {
            Self::Linkv => linkv::canonical_string(params.pairs(), secret),
            Self::Polyv => polyv::canonical_string(params.pairs(), secret),
        }
    }

    /// Checks received parameters, `sign` included, as the server would at `now`.
    pub(crate) fn verify(
        self,
        params: &Params,
        secret: &str,
        now: SystemTime,
        window: Duration,
    ) -> Result<(), VerifyError> {
        match self {
            Self::Linkv => linkv::verify(params.pairs(), secret, now, window),
            Self::Polyv => polyv::verify(params.pairs(), secret, now, window),
        }
    }

    /// The secret from `--secret`, else from the environment; blank is an error either way,
    /// never a secret.
    pub(crate) fn secret(self, flag: Option<String>) -> Result<String, Failure> {
        match flag {
            Some(secret) if secret.trim().is_empty() => Err(Failure::usage(
                "--secret is empty: give it a value, or leave it out",
            )),
            Some(secret) => Ok(secret),
            None => env::checked(self.secret_var())?.ok_or_else(|| {
                Failure::config(format_args!(
                    "no secret: pass --secret or set {}",
                    self.secret_var()
                ))
            }),
        }
    }
}

/// How a signature was computed, told by its length: the vendors' hex digests differ in
/// nothing else.
pub(crate) fn digest_name(signature: &Signature) -> &'static str {
    if signature.as_str().len() == 64 {
        "SHA-256"
    } else {
        "MD5"
    }
}
