//! The SDK's one rustls provider, for every TLS connection it makes or lets an application
//! make: the hyper transport's HTTPS, Redis over `rediss://`, PostgreSQL with `sslmode`, and a
//! `reqwest` client of the application's.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// rustls' *ring* provider (TLS 1.2 and 1.3, its default suites and key exchange groups), the
/// same object the hyper transport uses when it is built (feature `rustls`).
///
/// ```
/// let provider = liveapi::tls::crypto_provider();
/// assert!(!provider.cipher_suites.is_empty());
/// ```
#[must_use]
pub fn crypto_provider() -> Arc<CryptoProvider> {
    provider()
}

#[cfg(feature = "rustls")]
fn provider() -> Arc<CryptoProvider> {
    liveapi_hyper::crypto_provider()
}

/// Without the hyper transport's TLS, made here: the same *ring* default as
/// `liveapi_hyper::crypto_provider` (its constructor is deprecated only for lacking
/// post-quantum key exchange, which the vendors' servers do not offer).
#[cfg(not(feature = "rustls"))]
fn provider() -> Arc<CryptoProvider> {
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}
