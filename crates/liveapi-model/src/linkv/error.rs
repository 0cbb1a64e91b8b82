//! What a LinkV server can answer instead of success, and how an answer is classified.

use crate::RawBody;

/// A LinkV call that did not succeed, as the server said it.
///
/// The body's `status` decides the kind, whatever the HTTP status (the real server answers its
/// errors with HTTP 200: API-NOTES, "How the real server answers"). The documented statuses
/// are 400 (参数错误, a bad or missing parameter; 参数长度错误, a `userId` too long), 403
/// (签名错误, `sign err`) and 500 (系统错误); see [`classify`](Self::classify) for how the
/// message refines them. Nothing here contains a secret: the server never echoes one.
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
    /// Status 403 (`sign err`, or 401): the signature does not match. Check the secret and see
    /// `liveapi_sign::linkv` for the canonical string.
    #[error("LinkV rejected the signature (403): {message}")]
    BadSignature {
        /// The server's `msg`.
        message: String,
    },
    /// The nonce's time is more than five minutes from the server's clock. Recognised only by
    /// a message listed in [`classify`](Self::classify)'s table.
    #[error("LinkV rejected the nonce as expired ({status}): {message}")]
    ExpiredTimestamp {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// The `request_id` was applied before with other parameters: an earlier request with
    /// this id was applied, this one was not, and resending it can never apply it. The change
    /// must be reconciled (the balance, the vendor's records) before anything else is sent.
    /// Recognised only by a message listed in [`classify`](Self::classify)'s table.
    #[error(
        "LinkV already applied another change with this request_id ({status}): {message}; this one was not applied"
    )]
    IdempotencyConflict {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// The `app_id` is not known to the server. Recognised only by a message listed in
    /// [`classify`](Self::classify)'s table.
    #[error("LinkV does not know this app_id ({status}): {message}")]
    UnknownApp {
        /// The server's `status`.
        status: i64,
        /// The server's `msg`.
        message: String,
    },
    /// Status 429: too many requests.
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
    /// truncated body. Whether the call took effect is unknown.
    #[error("unexpected LinkV response (HTTP {http_status}): {reason}; body: {body}")]
    UnexpectedResponse {
        /// The HTTP status.
        http_status: u16,
        /// What was wrong with it.
        reason: String,
        /// The start of the body.
        body: RawBody,
    },
    /// The server answered success (`status` 200), but its `data` is not what the call
    /// returns: a balance that is not a number, a token answer without an open id. The call
    /// took effect, so it is not retried: sending it again would apply nothing new, or issue
    /// another token.
    #[error("LinkV answered success, but its data cannot be read: {reason}; body: {body}")]
    UnexpectedData {
        /// What was wrong with it.
        reason: String,
        /// The start of the body (withheld for answers that carry a live token).
        body: RawBody,
    },
}

/// What a known message makes of an error, within its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refined {
    ExpiredTimestamp,
    UnknownApp,
    IdempotencyConflict,
}

/// A message known to mean more than its status says, and where it is known from.
#[derive(Clone, Copy, Debug)]
struct KnownMessage {
    /// The `status` it comes with; under any other status it refines nothing.
    status: i64,
    /// The whole message, compared after trimming spaces, ASCII case ignored.
    message: &'static str,
    refined: Refined,
    /// Where the message is known from.
    #[cfg_attr(not(test), allow(dead_code))]
    source: &'static str,
}

/// Every message that refines a status, with its source. Message matching happens here and
/// nowhere else, on whole messages only: "coins expired" is no nonce error.
///
/// The documents name no message for a stale nonce or an unknown `app_id`; the entries are
/// the emulator's words for them, kept so that its answers get a kind, and they refine
/// nothing for any other status.
const KNOWN_MESSAGES: &[KnownMessage] = &[
    KnownMessage {
        status: 400,
        message: "nonce_str expired",
        refined: Refined::ExpiredTimestamp,
        source: "liveapi-emulator's message for a nonce more than 5 minutes off (API-NOTES, \
                 \"nonce_str and time\", documents the refusal but not its words)",
    },
    KnownMessage {
        status: 400,
        message: "request_id already used with different parameters",
        refined: Refined::IdempotencyConflict,
        source: "liveapi-emulator's message for a request_id repeated with other parameters \
                 (the seed documents request_id as the idempotency key, not this refusal)",
    },
    KnownMessage {
        status: 403,
        message: "app_id not found",
        refined: Refined::UnknownApp,
        source: "liveapi-emulator's message for an unknown app_id (undocumented by the seed)",
    },
];

