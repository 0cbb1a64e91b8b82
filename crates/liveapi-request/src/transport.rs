//! Plugging in an HTTP stack: one request in, one whole response out, or a [`TransportError`]
//! saying how far the request got.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;

use bytes::Bytes;

use crate::meaning::{self, Meaning};

/// A blocking HTTP client: sends one request and returns the whole response.
///
/// Implemented for every `FnMut(http::Request<Bytes>) -> Result<http::Response<Bytes>,
/// TransportError>`, so a few lines of glue make `ureq` or a blocking `reqwest` a transport
/// for [`Engine::execute_blocking`](crate::Engine::execute_blocking).
///
/// The implementation must keep TLS certificate and hostname verification on and should apply
/// its own timeouts: a blocking call cannot be interrupted from outside.
pub trait HttpSend {
    /// Sends `request` and reads the response body.
    ///
    /// # Errors
    /// A [`TransportError`] if there is no complete response.
    fn send(
        &mut self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError>;
}

impl<F> HttpSend for F
where
    F: FnMut(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>,
{
    fn send(
        &mut self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        self(request)
    }
}

/// An async HTTP client: sends one request and returns the whole response.
///
/// Implemented for every `Fn(http::Request<Bytes>) -> impl Future<Output = Result<…,
/// TransportError>>`, so any async stack plugs in with a closure; `liveapi-hyper` and the
/// `liveapi` crate's `reqwest` and `tower` adapters implement it directly. Timeouts, retries,
/// the deadline and rate limits are the [`Engine`](crate::Engine)'s job, not the transport's.
///
/// The implementation must keep TLS certificate and hostname verification on.
pub trait AsyncHttpSend: Send + Sync {
    /// Sends `request` and reads the response body.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send;
}

impl<F, Fut> AsyncHttpSend for F
where
    F: Fn(http::Request<Bytes>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<http::Response<Bytes>, TransportError>> + Send,
{
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        self(request)
    }
}

/// What kind of transport failure happened, as far as retrying and the caller are concerned.
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
    /// The response body was larger than the transport's limit.
    BodyTooLarge,
    /// The URL is `https://` but the transport has no TLS.
    NoTls,
    /// The client-side rate limit would have made the call wait past its deadline. Nothing
    /// was sent.
    Throttled,
}

impl TransportErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Connect => "could not connect to the server",
            Self::Timeout => "no response within the attempt timeout",
            Self::Tls => {
                "the TLS handshake failed (certificate not trusted, expired or for another host)"
            }
            Self::Io => "the connection failed before a complete response arrived",
            Self::BodyTooLarge => "the response body exceeds the size limit",
            Self::NoTls => "the URL is https but the transport has no TLS",
            Self::Throttled => "the client-side rate limit leaves no room before the deadline",
        }
    }
}

/// An attempt that got no usable response. Its [`source`](StdError::source) chain keeps the
/// underlying HTTP, IO or TLS error.
///
/// Transports make one with [`TransportError::new`] or [`TransportError::with_source`]. The
/// message never contains the request's URI (a Polyv query carries its signature) or any
/// header.
///
/// ```
/// use liveapi_request::{TransportError, TransportErrorKind};
///
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let err = TransportError::with_source(TransportErrorKind::Connect, refused);
/// assert!(err.meaning().is_retryable());
/// assert!(!err.meaning().may_have_been_applied());
/// assert_eq!(err.to_string(), "could not connect to the server");
/// ```
pub struct TransportError {
    kind: TransportErrorKind,
    /// `host:port` the request was for, so that the message says where it failed.
    target: Option<String>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// A failure of `kind` without an underlying error.
    #[must_use]
    pub fn new(kind: TransportErrorKind) -> Self {
        Self {
            kind,
            target: None,
            source: None,
        }
    }

    /// A failure of `kind` caused by `source` (kept for [`source`](StdError::source)).
    #[must_use]
    pub fn with_source(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            target: None,
            source: Some(source.into()),
        }
    }

    /// This failure, for a request to `authority` (`https` when it went over TLS): the
    /// message then names `host:port`, the port filled in from the scheme when the URL has
    /// none. The engine adds it to every transport's failures; only the host and port are
    /// kept, never a path or query (a Polyv query carries its signature).
    ///
    /// ```
    /// use liveapi_request::{TransportError, TransportErrorKind};
    ///
    /// let authority = http::uri::Authority::from_static("live.example.com");
    /// let err = TransportError::new(TransportErrorKind::Connect).at(&authority, true);
    /// assert_eq!(err.target(), Some("live.example.com:443"));
    /// assert_eq!(err.to_string(), "could not connect to the server at live.example.com:443");
    /// ```
    #[must_use]
    pub fn at(mut self, authority: &http::uri::Authority, https: bool) -> Self {
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        self.target = Some(format!("{}:{port}", authority.host()));
        self
    }

    /// The `host:port` the request was for, when known.
    #[must_use]
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// What this failure means ([`meaning::of_transport`]): whether it may be retried, and
    /// whether the request may have been applied.
    #[must_use]
    pub fn meaning(&self) -> Meaning {
        meaning::of_transport(self.kind)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        match &self.target {
            Some(target) => write!(f, " at {target}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("target", &self.target)
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

/// Whether an error of type `T` lies anywhere in `error`'s chain of causes, looking inside the
/// IO errors that hide theirs from [`source`](StdError::source). Transports use it to tell a
/// refused certificate (`rustls::Error`) from other connection failures.
///
/// ```
/// use std::error::Error;
/// use std::io;
/// use liveapi_request::source_chain_contains;
///
/// #[derive(Debug)]
/// struct Refused;
/// impl std::fmt::Display for Refused {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("refused") }
/// }
/// impl Error for Refused {}
///
/// let wrapped = io::Error::new(io::ErrorKind::Other, Refused);
/// assert!(source_chain_contains::<Refused>(&wrapped));
/// assert!(!source_chain_contains::<Refused>(&io::Error::from(io::ErrorKind::Other)));
/// ```
#[must_use]
pub fn source_chain_contains<T: StdError + 'static>(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<T>() {
            return true;
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && source_chain_contains::<T>(inner)
        {
            return true;
        }
        next = e.source();
    }
    false
}
