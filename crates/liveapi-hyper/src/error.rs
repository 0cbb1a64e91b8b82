//! Why the TLS of a transport could not be set up.

/// The transport's TLS could not be set up: its trusted roots or its configuration. (The
/// client's own configuration errors are `liveapi::ConfigError`; this is one of its causes.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// A PEM certificate could not be read.
    #[error("invalid PEM certificate: {0}")]
    Certificate(String),
    /// No root certificates would be trusted, so every HTTPS call would fail.
    #[error(
        "no root certificates to trust: enable the `webpki-roots` or `native-roots` feature or add a CA certificate"
    )]
    NoRoots,
    /// The operating system's root certificates could not be loaded.
    #[error("cannot load the system's root certificates: {0}")]
    NativeRoots(String),
    /// The TLS configuration was refused by rustls.
    #[error("TLS configuration: {0}")]
    Tls(String),
}
