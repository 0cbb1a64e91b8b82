//! An async executor for `liveapi-request` operations over hyper 1.
//!
//! [`Executor`] holds one pooled, keep-alive hyper client and drives any
//! [`Operation`](liveapi_request::Operation) of either vendor through it:
//!
//! - **Signing per attempt.** Each attempt is signed just before it is sent (fresh LinkV nonce
//!   or Polyv timestamp) and keeps the operation's `request_id`, so a coin change is applied
//!   once however often the network fails.
//! - **Retries** follow [`RetryPolicy`](liveapi_request::retry::RetryPolicy), a pure, tested
//!   decision: connection failures, timeouts, HTTP 5xx, LinkV `status` 500 and rate limiting
//!   are retried with exponential backoff and jitter; bad parameters and bad signatures never.
//! - **Time limits**: a per-attempt timeout, an overall deadline, a connect timeout, and a
//!   response size limit.
//! - **A client-side rate limit for Polyv** ([`RateLimit::POLYV`], 1200 per 10 s) so the
//!   caller's IP is never blocked.
//! - **TLS** through rustls (ring) with the Mozilla roots by default, the system's roots and
//!   extra CA certificates on request. Certificate and hostname verification cannot be turned
//!   off. Without the `rustls` feature the TLS settings do not exist (using them does not
//!   compile) and an `https://` URL fails with [`TransportErrorKind::NoTls`].
//! - **Tracing**: a `liveapi.call` span per call (vendor, operation, request id, attempts) and a
//!   `liveapi.attempt` span per attempt (status, latency). URIs, headers, bodies, signatures and
//!   secrets are never recorded.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | HTTPS |
//! | `webpki-roots` | yes | trusts the Mozilla roots compiled in |
//! | `native-roots` | no | [`ExecutorBuilder::native_roots`] |
//! | `sha256` | no | Polyv's `signatureMethod=SHA256` |
//!
//! Most users want the `liveapi` crate's `Client`, which wraps this executor.
//!
//! ```no_run
//! use std::time::Duration;
//! use liveapi_hyper::Executor;
//! use liveapi_request::PolyvCredentials;
//! use liveapi_request::model::polyv::{GetDonate, Scope};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let executor = Executor::builder()
//!     .attempt_timeout(Duration::from_secs(5))
//!     .deadline(Some(Duration::from_secs(20)))
//!     .build()?;
//! let creds = PolyvCredentials::new("my_app_id", "my_app_secret")?;
//! let settings = executor.execute(&GetDonate::new(Scope::Account), &creds).await?;
//! println!("{settings:?}");
//! # Ok(()) }
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod executor;
mod rate_limit;
#[cfg(feature = "rustls")]
mod tls;

pub use error::{ConfigError, TransportError, TransportErrorKind};
pub use executor::{ExecuteError, Executor, ExecutorBuilder};
pub use rate_limit::RateLimit;

pub use liveapi_request as request;
