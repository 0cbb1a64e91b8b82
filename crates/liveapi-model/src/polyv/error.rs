//! What a Polyv server can answer instead of success.

use crate::RawBody;

/// A Polyv call that did not succeed, as the server said it.
///
/// The body's `code` decides, whatever the HTTP status; within the client errors a documented
/// message refines it, because Polyv's codes vary between pages of its documentation (see
/// [`classify`](Self::classify)).
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
    /// body. Whether the call took effect is unknown.
    #[error("unexpected Polyv response (HTTP {http_status}): {reason}; body: {body}")]
    UnexpectedResponse {
        /// The HTTP status.
        http_status: u16,
        /// What was wrong with it.
        reason: String,
        /// The start of the body.
        body: RawBody,
    },
    /// The server answered success (`code` 200), but its `data` is not what the call returns
    /// (settings with a field of the wrong type). Not retried: the server said it succeeded,
    /// and would answer the same again.
    #[error("Polyv answered success, but its data cannot be read: {reason}; body: {body}")]
    UnexpectedData {
        /// What was wrong with it.
        reason: String,
        /// The start of the body.
        body: RawBody,
    },
}

/// What a known message makes of a client error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refined {
    BadParameter,
    BadSignature,
    ExpiredTimestamp,
    UnknownApp,
    IllegalChannel,
    RateLimited,
}

/// A message Polyv documents, and where.
#[derive(Clone, Copy, Debug)]
struct KnownMessage {
    /// The message as documented; matched whole (trimmed, ASCII case and a final `.`
    /// ignored), or as a prefix followed by a channel number when `with_channel`.
    message: &'static str,
    with_channel: bool,
    refined: Refined,
    #[cfg_attr(not(test), allow(dead_code))]
    source: &'static str,
}

const fn known(message: &'static str, refined: Refined, source: &'static str) -> KnownMessage {
    KnownMessage {
        message,
        with_channel: false,
        refined,
        source,
    }
}

/// Every message that decides a kind, with its source. Message matching happens here and
/// nowhere else: on whole messages, or the one documented phrase with a channel number.
const KNOWN_MESSAGES: &[KnownMessage] = &[
    known(
        "appId is required.",
        Refined::BadParameter,
        "seed: 未输入appId, 400",
    ),
    known(
        "application not found.",
        Refined::UnknownApp,
        "seed: appId不正确, 400",
    ),
    known(
        "invalid timestamp.",
        Refined::ExpiredTimestamp,
        "seed: 时间戳错误, 400",
    ),
    known(
        "invalid signature.",
        Refined::BadSignature,
        "seed: 签名错误, 403",
    ),
    KnownMessage {
        message: "illegal channel id:",
        with_channel: true,
        refined: Refined::IllegalChannel,
        source: "seed: channelId非法错误, 403, `illegal channel id: 10001`",
    },
    known(
        "param validate error",
        Refined::BadParameter,
        "seed: 参数错误, 400",
    ),
    known(
        "number range error",
        Refined::BadParameter,
        "seed: 数字类型校验错误, 400",
    ),
    known(
        "json format error",
        Refined::BadParameter,
        "API-NOTES: Polyv known messages",
    ),
    known(
        "param is not boolean (Y / N)",
        Refined::BadParameter,
        "API-NOTES: Polyv known messages, 400",
    ),
    known(
        "qps exceeds number of calls",
        Refined::RateLimited,
        "API-NOTES: Polyv known messages and rate limit",
    ),
];

/// The known message `message` is, and the channel it names if it is the channel phrase.
fn recognise(message: &str) -> Option<(Refined, Option<String>)> {
    let message = message.trim();
    let message = message.strip_suffix('.').unwrap_or(message);
    KNOWN_MESSAGES.iter().find_map(|k| {
        let documented = k.message.strip_suffix('.').unwrap_or(k.message);
        if k.with_channel {
            let head = message.get(..documented.len())?;
            if !head.eq_ignore_ascii_case(documented) {
                return None;
            }
            let channel = message[documented.len()..].trim();
            let digits = !channel.is_empty() && channel.bytes().all(|b| b.is_ascii_digit());
            (channel.is_empty() || digits).then(|| (k.refined, digits.then(|| channel.to_owned())))
        } else {
            message
                .eq_ignore_ascii_case(documented)
                .then_some((k.refined, None))
        }
    })
}