impl LinkvError {
    /// Maps a non-200 `status` and its `msg` to an error.
    ///
    /// The status decides first, by the seed's error table and HTTP's meanings:
    ///
    /// | `status` | kind | source |
    /// |---|---|---|
    /// | 400 | [`BadParameter`](Self::BadParameter) | seed: 400 参数错误, 参数长度错误 |
    /// | 401, 403 | [`BadSignature`](Self::BadSignature) | seed: 403 签名错误 (`sign err`); 401 by HTTP's meaning |
    /// | 429 | [`RateLimited`](Self::RateLimited) | HTTP's meaning (RFC 6585); LinkV documents no limit |
    /// | 500–599 | [`Server`](Self::Server) | seed: 500 系统错误 |
    /// | any other | [`Rejected`](Self::Rejected) | undocumented |
    ///
    /// Then a message refines the kind only if it is one of these, whole, with its status:
    ///
    /// | `status` | `msg` | kind | source |
    /// |---|---|---|---|
    /// | 400 | `nonce_str expired` | [`ExpiredTimestamp`](Self::ExpiredTimestamp) | liveapi-emulator's words; API-NOTES documents the refusal, not its message |
    /// | 400 | `request_id already used with different parameters` | [`IdempotencyConflict`](Self::IdempotencyConflict) | liveapi-emulator's words; the seed documents the key, not the refusal |
    /// | 403 | `app_id not found` | [`UnknownApp`](Self::UnknownApp) | liveapi-emulator's words; the seed does not document the case |
    ///
    /// ```
    /// use liveapi_model::linkv::LinkvError;
    /// assert!(matches!(LinkvError::classify(403, "sign err".into()), LinkvError::BadSignature { .. }));
    /// assert!(matches!(LinkvError::classify(400, "param err".into()), LinkvError::BadParameter { .. }));
    /// assert!(matches!(LinkvError::classify(500, "system err".into()), LinkvError::Server { .. }));
    /// assert!(matches!(LinkvError::classify(400, "nonce_str expired".into()), LinkvError::ExpiredTimestamp { .. }));
    /// // Only whole, listed messages refine, and only with their status.
    /// assert!(matches!(LinkvError::classify(400, "coins expired".into()), LinkvError::BadParameter { .. }));
    /// assert!(matches!(LinkvError::classify(500, "nonce_str expired".into()), LinkvError::Server { .. }));
    /// ```
    #[must_use]
    pub fn classify(status: i64, message: String) -> Self {
        let trimmed = message.trim();
        let known = KNOWN_MESSAGES
            .iter()
            .find(|k| k.status == status && k.message.eq_ignore_ascii_case(trimmed));
        match known.map(|k| k.refined) {
            Some(Refined::ExpiredTimestamp) => Self::ExpiredTimestamp { status, message },
            Some(Refined::UnknownApp) => Self::UnknownApp { status, message },
            Some(Refined::IdempotencyConflict) => Self::IdempotencyConflict { status, message },
            None => match status {
                400 => Self::BadParameter { message },
                401 | 403 => Self::BadSignature { message },
                429 => Self::RateLimited { status, message },
                500..=599 => Self::Server { status, message },
                _ => Self::Rejected { status, message },
            },
        }
    }

    /// Whether the same call may succeed if sent again (re-signed, same `request_id`): server
    /// errors, rate limiting, an expired nonce and responses that could not be read. A caller
    /// mistake (bad parameter, bad signature, unknown app) is never retryable, and neither is
    /// a success whose data could not be read.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_message_names_its_source_and_refines_only_its_status() {
        for known in KNOWN_MESSAGES {
            assert!(!known.source.is_empty(), "{known:?}");
            let refined = LinkvError::classify(known.status, known.message.to_owned());
            assert!(
                matches!(
                    (known.refined, &refined),
                    (
                        Refined::ExpiredTimestamp,
                        LinkvError::ExpiredTimestamp { .. }
                    ) | (Refined::UnknownApp, LinkvError::UnknownApp { .. })
                        | (
                            Refined::IdempotencyConflict,
                            LinkvError::IdempotencyConflict { .. }
                        )
                ),
                "{known:?}: {refined:?}"
            );
            // Padded or in capitals, it is still the whole message.
            let padded = format!("  {}  ", known.message.to_ascii_uppercase());
            assert_eq!(
                std::mem::discriminant(&LinkvError::classify(known.status, padded)),
                std::mem::discriminant(&refined)
            );
            // With another status, or as part of a longer message, it refines nothing.
            for status in [200, 400, 403, 500] {
                if status == known.status {
                    continue;
                }
                let plain = LinkvError::classify(status, known.message.to_owned());
                assert!(
                    !matches!(
                        plain,
                        LinkvError::ExpiredTimestamp { .. }
                            | LinkvError::UnknownApp { .. }
                            | LinkvError::IdempotencyConflict { .. }
                    ),
                    "{status} {known:?}"
                );
            }
            let longer = format!("{} soon", known.message);
            assert!(!matches!(
                LinkvError::classify(known.status, longer),
                LinkvError::ExpiredTimestamp { .. }
                    | LinkvError::UnknownApp { .. }
                    | LinkvError::IdempotencyConflict { .. }
            ));
        }
    }
}
