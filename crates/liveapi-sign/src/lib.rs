//! Request signing and verification for the LinkV and Polyv live-streaming server APIs.
//!
//! This crate is pure: no IO, no clock and no random number generator of its own. The time
//! and randomness a signature needs are arguments, so signing is deterministic and testable,
//! and the crate can sit under any HTTP stack (or none, in a server that verifies requests).
//! It depends on `md-5` and `subtle` (constant-time comparison) only, plus `sha2` with the
//! `sha256` feature.
//!
//! | vendor | module | string signed | digest |
//! |---|---|---|---|
//! | LinkV live (互动娱乐) | [`linkv`] | `k1=v1&k2=v2&key=<secret>` (byte order) | MD5, lowercase hex |
//! | Polyv live (保利威) | [`polyv`] | `<secret>k1v1k2v2<secret>` (UTF-16 order) | MD5 or SHA-256, uppercase hex |
//!
//! Each module explains its algorithm step by step and lists what to check when a server
//! answers with a signature error. [`linkv::canonical_string`] and [`polyv::canonical_string`]
//! show the exact text a signature is computed over, with the secret masked when printed.
//!
//! Parameters are any iterator of `(key, value)` string pairs: arrays of `(&str, &str)`, a
//! `BTreeMap<String, String>`, a parsed query string. Duplicate keys are an error. Up to
//! [`INLINE_PARAMS`] parameters are signed without allocating on the heap.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use liveapi_sign::{linkv, polyv};
//!
//! // LinkV: sign a balance query.
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let nonce = linkv::Nonce::generate(now, |buf| buf.fill(42))?; // use a CSPRNG here
//! let sign = linkv::sign(
//!     [("app_id", "my_app_key"), ("nonce_str", nonce.as_str()), ("uid", "12345")],
//!     "my_app_secret",
//! )?;
//! assert_eq!(sign.as_str().len(), 32);
//!
//! // Polyv: sign the query of a donate call.
//! let timestamp = polyv::timestamp(now)?;
//! let sign = polyv::sign(
//!     [("appId", "my_app"), ("timestamp", timestamp.as_str()), ("channelId", "1000001")],
//!     "my_secret",
//! )?;
//! assert!(sign.as_str().bytes().all(|b| !b.is_ascii_lowercase()));
//! # Ok::<(), liveapi_sign::SignError>(())
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod canonical;
mod error;
pub mod linkv;
mod nonce;
mod params;
pub mod polyv;
mod signature;
mod window;

pub use canonical::CanonicalString;
pub use error::{SignError, VerifyError};
pub use params::INLINE_PARAMS;
pub use signature::Signature;

/// The crate's README, whose code blocks are compiled and run as doctests so that what a reader
/// copies from it builds as it stands.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
