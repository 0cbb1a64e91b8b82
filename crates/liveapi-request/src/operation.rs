//! The one interface every call of both vendors has.

use std::time::SystemTime;

use bytes::Bytes;
use http::HeaderValue;
use liveapi_model::linkv::RequestId;
use liveapi_model::{ApiError, Vendor};
use liveapi_sign::SignError;

use crate::{Entropy, EntropyError, InsecureHttp, LimiterConfigError};

/// A request could not be built. Nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The parameters could not be signed (for example, a clock outside the years a nonce can
    /// express).
    #[error("cannot sign the request: {0}")]
    Sign(#[from] SignError),
    /// No randomness for the nonce.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The URI or headers could not be assembled.
    #[error("cannot assemble the HTTP request: {0}")]
    Http(#[from] http::Error),
    /// The base URL is plain `http://` to a host other than this machine, and insecure HTTP
    /// was not allowed: the signature and the users' data would cross the network unencrypted.
    #[error(transparent)]
    InsecureHttp(InsecureHttp),
    /// A Polyv call that is sent as a POST has no JSON body to send.
    #[error("the Polyv call has no body to POST")]
    MissingBody,
    /// The call sends the app's alias (`channel` of `orderSuccess`) and the credentials have
    /// none.
    #[error("the LinkV credentials have no alias, which orderSuccess sends as `channel`")]
    MissingAlias,
    /// The rate limiter the call waits on cannot work as configured (a shared store that
    /// refuses its password, say): the call was stopped before it was signed.
    #[error(transparent)]
    RateLimiter(LimiterConfigError),
}

/// A call of either vendor: a typed request that signs itself into an `http::Request` and
/// reads an `http::Response` back.
///
/// Every request type of `liveapi_model` implements it. Building is pure: the time and the
/// randomness are arguments, so a call can be re-signed for each retry (fresh nonce and
/// timestamp, same `request_id`) and golden-tested with a fixed clock.
pub trait Operation {
    /// The credentials that sign it.
    type Credentials;
    /// What a successful call returns.
    type Output;
    /// The vendor.
    const VENDOR: Vendor;
    /// The endpoint's name, for logs: `thGetToken`, `donate/update-cash`.
    const NAME: &'static str;
    /// Whether sending the call twice is harmless. True of every call here: the ledger calls
    /// carry a `request_id` the server deduplicates on, the others read or overwrite settings.
    const IDEMPOTENT: bool = true;

    /// Signs the call as of `now`, drawing any nonce from `entropy`.
    ///
    /// # Errors
    /// A [`BuildError`] if it cannot be signed; nothing is sent then.
    fn build(
        &self,
        credentials: &Self::Credentials,
        now: SystemTime,
        entropy: &dyn Entropy,
    ) -> Result<http::Request<Bytes>, BuildError>;

    /// Reads the server's answer, whatever its `Content-Type` says.
    ///
    /// # Errors
    /// What the server answered instead of success, including an unreadable body; what that
    /// means is [`meaning::of_answer`](crate::meaning::of_answer)'s to say.
    fn parse(&self, response: &http::Response<Bytes>) -> Result<Self::Output, ApiError>;

    /// The idempotency key, for calls that change a ledger.
    fn request_id(&self) -> Option<&RequestId> {
        None
    }
}

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("liveapi-rs/", env!("CARGO_PKG_VERSION"));

/// A request with the headers every call sends: `Content-Type` when there is a body, and
/// `User-Agent`. Assembled directly rather than through
/// `http::request::Builder`, whose per-header parsing and copying showed in load profiles:
/// these values are constants.
/// `Content-Type` of a LinkV form.
pub(crate) const FORM: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");
/// `Content-Type` of a Polyv JSON body.
pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

pub(crate) fn http_request(
    method: http::Method,
    uri: http::Uri,
    content_type: Option<HeaderValue>,
    body: Bytes,
) -> http::Request<Bytes> {
    use http::header::{CONTENT_TYPE, USER_AGENT as AGENT};
    // Validated once, at compile time, instead of on every request.
    const AGENT_VALUE: HeaderValue = HeaderValue::from_static(USER_AGENT);
    let mut request = http::Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    // No `Accept`: both APIs answer JSON whatever is asked, and the answer is read as JSON
    // whatever it claims; the header only cost both ends.
    if let Some(content_type) = content_type {
        headers.insert(CONTENT_TYPE, content_type);
    }
    headers.insert(AGENT, AGENT_VALUE);
    request
}
