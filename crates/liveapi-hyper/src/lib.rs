//! The default transport of `liveapi`: hyper 1 over Tokio, with rustls.
//!
//! - [`HyperTransport`] sends the signed requests that
//!   [`liveapi_request::Engine`] builds over one pool of keep-alive connections: a connect
//!   timeout, a response size limit, a bound on requests (and so connections) in flight, and
//!   TLS through rustls (ring) with the Mozilla roots by default, the system's roots and extra
//!   CA certificates on request. Certificate and hostname verification cannot be turned off.
//!   Without the `rustls` feature the TLS settings do not exist (using them does not compile)
//!   and an `https://` URL fails with [`TransportErrorKind::NoTls`](liveapi_request::TransportErrorKind::NoTls).
//! - [`TokioTimer`] is the engine's clock and sleep on a Tokio runtime.
//!
//! Signing, retries, timeouts, the deadline, the Polyv rate limit and tracing are the
//! engine's, in `liveapi-request`, the same for every transport.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | HTTPS |
//! | `webpki-roots` | yes | trusts the Mozilla roots compiled in |
//! | `native-roots` | no | `HyperTransportBuilder::native_roots`: the system's roots |
//! | `sha256` | no | Polyv's `signatureMethod=SHA256` |
//!
//! Most users want the `liveapi` crate's `Client`, which puts the two together.
//!
//! ```no_run
//! use std::time::Duration;
//! use liveapi_hyper::{HyperTransport, TokioTimer};
//! use liveapi_request::{Engine, PolyvCredentials};
//! use liveapi_request::model::polyv::{GetDonate, Scope};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HyperTransport::builder()
//!     .connect_timeout(Duration::from_secs(2))
//!     .build()?;
//! let engine = Engine::builder(TokioTimer)
//!     .attempt_timeout(Duration::from_secs(5))
//!     .deadline(Duration::from_secs(20))
//!     .build();
//! let creds = PolyvCredentials::builder().app_id("my_app_id").secret("my_app_secret").build()?;
//! let settings = engine.execute(&transport, &GetDonate::new(Scope::Account), &creds).await?;
//! println!("{settings:?}");
//! # Ok(()) }
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod timer;
#[cfg(feature = "rustls")]
mod tls;
mod transport;

pub use error::TlsSetupError;
pub use timer::TokioTimer;
#[cfg(feature = "rustls")]
pub use tls::crypto_provider;
pub use transport::{HyperTransport, HyperTransportBuilder};

pub use liveapi_request as request;

/// The crate's README, whose code blocks are compiled and run as doctests so that what a reader
/// copies from it builds as it stands.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
