//! What a server answered instead of success, for either vendor.
//!
//! One type for both: the vendors differ in the words of their envelopes and in which messages
//! they document, not in the kinds of refusal there are. Each vendor's own table of statuses
//! and documented messages lives beside its calls (`linkv::error`, `polyv::error`); what a kind
//! *means* for retrying and for money is decided in one place above this crate
//! (`liveapi_request::meaning`, see `docs/answers.md`).

use std::fmt;

use crate::{RawBody, Vendor};

/// What kind of answer the server gave, as far as its status, code and documented message say.
///
/// The server's words decide only where its documentation names them (`docs/polyv.md#errors`);
/// LinkV documents statuses alone (`docs/linkv.md#errors`), so a LinkV answer's kind comes from
/// its `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// A parameter is missing, too long or invalid, or the ledger refused the change (unknown
    /// user, not enough coins, order already completed…): status or code 400.
    BadParameter,
    /// The signature does not match: status or code 401 or 403 (LinkV `sign err`, Polyv
    /// `invalid signature.`).
    BadSignature,
    /// The app id is not known (Polyv `application not found.`).
    UnknownApp,
    /// The request's time is outside the server's window (Polyv `invalid timestamp.`).
    ExpiredTimestamp,
    /// The channel does not exist or belongs to another account (Polyv `illegal channel id: N`).
    IllegalChannel,
    /// The server asked to slow down: status or code 429, or Polyv `qps exceeds number of
    /// calls`.
    RateLimited,
    /// The server failed: a 5xx status or code, or Polyv's `status` `fail`.
    ServerError,
    /// A status or code the vendor does not document.
    Unrecognised,
    /// The answer is not the vendor's envelope at all: an HTML page from a proxy, an empty or
    /// truncated body.
    UnreadableAnswer,
    /// The server answered success, but its `data` is not what the call returns.
    UnreadableData,
}

/// A call the server did not answer with success, as the server said it: the vendor, the HTTP
/// status, the status or code in the body, the message, and the start of the body.
///
/// Nothing here contains a secret: the servers never echo one, and the body of an answer that
/// may carry a live token is withheld ([`RawBody::withheld`]).
///
/// ```
/// use liveapi_model::{ApiError, ApiErrorKind, Vendor};
///
/// let err = ApiError::linkv(403, "sign err");
/// assert_eq!(err.kind(), ApiErrorKind::BadSignature);
/// assert_eq!((err.vendor(), err.code(), err.message()), (Vendor::Linkv, Some(403), "sign err"));
/// assert_eq!(err.to_string(), "LinkV rejected the signature (403): sign err");
///
/// let err = ApiError::polyv(403, "error", "illegal channel id: 10001");
/// assert_eq!(err.kind(), ApiErrorKind::IllegalChannel);
/// assert_eq!(err.channel(), Some("10001"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError(Box<Inner>);

/// Behind a box, so that a `Result` carrying an error stays one pointer wide on the hot path.
#[derive(Clone, PartialEq, Eq)]
struct Inner {
    vendor: Vendor,
    kind: ApiErrorKind,
    http_status: u16,
    code: Option<i64>,
    message: String,
    /// Why an answer could not be read; `None` for the server's own refusals.
    reason: Option<String>,
    channel: Option<String>,
    body: Option<RawBody>,
}

