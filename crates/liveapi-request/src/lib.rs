//! Transport-agnostic request builders for the LinkV and Polyv live-streaming server APIs.
//!
//! A typed request from `liveapi-model`, credentials, the time and some randomness go in; a
//! signed `http::Request<Bytes>` comes out. An `http::Response<Bytes>` goes in; the call's
//! typed result or the vendor's typed error comes out. No IO and no async runtime happen
//! here, so any HTTP stack can carry the bytes:
//!
//! - [`Operation`] is implemented by every request type: `build` signs, `parse` reads.
//! - [`HttpSend`] / [`AsyncHttpSend`] are what a transport implements (closures do), and
//!   [`call`], [`call_async`] and [`call_with_retries`] drive an operation through one.
//! - [`retry::RetryPolicy`] decides, purely, when a failed attempt is tried again; each retry
//!   is re-signed and keeps the `request_id`, so a coin change is applied once.
//! - [`LinkvCredentials`] and [`PolyvCredentials`] never show their secret in `Debug`.
//! - [`Clock`] and [`Entropy`] are the seams that make signing deterministic in tests.
//!
//! | vendor | request | signed where |
//! |---|---|---|
//! | LinkV | `POST`, form body: business params + `app_id`, `nonce_str` (+ `channel`) + `sign` | the whole form |
//! | Polyv | query `appId`, `timestamp`, `channelId`? + `sign`; `POST` JSON body or `GET` | the query only |
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use liveapi_model::linkv::{GetUserTokens, OpenId};
//! use liveapi_request::{LinkvCredentials, Operation, SeededEntropy};
//!
//! let creds = LinkvCredentials::new("LM6000100000000000000042", "demo_app_secret", "demo", "https://live.example.com")?;
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let request = GetUserTokens::new(OpenId::new("42")?).build(&creds, now, &SeededEntropy::new(1))?;
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

mod base_url;
mod clock;
#[cfg(feature = "console-credentials")]
mod console;
mod credentials;
mod entropy;
mod linkv;
mod operation;
mod polyv;
pub mod retry;
mod secret;
mod send;

pub use base_url::BaseUrl;
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{CredentialsError, LinkvCredentials, POLYV_BASE_URL, PolyvCredentials};
pub use entropy::{Entropy, EntropyError, OsEntropy, SeededEntropy};
pub use liveapi_model::Vendor;
pub use operation::{BuildError, Operation, VendorError};
pub use secret::Secret;
pub use send::{AsyncHttpSend, CallError, Context, HttpSend, call, call_async, call_with_retries};

pub use liveapi_model as model;
pub use liveapi_sign as sign;
