//! Rust SDK for the server APIs of the LinkV and Polyv live-streaming platforms.
//!
//! [`Client`] is what most back-ends need: register users and get their live tokens, complete
//! top-up orders, add and remove coins, read balances (LinkV), and set and read the cash and
//! gift tips of channels (Polyv). Every call is validated before it is sent, signed the way the
//! servers check it, sent over pooled HTTPS with timeouts, retried when that is safe (re-signed,
//! with the same `request_id`, so a coin change is applied once), and answered with typed
//! values or a typed [`Error`]. Secrets never appear in `Debug`, logs or errors.
//!
//! ```no_run
//! use liveapi::{Client, LinkvCredentials};
//! use liveapi::model::linkv::{Coins, OrderId, Platform, PortraitUri, UsdCents, UserId, UserName};
//!
//! # async fn run() -> Result<(), liveapi::Error> {
//! let client = Client::builder()
//!     .linkv(
//!         LinkvCredentials::builder()
//!             .app_id("app_key")
//!             .secret("app_secret")
//!             .alias("alias")
//!             .base_url("https://live.example.com")
//!             .build()?,
//!     )
//!     .build()?;
//!
//! let user = client
//!     .register_user(UserId::new("alice")?, UserName::new("Alice")?, PortraitUri::new("https://cdn.example.com/a.png")?)
//!     .await?;
//! let balance = client
//!     .complete_order(&user.open_id, OrderId::new("order-1")?, Coins::new(100)?, UsdCents::new(199), Platform::Ios)
//!     .await?;
//! client.remove_coins(&user.open_id, Coins::new(30)?).await?;
//! assert_eq!(client.balance(&user.open_id).await?.get(), balance.get() - 30);
//! # Ok(()) }
//! ```
//!
//! `cargo run --example quickstart` in the repository runs the whole story against the
//! embedded emulator (`liveapi-emulator`), with no network and no real money.
//!
//! The client's words and the vendors' wire names they stand for (a user's *open id* is LinkV's
//! `uid`, a *balance* its `tokens`, an *expiry* its `expriation`, the *account-wide* scope a
//! Polyv call without `channelId`, …) are mapped in one table:
//! [docs/vocabulary.md](https://github.com/liveapi-rs/liveapi/blob/main/docs/vocabulary.md).
//!
//! # The crates underneath
//!
//! | re-export | crate | for |
//! |---|---|---|
//! | [`sign`] | `liveapi-sign` | the sign algorithms alone |
//! | [`model`] | `liveapi-model` | validated request and response types |
//! | [`request`] | `liveapi-request` | requests and the call engine for your own HTTP stack |
//! | [`transport`] | `liveapi-hyper` and adapters | what carries the bytes: hyper (default), `reqwest`, `tower` |
//!
//! # Configuration by environment
//!
//! [`Client::from_env`] (or [`ClientBuilder::from_env`] over other settings) reads:
//!
//! | variable | meaning |
//! |---|---|
//! | `LIVEAPI_LINKV_APP_ID` | LinkV `live_app_key`, sent as `app_id` |
//! | `LIVEAPI_LINKV_SECRET` | LinkV `live_app_secret` (the decrypted one) |
//! | `LIVEAPI_LINKV_ALIAS` | optional: LinkV `live_app_alias`, sent as `channel` by `orderSuccess` |
//! | `LIVEAPI_LINKV_BASE_URL` | the app's LinkV base URL |
//! | `LIVEAPI_POLYV_APP_ID` | Polyv `appId` |
//! | `LIVEAPI_POLYV_SECRET` | Polyv app secret |
//! | `LIVEAPI_POLYV_BASE_URL` | optional, default `https://api.polyv.net` |
//! | `LIVEAPI_POLYV_SIGNATURE_METHOD` | optional, `MD5` (default) or `SHA256` (feature `sha256`) |
//! | `LIVEAPI_ATTEMPT_TIMEOUT_MS` | optional per-attempt timeout |
//! | `LIVEAPI_DEADLINE_MS` | optional overall deadline of a call |
//! | `LIVEAPI_MAX_ATTEMPTS` | optional number of attempts, retries included |
//! | `LIVEAPI_ALLOW_INSECURE_HTTP` | optional: `1` allows plain `http://` to hosts other than this machine |
//! | `LIVEAPI_RESEND_WINDOW_SECS` | optional: how old a coin change may be and still be sent (default 43 200, 12 h), or `off` |
//! | `LIVEAPI_POLYV_RATE_LIMIT` | optional Polyv budget: requests per 10 s (default 1200), or `N/<window>` (`100/1s`, `50/500ms`); at most Polyv's 1500 in any 10 s |
//! | `LIVEAPI_POLYV_RATE_LIMIT_PROCESSES` | optional: processes sharing the budget; each keeps to budget / N (with Redis: while Redis is unreachable, and then it is required) |
//! | `LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL` | optional: share the budget through this Redis (`RedisRateLimiter`, feature `redis`): `redis://…`, or `rediss://…` for TLS, always verified; never printed |
//! | `LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA` | optional, with a `rediss://` URL: a PEM file of the CA certificates to verify Redis against, instead of the Mozilla roots |
//! | `LIVEAPI_POLYV_RATE_LIMIT_EGRESS` | optional, with the Redis URL: a label for this egress IP, one budget per label |
//!
//! The LinkV app id, secret and base URL go together; a partial set is an error that names
//! what is missing. Numbers must be at least 1. [`env`](mod@env) has the names as constants.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `hyper` | yes | the default transport, `transport::HyperTransport` (pooled hyper 1 over Tokio), its settings on [`ClientBuilder`], and Tokio's timer |
//! | `rustls` | yes | HTTPS for the hyper transport (implies `hyper`) |
//! | `webpki-roots` | yes | trust in the Mozilla roots compiled in (implies `hyper`) |
//! | `native-roots` | no | trust in the operating system's roots, on request (implies `hyper`) |
//! | `tokio` | no | Tokio's timer without the hyper transport |
//! | `reqwest`, `tower` | no | the [transports](transport) of those names |
//! | `redis` | no | `RedisRateLimiter`, one Polyv budget for every process of a fleet (implies `tokio`) |
//! | `sha256` | no | Polyv's `signatureMethod=SHA256` |
//! | `console-credentials` | no | [`LinkvCredentials::from_console`](request::LinkvCredentials), from the console's encrypted `app_secret` |
//! | `test-util` | no | `ManualClock` and `SeededEntropy` for deterministic tests |
//!
//! **Without `hyper`** this crate builds no `liveapi-hyper`, hyper or hyper-util of its own
//! (`reqwest` stands on hyper, `tower` does not), and no Tokio unless `tokio` or `redis` asks
//! for it; `liveapi-outbox` stands on it so. A client then sends through the transport it is
//! given ([`ClientBuilder::transport`]); without one, [`build`](ClientBuilder::build) says so
//! ([`ConfigError::NoTransport`]). The settings of the hyper transport (connect timeout,
//! connections in flight, body limit, TLS roots) and the errors about it exist only with the
//! feature.
//!
//! **The timer.** A client waits (backoff, the rate limit) and times attempts through a
//! [`Timer`](transport::Timer). With `hyper` it is `liveapi-hyper`'s Tokio timer; with `tokio`
//! alone, one over `tokio::time` in this crate. A build with neither cannot know which runtime
//! its transport runs on, so it has no default: give one with [`ClientBuilder::timer`], or
//! [`build`](ClientBuilder::build) refuses with [`ConfigError::NoTimer`].
//!
//! ```toml
//! # A tower stack on Tokio, without hyper:
//! liveapi = { version = "0.1", default-features = false, features = ["tower", "tokio"] }
//! ```
//!
//! # Several processes
//!
//! Polyv blocks an IP for five minutes past 1500 requests per 10 s
//! (`docs/polyv.md#rate-limit`). One client keeps to 1200
//! per 10 s ([`RateLimit::POLYV`]); processes behind one egress IP share one budget through
//! `RedisRateLimiter` (feature `redis`; [`ClientBuilder::polyv_rate_limit`] with a
//! [`PolyvRateLimit`] of it, or the variables above), or each keep to a share of it
//! (`LIVEAPI_POLYV_RATE_LIMIT_PROCESSES` alone).
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod call;
mod client;
mod coins;
pub mod env;
mod error;
#[cfg(feature = "redis")]
mod redis_limiter;
#[cfg(feature = "tls")]
pub mod tls;
pub mod transport;

