//! Why an attempt got no usable response.

use std::error::Error as StdError;
use std::fmt;

use liveapi_request::retry::Failure;

/// What kind of transport failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection (TCP or TLS handshake) could not be set up: the request was not sent.
    Connect,
    /// No complete response within the per-attempt timeout. The server may have acted on it.
    Timeout,
    /// The TLS handshake failed: the certificate is not trusted, has expired, or does not
    /// name the host. Retrying cannot help.
    Tls,
    /// The connection broke after the request may have been sent, or the body was cut off.
    Io,
    /// The response body was larger than the configured limit.
    BodyTooLarge,
    /// The URL is `https://` but this build has no TLS (the `rustls` feature is off).
    NoTls,
    /// The client-side rate limit (see [`RateLimit`](crate::RateLimit)) would have made the
    /// call wait past its deadline. Nothing was sent.
    Throttled,
}

/// An attempt that got no usable response. Its [`source`](StdError::source) chain keeps the
/// underlying hyper, IO or TLS error.
///
/// The message never contains the request's URI (a Polyv query carries its signature) or any
/// header.
pub struct TransportError {
    kind: TransportErrorKind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    pub(crate) fn new(kind: TransportErrorKind) -> Self {
        Self { kind, source: None }
    }

    pub(crate) fn with_source(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the request may have reached the server (and a coin change may have been
    /// applied). Retrying with the same `request_id` is then the way to find out.
    #[must_use]
    pub fn may_have_been_sent(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Timeout | TransportErrorKind::Io | TransportErrorKind::BodyTooLarge
        )
    }

    /// Whether sending the call again later may succeed: after a connection failure, a
    /// timeout, a broken connection, or the client-side rate limit. Not after a refused
    /// certificate, an oversized answer or a missing TLS feature.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect
                | TransportErrorKind::Timeout
                | TransportErrorKind::Io
                | TransportErrorKind::Throttled
        )
    }

    /// How the attempt failed, for the retry policy within one call. A throttled call is not
    /// retried within the call (its deadline leaves no room) though it may be later.
    #[must_use]
    pub fn failure(&self) -> Failure {
        match self.kind {
            TransportErrorKind::Connect => Failure::Connect,
            TransportErrorKind::Timeout => Failure::Timeout,
            TransportErrorKind::Io => Failure::Transport,
            TransportErrorKind::Tls
            | TransportErrorKind::BodyTooLarge
            | TransportErrorKind::NoTls
            | TransportErrorKind::Throttled => Failure::Fatal,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            TransportErrorKind::Connect => "could not connect to the server",
            TransportErrorKind::Timeout => "no response within the attempt timeout",
            TransportErrorKind::Tls => {
                "the TLS handshake failed (certificate not trusted, expired or for another host)"
            }
            TransportErrorKind::Io => "the connection failed before a complete response arrived",
            TransportErrorKind::BodyTooLarge => "the response body exceeds the size limit",
            TransportErrorKind::NoTls => {
                "the URL is https but this build has no TLS (enable the `rustls` feature)"
            }
            TransportErrorKind::Throttled => {
                "the client-side rate limit leaves no room before the deadline"
            }
        })
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The executor could not be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
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
