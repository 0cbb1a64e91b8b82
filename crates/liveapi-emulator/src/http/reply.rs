//! Answers: the vendors' JSON envelopes, the HTML pages of failing gateways, and the response
//! body type that can also cut an answer short.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{
    CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER,
};
use http::{Response, StatusCode};
use hyper::body::{Frame, SizeHint};
use serde_json::{Value, json};

use crate::vendors::signature_refusal::SignatureRefusal;
use crate::{FaultKind, Vendor};

const JSON: &str = "application/json;charset=UTF-8";
const HTML: &str = "text/html";
/// What the real LinkV server most likely sends with its JSON: PHP's default
/// (`docs/linkv.md#how-the-real-server-answers`).
const LINKV_HTML: &str = "text/html; charset=UTF-8";

/// How the LinkV side answers, fixed at start.
///
/// By default as the real server does (`docs/linkv.md#how-the-real-server-answers`): errors in an
/// HTTP 200 answer, with the error in the body's `status` and `msg`, and a `text/html`
/// content type on every answer. Each can be switched so that clients' other paths stay
/// tested too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LinkvAnswers {
    /// Errors carry the HTTP status matching their `status` (400, 403, 500) instead of 200.
    pub(crate) error_http_status: bool,
    /// `application/json` instead of `text/html` as the content type.
    pub(crate) json_content_type: bool,
}

impl LinkvAnswers {
    fn content_type(self) -> &'static str {
        if self.json_content_type {
            JSON
        } else {
            LINKV_HTML
        }
    }

    /// A LinkV API answer (a success or an error envelope) as this style sends it.
    pub(crate) fn answer(self, mut reply: Reply) -> Reply {
        if !self.error_http_status {
            reply.status = StatusCode::OK;
        }
        self.typed(reply)
    }

    /// A LinkV answer that keeps its HTTP status whatever the style (a path or method the
    /// server does not serve, an injected server failure), with this style's content type.
    pub(crate) fn typed(self, mut reply: Reply) -> Reply {
        if reply.content_type == JSON {
            reply.content_type = self.content_type();
        }
        reply
    }
}

/// The first instant IMF-fixdate cannot write: 10000-01-01T00:00:00Z.
const YEAR_10000: Duration = Duration::from_secs(253_402_300_800);

/// `at` as the value of a `Date` header (IMF-fixdate, RFC 9110 section 5.6.7), or `None` for
/// a time the format cannot hold (a clock set past the year 9999): a server without a usable
/// clock sends no `Date` (section 6.6.1).
pub(crate) fn http_date(at: SystemTime) -> Option<HeaderValue> {
    let since_epoch = at.duration_since(UNIX_EPOCH).ok()?;
    if since_epoch >= YEAR_10000 {
        return None;
    }
    HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()
}

/// LinkV's message for a server failure: the documentation lists 500 系统错误 without its words
/// (`docs/linkv.md#errors`), so they are made after the one it gives, `sign err` for 签名错误.
pub(crate) const LINKV_SYSTEM_ERR: &str = "system err";

/// At most `max` bytes of `text`, cut at a character boundary, for echoing client input in a
/// message.
pub(crate) fn clip(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An answer before it becomes an HTTP response.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    content_type: &'static str,
    /// The vendor's message, for the request log.
    pub(crate) message: String,
    /// What the emulator expected of a signature it refused, for the request log.
    pub(crate) signature: Option<Box<SignatureRefusal>>,
    retry_after: bool,
    close: bool,
    /// More headers, for the dashboard's page and files.
    headers: &'static [(&'static str, &'static str)],
}

impl Reply {
    pub(crate) fn json(status: StatusCode, value: &Value, message: impl Into<String>) -> Self {
        Self {
            status,
            // A `Value`'s keys are strings, so writing it cannot fail.
            body: Bytes::from(value.to_string()),
            content_type: JSON,
            message: message.into(),
            signature: None,
            retry_after: false,
            close: false,
            headers: &[],
        }
    }

    fn html(status: StatusCode) -> Self {
        let line = format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        );
        let page = format!(
            "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n<center><h1>{line}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        );
        Self {
            status,
            body: Bytes::from(page),
            content_type: HTML,
            message: line,
            signature: None,
            retry_after: status == StatusCode::SERVICE_UNAVAILABLE,
            close: false,
            headers: &[],
        }
    }

    /// Adds what the emulator expected of the signature this answer refuses.
    pub(crate) fn explained(mut self, refusal: Option<SignatureRefusal>) -> Self {
        self.signature = refusal.map(Box::new);
        self
    }

    /// A file built into the binary (the dashboard's page, script and style sheet), with its
    /// content type and more headers.
    pub(crate) fn file(
        content_type: &'static str,
        body: &'static str,
        headers: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self {
            status: StatusCode::OK,
            body: Bytes::from_static(body.as_bytes()),
            content_type,
            message: String::new(),
            signature: None,
            retry_after: false,
            close: false,
            headers,
        }
    }

    /// Asks the client to close the connection after this answer (after an oversized body
    /// that was not read to its end).
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// LinkV's success envelope; `data` is left out for calls that answer nothing.
    pub(crate) fn linkv_ok(data: Option<Value>) -> Self {
        let value = match data {
            Some(data) => json!({"status": "200", "msg": "", "data": data}),
            None => json!({"status": "200", "msg": ""}),
        };
        Self::json(StatusCode::OK, &value, "")
    }

