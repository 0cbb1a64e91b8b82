//! What a Polyv server can answer instead of success.

use crate::RawBody;

/// A Polyv call that did not succeed, as the server said it.
///
/// Polyv's codes vary between pages of its documentation, so the message decides where it is
/// one of the known ones (`invalid signature.`, `illegal channel id: N`, …) and the code
/// otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolyvError {
    /// A parameter or the JSON body is missing or invalid (`param validate error`,
    /// `number range error`, `json format error`, `param is not boolean (Y / N)`,
    /// `appId is required.`).
    #[error("Polyv refused a parameter ({code}): {message}")]
    BadParameter {
        /// The server's `code`.
        code: i64,
        /// The server's `message`.
        message: String,
    },
    /// `invalid signature.`: check the secret, and that `channelId` is in the signed query.
    #[error("Polyv rejected the signature ({code}): {message}")]
    BadSignature {
        /// The server's `code`.
        code: i64,
        /// The server's `message`.
        message: String,
    },
    /// `invalid timestamp.`: more than three minutes from the server's clock, or not in
    /// milliseconds.
    #[error("Polyv rejected the timestamp ({code}): {message}")]
    ExpiredTimestamp {
        /// The server's `code`.
        code: i64,
        /// The server's `message`.
        message: String,
    },
    /// `application not found.`: the `appId` is not known.
    #[error("Polyv does not know this appId ({code}): {message}")]
    UnknownApp {
        /// The server's `code`.
        code: i64,
        /// The server's `message`.
        message: String,
    },
    /// `illegal channel id: N`: the channel does not exist or belongs to another account.
    #[error("Polyv refused the channel ({code}): {message}")]
    IllegalChannel {
        /// The server's `code`.
        code: i64,
        /// The channel named in the message, if it named one.
        channel: Option<String>,
        /// The server's `message`.
        message: String,
    },
    /// `qps exceeds number of calls`: more than 1500 calls in 10 s from this IP, which gets the
    /// IP blocked for five minutes.
    #[error("Polyv is rate limiting ({code}): {message}")]
    RateLimited {
        /// The server's `code`.
        code: i64,
        /// The server's `message`.
        message: String,
    },
    /// Code 500 (`status` `fail`) or another server-side failure.
    #[error("Polyv server error ({code}): {message}")]
    Server {
        /// The server's `code`.
        code: i64,
        /// The server's `message`.
        message: String,
    },
    /// A code and message this crate does not recognise.
    #[error("Polyv answered code {code}: {message}")]
    Rejected {
        /// The server's `code`.
        code: i64,
        /// The server's `message`.
        message: String,
    },
    /// The response is not a Polyv answer at all: an HTML error page, an empty or truncated
    /// body, a field of the wrong type. Whether the call took effect is unknown.
    #[error("unexpected Polyv response (HTTP {http_status}): {reason}; body: {body}")]
    UnexpectedResponse {
        /// The HTTP status.
        http_status: u16,
        /// What was wrong with it.
        reason: String,
        /// The start of the body.
        body: RawBody,
    },
}

impl PolyvError {
    /// Maps a failed `code`, `status` and `message` to an error.
    ///
    /// ```
    /// use liveapi_model::polyv::PolyvError;
    /// let err = PolyvError::classify(403, "error", "illegal channel id: 10001".into());
    /// assert!(matches!(err, PolyvError::IllegalChannel { channel: Some(ref c), .. } if c == "10001"));
    /// let err = PolyvError::classify(400, "error", "invalid timestamp.".into());
    /// assert!(matches!(err, PolyvError::ExpiredTimestamp { .. }));
    /// ```
    #[must_use]
    pub fn classify(code: i64, status: &str, message: String) -> Self {
        let lower = message.trim().to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("illegal channel id") {
            let channel = rest.trim_start_matches([':', ' ']).trim().to_owned();
            return Self::IllegalChannel {
                code,
                channel: (!channel.is_empty()).then_some(channel),
                message,
            };
        }
        match lower.trim_end_matches('.') {
            "invalid signature" => Self::BadSignature { code, message },
            "invalid timestamp" => Self::ExpiredTimestamp { code, message },
            "application not found" => Self::UnknownApp { code, message },
            "appid is required"
            | "param validate error"
            | "number range error"
            | "json format error"
            | "param is not boolean (y / n)" => Self::BadParameter { code, message },
            m if m.contains("qps") || m.contains("exceeds number of calls") => {
                Self::RateLimited { code, message }
            }
            _ => match code {
                400 => Self::BadParameter { code, message },
                401 | 403 => Self::BadSignature { code, message },
                429 => Self::RateLimited { code, message },
                500..=599 => Self::Server { code, message },
                _ if status.eq_ignore_ascii_case("fail") => Self::Server { code, message },
                _ => Self::Rejected { code, message },
            },
        }
    }

    /// Whether the same call may succeed if sent again, re-signed: server errors, rate
    /// limiting (after a pause), an expired timestamp and responses that could not be read.
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
