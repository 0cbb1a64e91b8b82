//! Wire models for the LinkV and Polyv live-streaming server APIs.
//!
//! - **Requests** are values that cannot be built invalid: every field is a type that checks
//!   the vendor's documented limits when it is created ([`linkv::UserId`] is 1–64 bytes of
//!   `A-Z a-z 0-9 + = - _`, [`polyv::Amount`] is 0.01–9999.99 yuan, …), so a mistake is a
//!   [`ValidationError`] before anything is sent, never a rejected call. There are no other
//!   rules: each type's docs cite the section of `docs/linkv.md` or `docs/polyv.md` its rule
//!   comes from, and where the vendor gives no limit the bound is a generous one, said to be
//!   this crate's.
//!   Values the server issues ([`linkv::OpenId`], a live token) are only bounded, never judged.
//! - **Responses** are read tolerantly, the way the servers really answer: statuses as strings
//!   or numbers, `data` as an object, `[]` or absent, balances under either of their names,
//!   money read from the JSON text without float rounding, unknown fields ignored.
//! - **Errors** say what the server answered ([`ApiError`]: the vendor, the kind, the HTTP
//!   status, the body's status or code, the message, the start of the body). The body's status
//!   decides, whatever the HTTP status; a message refines it only when it is one of the
//!   vendor's documented messages, listed with their sources. What an answer *means* (retry,
//!   applied or not) is `liveapi-request`'s one table (`docs/answers.md`).
//!
//! This crate does no IO and knows nothing of HTTP; `liveapi-request` turns these values into
//! signed requests. Servers (such as `liveapi-emulator`) use the same types to read requests
//! back with [`ParamSource`].
//!
//! ```
//! use liveapi_model::linkv::{self, Coins};
//!
//! let user = linkv::UserId::new("user-42")?;
//! let login = linkv::ThGetToken::login(user);
//! assert_eq!(login.user_id().as_str(), "user-42");
//!
//! let balance: Coins = linkv::decode(200, br#"{"status":200,"data":{"livemeTokens":7}}"#)?;
//! assert_eq!(balance.get(), 7);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod api_error;
mod body;
mod lenient;
pub mod linkv;
mod params;
pub mod polyv;
mod validate;
mod vendor;

pub use api_error::{ApiError, ApiErrorKind};
pub use body::RawBody;
pub use params::ParamSource;
pub use validate::{Rule, ValidationError};
pub use vendor::Vendor;

/// The crate's README, whose code blocks are compiled and run as doctests so that what a reader
/// copies from it builds as it stands.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