    /// LinkV's error envelope: `{"status":"403","msg":"sign err","data":[]}`, with the same
    /// HTTP status (which [`LinkvAnswers::answer`] turns into 200 unless asked not to).
    pub(crate) fn linkv_error(status: StatusCode, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        let value = json!({"status": status.as_u16().to_string(), "msg": msg, "data": []});
        Self::json(status, &value, msg)
    }

    /// Polyv's success envelope.
    pub(crate) fn polyv_ok(data: Value) -> Self {
        let value = json!({"code": 200, "status": "success", "message": "", "data": data});
        Self::json(StatusCode::OK, &value, "")
    }

    /// Polyv's error envelope: `{"code":403,"status":"error","message":"invalid signature.","data":""}`.
    pub(crate) fn polyv_error(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        let outcome = if status.is_server_error() {
            "fail"
        } else {
            "error"
        };
        let value =
            json!({"code": status.as_u16(), "status": outcome, "message": message, "data": ""});
        Self::json(status, &value, message)
    }

    /// A vendor's error envelope.
    pub(crate) fn vendor_error(vendor: Vendor, status: StatusCode, message: &str) -> Self {
        match vendor {
            Vendor::Linkv => Self::linkv_error(status, message),
            Vendor::Polyv => Self::polyv_error(status, message),
        }
    }

    /// The answer an injected server failure gives instead of handling the request, or
    /// `None` for the kinds that handle it (or answer nothing).
    ///
    /// The HTTP failures keep their real HTTP form in every answer style: a gateway's HTML page,
    /// or the vendor's JSON envelope with HTTP 500. [`FaultKind::Http200Status500`] is the
    /// failure as the real LinkV server reports it, HTTP 200 with `status` 500 in the body.
    pub(crate) fn injected(kind: FaultKind, vendor: Vendor, linkv: LinkvAnswers) -> Option<Self> {
        let reply = match kind {
            FaultKind::Http500 => Self::server_error(vendor, StatusCode::INTERNAL_SERVER_ERROR),
            FaultKind::Http500Html => Self::html(StatusCode::INTERNAL_SERVER_ERROR),
            FaultKind::Http502 => Self::html(StatusCode::BAD_GATEWAY),
            FaultKind::Http503 => Self::html(StatusCode::SERVICE_UNAVAILABLE),
            FaultKind::Http200Status500 => {
                let mut reply = Self::server_error(vendor, StatusCode::INTERNAL_SERVER_ERROR);
                reply.status = StatusCode::OK;
                reply
            }
            FaultKind::Latency
            | FaultKind::ResetBeforeApply
            | FaultKind::ResetAfterApply
            | FaultKind::TruncateAfterApply => return None,
        };
        Some(match vendor {
            Vendor::Linkv => linkv.typed(reply),
            Vendor::Polyv => reply,
        })
    }

    /// A vendor's server error envelope. LinkV's message is [`LINKV_SYSTEM_ERR`]; Polyv
    /// documents code 500 (status `fail`) but no message for it (`docs/polyv.md#errors`), so it
    /// is the emulator's.
    fn server_error(vendor: Vendor, status: StatusCode) -> Self {
        match vendor {
            Vendor::Linkv => Self::linkv_error(status, LINKV_SYSTEM_ERR),
            Vendor::Polyv => Self::polyv_error(status, "system error"),
        }
    }

    /// Plain JSON for paths that belong to no vendor and for the inspection API.
    pub(crate) fn plain(status: StatusCode, value: &Value) -> Self {
        let message = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Self::json(status, value, message)
    }

    pub(crate) fn plain_error(status: StatusCode, message: &str) -> Self {
        Self::plain(status, &json!({"error": message}))
    }

    fn head(&self, body: Body) -> Response<Body> {
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        if self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.close {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        for (name, value) in self.headers {
            // Constants of this crate, checked by the dashboard's tests.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        response
    }

    pub(crate) fn into_response(self) -> Response<Body> {
        let body = Body::full(self.body.clone());
        self.head(body)
    }

    /// The response with its full `Content-Length` but only the first half of the body.
    pub(crate) fn truncated(self) -> Response<Body> {
        let total = self.body.len();
        let part = self.body.slice(..total / 2);
        let mut response = self.head(Body::Truncated {
            part: Some(part),
            total: total as u64,
            stage: Stage::Data,
        });
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(total));
        response
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Data,
    Flush,
    Fail,
}

/// A response body: the whole answer, or the first part of one followed by a failure.
#[derive(Debug)]
pub(crate) enum Body {
    Full(Option<Bytes>),
    Truncated {
        part: Option<Bytes>,
        total: u64,
        stage: Stage,
    },
}

impl Body {
    pub(crate) fn full(bytes: Bytes) -> Self {
        Self::Full((!bytes.is_empty()).then_some(bytes))
    }
}

/// Ends a truncated body; hyper then drops the connection without finishing the message.
#[derive(Debug)]
pub(crate) struct Truncated;

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("response truncated by fault injection")
    }
}

impl std::error::Error for Truncated {}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Truncated;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Truncated>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Self::Truncated { part, stage, .. } => match stage {
                Stage::Data => {
                    *stage = Stage::Flush;
                    match part.take().filter(|p| !p.is_empty()) {
                        Some(part) => Poll::Ready(Some(Ok(Frame::data(part)))),
                        None => {
                            cx.waker().wake_by_ref();
                            Poll::Pending
                        }
                    }
                }
                // One pending poll lets hyper flush what was written before the failure
                // closes the connection, so the client really receives the first half.
                Stage::Flush => {
                    *stage = Stage::Fail;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Stage::Fail => Poll::Ready(Some(Err(Truncated))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Self::Truncated { total, .. } => SizeHint::with_exact(*total),
        }
    }
}
