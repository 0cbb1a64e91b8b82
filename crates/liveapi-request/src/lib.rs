//! Transport-agnostic request builders for the LinkV and Polyv live-streaming server APIs.
//!
//! A typed request from `liveapi-model`, credentials, the time and some randomness go in; a
//! signed `http::Request<Bytes>` comes out. An `http::Response<Bytes>` goes in; the call's
//! typed result or the vendor's typed error comes out. No IO and no async runtime happen
//! here, so any HTTP stack can carry the bytes:
//!
//! - [`Operation`] is implemented by every request type: `build` signs, `parse` reads.
//! - [`Engine`] drives an operation through any transport: it signs every attempt afresh,
//!   keeps the `request_id`, applies the per-attempt timeout and the overall deadline, waits
//!   for the Polyv [`RateLimiter`], honours `Retry-After`, and retries as the pure
//!   [`retry::RetryPolicy`] decides, so a coin change is applied once. It runs on any async
//!   runtime through a [`Timer`], or blocking with [`Engine::execute_blocking`].
//! - [`meaning`] is the one table of what an answer means (retry or not; applied, not applied
//!   or unknown; a clock, auth or configuration problem), read by the engine and every crate
//!   above it.
//! - [`AsyncHttpSend`] / [`HttpSend`] are what a transport implements (closures do); a
//!   transport reports failures as a [`TransportError`].
//! - [`LinkvCredentials`] and [`PolyvCredentials`] never show their secret in `Debug`, and
//!   wipe it from memory when dropped.
//! - [`Clock`] and [`Entropy`] are the seams that make signing deterministic in tests
//!   (`ManualClock` and `SeededEntropy` with the `test-util` feature).
//!
//! | vendor | request | signed where |
//! |---|---|---|
//! | LinkV | `POST`, form body: business params + `app_id`, `nonce_str` (+ `channel`) + `sign` | the whole form |
//! | Polyv | query `appId`, `timestamp`, `channelId`? + `sign`; `POST` JSON body or `GET` | the query only |
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use liveapi_model::linkv::{GetUserTokens, OpenId};
//! use liveapi_request::{LinkvCredentials, Operation, OsEntropy};
//!
//! let creds = LinkvCredentials::builder()
//!     .app_id("LM6000100000000000000042")
//!     .secret("demo_app_secret")
//!     .base_url("https://live.example.com")
//!     .build()?;
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let request = GetUserTokens::new(OpenId::new("42")?).build(&creds, now, &OsEntropy)?;
//!
//! assert_eq!(request.method(), http::Method::POST);
//! assert_eq!(request.uri(), "https://live.example.com/open/finanv0/getUserTokens");
//! let body = std::str::from_utf8(request.body())?;
//! assert!(body.starts_with("app_id=LM6000100000000000000042&nonce_str="));
//! assert!(body.contains("&uid=42&sign="));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base_url;
mod clock;
#[cfg(feature = "console-credentials")]
mod console;
mod context;
mod credentials;
mod engine;
mod entropy;
mod headers;
mod limit;
mod linkv;
pub mod meaning;
pub mod metrics;
mod operation;
mod polyv;
pub mod retry;
mod secret;
mod skew;
mod time;
mod transport;

pub use base_url::{BaseUrl, InsecureHttp};
#[cfg(feature = "test-util")]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use context::Context;
pub use credentials::{
    CredentialsError, LinkvCredentials, LinkvCredentialsBuilder, POLYV_BASE_URL, PolyvCredentials,
    PolyvCredentialsBuilder,
};
pub use engine::{
    AttemptError, CallError, CallSettings, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_DEADLINE, Engine,
    EngineBuilder,
};
#[cfg(feature = "test-util")]
pub use entropy::SeededEntropy;
pub use entropy::{Entropy, EntropyError, OsEntropy};
pub use limit::{
    AcquireError, LimiterConfigError, LocalRateLimiter, RateLimit, RateLimiter, Throttled,
};
pub use liveapi_model::Vendor;
pub use operation::{BuildError, Operation};
pub use secret::Secret;
pub use skew::ClockOffset;
pub use time::{Sleep, ThreadTimer, Timer};
pub use transport::{
    AsyncHttpSend, HttpSend, TransportError, TransportErrorKind, source_chain_contains,
};

pub use liveapi_model as model;
pub use liveapi_sign as sign;

/// The crate's README, whose code blocks are compiled and run as doctests so that what a reader
/// copies from it builds as it stands.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
