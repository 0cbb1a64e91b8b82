//! Transports: what carries a signed request to the server and its answer back.
//!
//! The [`Client`](crate::Client) sends through `HyperTransport` (feature `hyper`, on by
//! default) unless [`ClientBuilder::transport`](crate::ClientBuilder::transport) gives it
//! another; a build without `hyper` must give one. Every transport gets the same engine:
//! signing per attempt, retries with the same request id, timeouts, the deadline,
//! `Retry-After` and the Polyv rate limit.
//!
//! | transport | feature | for |
//! |---|---|---|
//! | `HyperTransport` | `hyper` (default) | pooled hyper 1 + rustls |
//! | `ReqwestTransport` | `reqwest` | a `reqwest::Client` the application already has |
//! | `TowerTransport` | `tower` | any `tower::Service<http::Request<Bytes>>`, with your own layers |
//! | any [`AsyncHttpSend`] | | a closure or a type of your own |
//!
//! `TokioTimer`, the client's default [`Timer`] with `hyper`, is here too. The rustls provider
//! the SDK's TLS uses, for a `reqwest` or other rustls client of the application's, is
//! `tls::crypto_provider` (feature `tls`, which `rustls`, `reqwest` and `redis` turn on).

#[cfg(feature = "hyper")]
pub use liveapi_hyper::{HyperTransport, HyperTransportBuilder, TokioTimer};
pub use liveapi_request::{
    AsyncHttpSend, HttpSend, Sleep, Timer, TransportError, TransportErrorKind,
};

#[cfg(feature = "reqwest")]
pub use self::reqwest::ReqwestTransport;
#[cfg(feature = "tower")]
pub use self::tower::TowerTransport;

#[cfg(feature = "reqwest")]
mod reqwest;

#[cfg(feature = "tower")]
mod tower;
