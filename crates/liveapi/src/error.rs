//! The one error type of the client.

use liveapi_hyper::{ConfigError, ExecuteError, TransportError, TransportErrorKind};
use liveapi_model::ValidationError;
use liveapi_model::linkv::LinkvError;
use liveapi_model::polyv::PolyvError;
use liveapi_request::{BuildError, CallError, CredentialsError, EntropyError, Vendor};

/// Everything a [`Client`](crate::Client) call can fail with.
///
/// The variants keep their causes as [`source`](std::error::Error::source)s; the questions a
/// caller usually asks are methods: [`is_retryable`](Self::is_retryable),
/// [`outcome_unknown`](Self::outcome_unknown), [`is_auth`](Self::is_auth), … No message ever
/// contains a secret or a signature.
///
/// ```
/// use liveapi::Error;
/// use liveapi::model::linkv::LinkvError;
///
/// let err = Error::from(LinkvError::classify(403, "sign err".to_owned()));
/// assert!(err.is_auth());
/// assert!(!err.is_retryable());
/// assert_eq!(err.to_string(), "LinkV rejected the signature (403): sign err");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given to the client breaks the vendor's documented limits. Nothing was sent.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Credentials are missing or malformed.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The client is not configured for the vendor the call needs.
    #[error("{} credentials are not configured on this client", vendor_name(*.0))]
    NotConfigured(Vendor),
    /// The client could not be configured (TLS roots, environment variables…).
    #[error("{0}")]
    Config(String),
    /// The HTTP executor could not be set up.
    #[error(transparent)]
    Executor(#[from] ConfigError),
    /// The request could not be built or signed. Nothing was sent.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// No usable answer arrived (connection, timeout, TLS, size limit), after every retry the
    /// policy allowed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// LinkV answered with an error.
    #[error(transparent)]
    Linkv(#[from] LinkvError),
    /// Polyv answered with an error.
    #[error(transparent)]
    Polyv(#[from] PolyvError),
}

fn vendor_name(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Linkv => "LinkV",
        Vendor::Polyv => "Polyv",
    }
}

impl From<EntropyError> for Error {
    fn from(e: EntropyError) -> Self {
        Self::Build(BuildError::Entropy(e))
    }
}

impl<E: Into<Error>> From<ExecuteError<E>> for Error {
    fn from(e: ExecuteError<E>) -> Self {
        match e {
            CallError::Build(e) => Self::Build(e),
            CallError::Transport(e) => Self::Transport(e),
            CallError::Api(e) => e.into(),
        }
    }
}

impl Error {
    /// Whether sending the same call again later (with the same `request_id`) may succeed: a
    /// network failure, a timeout, a server error (whether the HTTP status or only the body's
    /// `status` says so), rate limiting, an unreadable answer. Never a success whose data
    /// could not be read: the call took effect.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(e) => e.is_retryable(),
            Self::Linkv(e) => e.is_retryable(),
            Self::Polyv(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether the call may have been applied although it failed: the answer was lost, cut
    /// off or unreadable, or the server failed while handling it. For a coin change, send it
    /// again with the **same** `request_id` and parameters to find out: the server applies it
    /// at most once. A refusal (a stale timestamp, rate limiting, a bad parameter) is not
    /// unknown: nothing was applied. Nor is a success whose data could not be read
    /// ([`LinkvError::UnexpectedData`]): the server said it was applied.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport(e) => e.may_have_been_sent(),
            Self::Linkv(e) => matches!(
                e,
                LinkvError::Server { .. } | LinkvError::UnexpectedResponse { .. }
            ),
            Self::Polyv(e) => matches!(
                e,
                PolyvError::Server { .. } | PolyvError::UnexpectedResponse { .. }
            ),
            _ => false,
        }
    }

    /// Whether the credentials are wrong: a bad signature or an unknown app.
    #[must_use]
    pub fn is_auth(&self) -> bool {
        match self {
            Self::Linkv(e) => e.is_auth(),
            Self::Polyv(e) => e.is_auth(),
            Self::Credentials(_) => true,
            _ => false,
        }
    }

    /// Whether the server (or the client-side limit) asked to slow down.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Self::Linkv(e) => e.is_rate_limited(),
            Self::Polyv(e) => e.is_rate_limited(),
            Self::Transport(e) => e.kind() == TransportErrorKind::Throttled,
            _ => false,
        }
    }

    /// Whether the call ran out of time.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Transport(e) if e.kind() == TransportErrorKind::Timeout)
    }

    /// Whether a parameter was refused, by this crate before sending or by the server.
    #[must_use]
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Self::Invalid(_)
                | Self::Linkv(LinkvError::BadParameter { .. })
                | Self::Polyv(PolyvError::BadParameter { .. })
        )
    }
}