pub use call::{Call, CallFuture};
pub use client::{
    Client, ClientBuilder, ClientCredentials, DEFAULT_COIN_LIFETIME_DAYS, DEFAULT_RESEND_WINDOW,
    PolyvRateLimit,
};
pub use coins::{ChangeCoins, CompleteOrder, SendChange};
pub use error::{ClockError, ConfigError, Error, ErrorKind};
#[cfg(feature = "redis")]
pub use redis_limiter::{
    DEFAULT_EGRESS, DEFAULT_KEY_PREFIX, DEFAULT_PROBE_INTERVAL, DEFAULT_REDIS_TIMEOUT,
    DEFAULT_TRANSIT_MARGIN, RedisLimiterError, RedisLink, RedisRateLimiter,
    RedisRateLimiterBuilder,
};

pub use liveapi_request::retry::RetryPolicy;
pub use liveapi_request::{
    AcquireError, CallSettings, ClockOffset, Context, LimiterConfigError, LinkvCredentials,
    LocalRateLimiter, PolyvCredentials, RateLimit, RateLimiter, Secret, Throttled,
};
#[cfg(feature = "test-util")]
pub use liveapi_request::{ManualClock, SeededEntropy};

pub use liveapi_model as model;
pub use liveapi_request as request;
pub use liveapi_sign as sign;