impl PolyvError {
    /// Maps a failed `code`, `status` and `message` to an error.
    ///
    /// The code decides first: 400 is [`BadParameter`](Self::BadParameter), 401 and 403
    /// [`BadSignature`](Self::BadSignature), 429 [`RateLimited`](Self::RateLimited), 500–599
    /// [`Server`](Self::Server) (the seed: "参数错误为400, 签名失败为403, 服务端错误为500"; 401
    /// and 429 by HTTP's meanings), any other code [`Server`](Self::Server) when `status` is
    /// `fail` and [`Rejected`](Self::Rejected) otherwise.
    ///
    /// Within the client errors (400–499), a documented message decides the kind, because the
    /// codes vary between pages of the documentation (API-NOTES, "Responses and errors"):
    ///
    /// | `message` | kind | source |
    /// |---|---|---|
    /// | `appId is required.` | [`BadParameter`](Self::BadParameter) | seed |
    /// | `application not found.` | [`UnknownApp`](Self::UnknownApp) | seed |
    /// | `invalid timestamp.` | [`ExpiredTimestamp`](Self::ExpiredTimestamp) | seed |
    /// | `invalid signature.` | [`BadSignature`](Self::BadSignature) | seed |
    /// | `illegal channel id: N` | [`IllegalChannel`](Self::IllegalChannel) | seed |
    /// | `param validate error`, `number range error` | [`BadParameter`](Self::BadParameter) | seed |
    /// | `json format error`, `param is not boolean (Y / N)` | [`BadParameter`](Self::BadParameter) | API-NOTES |
    /// | `qps exceeds number of calls` | [`RateLimited`](Self::RateLimited) | API-NOTES |
    ///
    /// A message matches whole (spaces around it, ASCII case and the final `.` aside), never
    /// as a part of a longer one.
    ///
    /// ```
    /// use liveapi_model::polyv::PolyvError;
    /// let err = PolyvError::classify(403, "error", "illegal channel id: 10001".into());
    /// assert!(matches!(err, PolyvError::IllegalChannel { channel: Some(ref c), .. } if c == "10001"));
    /// let err = PolyvError::classify(400, "error", "invalid timestamp.".into());
    /// assert!(matches!(err, PolyvError::ExpiredTimestamp { .. }));
    /// let err = PolyvError::classify(400, "error", "the qps of this host".into());
    /// assert!(matches!(err, PolyvError::BadParameter { .. }));
    /// ```
    #[must_use]
    pub fn classify(code: i64, status: &str, message: String) -> Self {
        if (400..=499).contains(&code)
            && let Some((refined, channel)) = recognise(&message)
        {
            return match refined {
                Refined::BadParameter => Self::BadParameter { code, message },
                Refined::BadSignature => Self::BadSignature { code, message },
                Refined::ExpiredTimestamp => Self::ExpiredTimestamp { code, message },
                Refined::UnknownApp => Self::UnknownApp { code, message },
                Refined::RateLimited => Self::RateLimited { code, message },
                Refined::IllegalChannel => Self::IllegalChannel {
                    code,
                    channel,
                    message,
                },
            };
        }
        match code {
            400 => Self::BadParameter { code, message },
            401 | 403 => Self::BadSignature { code, message },
            429 => Self::RateLimited { code, message },
            500..=599 => Self::Server { code, message },
            _ if status.eq_ignore_ascii_case("fail") => Self::Server { code, message },
            _ => Self::Rejected { code, message },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_message_names_its_source_and_is_matched_whole() {
        for known in KNOWN_MESSAGES {
            assert!(!known.source.is_empty(), "{known:?}");
            let message = if known.with_channel {
                format!("{} 10001", known.message)
            } else {
                known.message.to_owned()
            };
            assert_eq!(recognise(&message).map(|r| r.0), Some(known.refined));
            assert_eq!(
                recognise(&format!("  {}  ", message.to_ascii_uppercase())).map(|r| r.0),
                Some(known.refined)
            );
            assert_eq!(recognise(&format!("{message} and more")), None, "{message}");
            assert_eq!(recognise(&format!("not {message}")), None, "{message}");
            // A server failure is never refined by its message.
            assert!(matches!(
                PolyvError::classify(500, "fail", message),
                PolyvError::Server { .. }
            ));
        }
    }
}