impl ApiError {
    /// An error of `kind` that `vendor`'s server answered with `code` and `message` in its
    /// envelope, over HTTP 200 until [`with_http_status`](Self::with_http_status) says
    /// otherwise.
    ///
    /// The vendors' tables pick the kind: prefer [`linkv`](Self::linkv) and
    /// [`polyv`](Self::polyv), which apply them.
    #[must_use]
    pub fn new(vendor: Vendor, kind: ApiErrorKind, code: i64, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            vendor,
            kind,
            http_status: 200,
            code: Some(code),
            message: message.into(),
            reason: None,
            channel: None,
            body: None,
        }))
    }

    /// The LinkV error a failed `status` and its `msg` stand for, by LinkV's table
    /// (`docs/linkv.md#errors`): 400 [`BadParameter`](ApiErrorKind::BadParameter), 401 and 403
    /// [`BadSignature`](ApiErrorKind::BadSignature), 429
    /// [`RateLimited`](ApiErrorKind::RateLimited), 500–599
    /// [`ServerError`](ApiErrorKind::ServerError), anything else
    /// [`Unrecognised`](ApiErrorKind::Unrecognised). LinkV documents no message, so the message
    /// never changes the kind.
    ///
    /// ```
    /// use liveapi_model::{ApiError, ApiErrorKind};
    /// assert_eq!(ApiError::linkv(400, "param err").kind(), ApiErrorKind::BadParameter);
    /// assert_eq!(ApiError::linkv(500, "system err").kind(), ApiErrorKind::ServerError);
    /// // Words the documentation does not give decide nothing.
    /// assert_eq!(ApiError::linkv(400, "nonce_str expired").kind(), ApiErrorKind::BadParameter);
    /// ```
    #[must_use]
    pub fn linkv(status: i64, message: impl Into<String>) -> Self {
        Self::new(
            Vendor::Linkv,
            crate::linkv::error::kind(status),
            status,
            message,
        )
    }

    /// The Polyv error a failed `code`, `status` and `message` stand for, by Polyv's table
    /// (`docs/polyv.md#errors`): the code first, then, within the client errors, a documented
    /// message.
    ///
    /// ```
    /// use liveapi_model::{ApiError, ApiErrorKind};
    /// let err = ApiError::polyv(400, "error", "invalid timestamp.");
    /// assert_eq!(err.kind(), ApiErrorKind::ExpiredTimestamp);
    /// let err = ApiError::polyv(400, "error", "the qps of this host");
    /// assert_eq!(err.kind(), ApiErrorKind::BadParameter);
    /// ```
    #[must_use]
    pub fn polyv(code: i64, status: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let (kind, channel) = crate::polyv::error::kind(code, status, &message);
        let mut error = Self::new(Vendor::Polyv, kind, code, message);
        error.0.channel = channel;
        error
    }

    /// An answer of `vendor` that is not its envelope at all
    /// ([`UnreadableAnswer`](ApiErrorKind::UnreadableAnswer)): `reason` says what is wrong
    /// with it.
    #[must_use]
    pub fn unreadable_answer(
        vendor: Vendor,
        http_status: u16,
        reason: impl Into<String>,
        body: RawBody,
    ) -> Self {
        Self::unreadable(
            vendor,
            ApiErrorKind::UnreadableAnswer,
            http_status,
            reason,
            body,
        )
    }

    /// A success of `vendor` whose `data` is not what the call returns
    /// ([`UnreadableData`](ApiErrorKind::UnreadableData)).
    #[must_use]
    pub fn unreadable_data(
        vendor: Vendor,
        http_status: u16,
        reason: impl Into<String>,
        body: RawBody,
    ) -> Self {
        Self::unreadable(
            vendor,
            ApiErrorKind::UnreadableData,
            http_status,
            reason,
            body,
        )
    }

    fn unreadable(
        vendor: Vendor,
        kind: ApiErrorKind,
        http_status: u16,
        reason: impl Into<String>,
        body: RawBody,
    ) -> Self {
        Self(Box::new(Inner {
            vendor,
            kind,
            http_status,
            // A success says 200 in its body; an answer that is no envelope says nothing.
            code: (kind == ApiErrorKind::UnreadableData).then_some(200),
            message: String::new(),
            reason: Some(reason.into()),
            channel: None,
            body: Some(body),
        }))
    }

    /// This error, as received with HTTP status `status`.
    #[must_use]
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.0.http_status = status;
        self
    }

    /// This error, with the start of the body it came in.
    #[must_use]
    pub fn with_body(mut self, body: RawBody) -> Self {
        self.0.body = Some(body);
        self
    }

    /// The vendor whose server answered.
    #[must_use]
    pub fn vendor(&self) -> Vendor {
        self.0.vendor
    }

    /// What kind of answer it was.
    #[must_use]
    pub fn kind(&self) -> ApiErrorKind {
        self.0.kind
    }

    /// The HTTP status of the answer (LinkV's server answers its errors with 200).
    #[must_use]
    pub fn http_status(&self) -> u16 {
        self.0.http_status
    }

    /// The status (LinkV) or code (Polyv) in the answer's body, which decides its kind; `None`
    /// when the answer could not be read.
    #[must_use]
    pub fn code(&self) -> Option<i64> {
        self.0.code
    }

    /// The server's message (`msg`, `message`); empty when the answer could not be read.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Why the answer, or its data, could not be read.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// The channel an [`IllegalChannel`](ApiErrorKind::IllegalChannel) message names.
    #[must_use]
    pub fn channel(&self) -> Option<&str> {
        self.0.channel.as_deref()
    }

    /// The start of the answer's body, withheld when it may carry a live token.
    #[must_use]
    pub fn body(&self) -> Option<&RawBody> {
        self.0.body.as_ref()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let this = &*self.0;
        let vendor = this.vendor;
        let code = this.code.unwrap_or(i64::from(this.http_status));
        let message = &this.message;
        let what = match this.kind {
            ApiErrorKind::UnreadableAnswer | ApiErrorKind::UnreadableData => {
                let reason = this.reason.as_deref().unwrap_or_default();
                let empty = RawBody::new(b"");
                let body = this.body.as_ref().unwrap_or(&empty);
                return if this.kind == ApiErrorKind::UnreadableAnswer {
                    write!(
                        f,
                        "unexpected {vendor} response (HTTP {}): {reason}; body: {body}",
                        this.http_status
                    )
                } else {
                    write!(
                        f,
                        "{vendor} answered success, but its data cannot be read: {reason}; body: {body}"
                    )
                };
            }
            ApiErrorKind::BadParameter => "refused a parameter",
            ApiErrorKind::BadSignature => "rejected the signature",
            ApiErrorKind::UnknownApp => "does not know this app id",
            ApiErrorKind::ExpiredTimestamp => "rejected the request's time",
            ApiErrorKind::IllegalChannel => "refused the channel",
            ApiErrorKind::RateLimited => "is rate limiting",
            ApiErrorKind::ServerError => "failed with a server error",
            ApiErrorKind::Unrecognised => "answered an undocumented status",
        };
        write!(f, "{vendor} {what} ({code}): {message}")
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let this = &*self.0;
        let mut debug = f.debug_struct("ApiError");
        debug
            .field("vendor", &this.vendor)
            .field("kind", &this.kind)
            .field("http_status", &this.http_status)
            .field("code", &this.code)
            .field("message", &this.message);
        if let Some(reason) = &this.reason {
            debug.field("reason", reason);
        }
        if let Some(channel) = &this.channel {
            debug.field("channel", channel);
        }
        if let Some(body) = &this.body {
            debug.field("body", body);
        }
        debug.finish()
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_as_a_sentence_naming_the_vendor() {
        let cases = [
            (
                ApiError::linkv(400, "param err"),
                "LinkV refused a parameter (400): param err",
            ),
            (
                ApiError::linkv(403, "sign err"),
                "LinkV rejected the signature (403): sign err",
            ),
            (
                ApiError::linkv(429, "slow"),
                "LinkV is rate limiting (429): slow",
            ),
            (
                ApiError::linkv(500, "system err"),
                "LinkV failed with a server error (500): system err",
            ),
            (
                ApiError::linkv(404, "gone"),
                "LinkV answered an undocumented status (404): gone",
            ),
            (
                ApiError::polyv(400, "error", "application not found."),
                "Polyv does not know this app id (400): application not found.",
            ),
            (
                ApiError::polyv(400, "error", "invalid timestamp."),
                "Polyv rejected the request's time (400): invalid timestamp.",
            ),
            (
                ApiError::polyv(403, "error", "illegal channel id: 7"),
                "Polyv refused the channel (403): illegal channel id: 7",
            ),
            (
                ApiError::unreadable_answer(
                    Vendor::Polyv,
                    502,
                    "not JSON",
                    RawBody::new(b"<html>"),
                ),
                "unexpected Polyv response (HTTP 502): not JSON; body: \"<html>\"",
            ),
            (
                ApiError::unreadable_data(Vendor::Linkv, 200, "no tokens", RawBody::withheld(9)),
                "LinkV answered success, but its data cannot be read: no tokens; body: \
                 <9 bytes withheld: the answer may carry a secret>",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn the_parts_of_an_answer_are_kept() {
        let err = ApiError::linkv(403, "sign err")
            .with_http_status(403)
            .with_body(RawBody::new(br#"{"status":"403"}"#));
        assert_eq!(err.http_status(), 403);
        assert_eq!(err.body().map(RawBody::text), Some(r#"{"status":"403"}"#));
        assert_eq!(err.reason(), None);
        assert_eq!(err.channel(), None);
        let unreadable =
            ApiError::unreadable_answer(Vendor::Linkv, 502, "HTML", RawBody::new(b"x"));
        assert_eq!((unreadable.code(), unreadable.message()), (None, ""));
        assert_eq!(unreadable.reason(), Some("HTML"));
        let debug = format!("{unreadable:?}");
        assert!(
            debug.contains("UnreadableAnswer") && debug.contains("HTML"),
            "{debug}"
        );
    }
}
