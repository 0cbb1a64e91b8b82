//! What a LinkV server can answer instead of success.

use crate::RawBody;

/// A LinkV call that did not succeed, as the server said it.
///
/// The documented statuses are 400 (bad or missing parameter), 403 (`sign err`) and 500
/// (server error); the message text refines them where it is recognisable. Nothing here
/// contains a secret: the server never echoes one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkvError {
    /// Status 400: a parameter is missing, too long or invalid, or the ledger refused the
    /// change (unknown user, not enough coins, order already completed…).
    #[error("LinkV refused a parameter (400): {message}")]
    BadParameter {
        /// The server's `msg`.
        message: String,
    },
    /// Status 403 `sign err`: the signature does not match. Check the secret and see
    /// `liveapi_sign::linkv` for the canonical string.
    #[error("LinkV rejected the signature (403): {message}")]
    BadSignature {
        /// The server's `msg`.
        message: String,
    },
    /// The nonce's time is more than five minutes from the server's clock.
    #[error("LinkV rejected the nonce as expired ({status}): {message}")]
    ExpiredTimestamp {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// The `app_id` is not known to the server.
    #[error("LinkV does not know this app_id ({status}): {message}")]
    UnknownApp {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// Too many requests.
    #[error("LinkV is rate limiting ({status}): {message}")]
    RateLimited {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// Status 500 or another 5xx: the server failed.
    #[error("LinkV server error ({status}): {message}")]
    Server {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// A status the documentation does not describe.
    #[error("LinkV answered status {status}: {message}")]
    Rejected {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// The response is not a LinkV answer at all: an HTML error page from a proxy, an empty or
    /// truncated body, a balance that is not a number. Whether the call took effect is unknown.
    #[error("unexpected LinkV response (HTTP {http_status}): {reason}; body: {body}")]
    UnexpectedResponse {
        /// The HTTP status.
        http_status: u16,
        /// What was wrong with it.
        reason: String,
        /// The start of the body.
        body: RawBody,
    },
}

impl LinkvError {
    /// Maps a non-200 `status` and its `msg` to an error.
    ///
    /// ```
    /// use liveapi_model::linkv::LinkvError;
    /// assert!(matches!(LinkvError::classify(403, "sign err".into()), LinkvError::BadSignature { .. }));
    /// assert!(matches!(LinkvError::classify(400, "param err: userId".into()), LinkvError::BadParameter { .. }));
    /// assert!(matches!(LinkvError::classify(500, "system err".into()), LinkvError::Server { .. }));
    /// ```
    #[must_use]
    pub fn classify(status: i64, message: String) -> Self {
        let lower = message.to_ascii_lowercase();
        let mentions = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        if mentions(&["expire"]) {
            Self::ExpiredTimestamp { status, message }
        } else if mentions(&["app_id", "app id", "appid", "application"])
            && mentions(&["not found", "not exist", "unknown", "invalid"])
        {
            Self::UnknownApp { status, message }
        } else if status == 429 || mentions(&["rate limit", "too many", "qps", "frequen"]) {
            Self::RateLimited { status, message }
        } else {
            match status {
                400 => Self::BadParameter { message },
                401 | 403 => Self::BadSignature { message },
                500..=599 => Self::Server { status, message },
                _ => Self::Rejected { status, message },
            }
        }
    }

    /// Whether the same call may succeed if sent again (re-signed, same `request_id`): server
    /// errors, rate limiting, an expired nonce and responses that could not be read. A caller
    /// mistake (bad parameter, bad signature, unknown app) is never retryable.
    ///
    /// ```
    /// use liveapi_model::linkv::LinkvError;
    /// assert!(LinkvError::classify(500, "system err".into()).is_retryable());
    /// assert!(!LinkvError::classify(403, "sign err".into()).is_retryable());
    /// ```
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::ExpiredTimestamp { .. }
                | Self::RateLimited { .. }
                | Self::Server { .. }
                | Self::UnexpectedResponse { .. }
        )
    }

    /// Whether the credentials are wrong: bad signature or unknown app.
    #[must_use]
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::BadSignature { .. } | Self::UnknownApp { .. })
    }

    /// Whether the server asked to slow down.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::RateLimited { .. })
    }
}
