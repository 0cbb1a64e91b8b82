//! An application's own `reqwest::Client` as the transport (feature `reqwest`).

use std::error::Error as StdError;
use std::future::Future;

use bytes::{Bytes, BytesMut};
use liveapi_request::{AsyncHttpSend, TransportError, TransportErrorKind};

/// The default size limit of a response body, as for the hyper transport.
const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// A `reqwest::Client` as the client's transport (feature `reqwest`).
///
/// The `reqwest::Client` is the application's own, with its TLS, proxy and pool settings;
/// it must keep certificate verification on. Answers are read up to a size limit (1 MiB by
/// default). `reqwest`'s own timeouts may stay unset: the engine times every attempt.
///
/// ```no_run
/// use liveapi::Client;
/// use liveapi::transport::ReqwestTransport;
///
/// # fn run(creds: liveapi::PolyvCredentials) -> Result<(), liveapi::Error> {
/// let http = reqwest::Client::new();
/// let client = Client::builder()
///     .polyv(creds)
///     .transport(ReqwestTransport::new(http))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: ::reqwest::Client,
    max_body_bytes: usize,
}

impl ReqwestTransport {
    /// Sends through `client`.
    #[must_use]
    pub fn new(client: ::reqwest::Client) -> Self {
        Self {
            client,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The largest response body read (default 1 MiB); a larger one fails the attempt.
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    async fn exchange(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let request = ::reqwest::Request::try_from(request)
            .map_err(|e| TransportError::with_source(TransportErrorKind::Connect, e))?;
        let mut response = self.client.execute(request).await.map_err(classify)?;
        let too_large = || TransportError::new(TransportErrorKind::BodyTooLarge);
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = http::Response::new(body.freeze());
        *answer.status_mut() = response.status();
        *answer.version_mut() = response.version();
        *answer.headers_mut() = std::mem::take(response.headers_mut());
        Ok(answer)
    }
}

impl AsyncHttpSend for ReqwestTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        self.exchange(request)
    }
}

/// How far a request got, from what `reqwest` says of its error.
fn classify(error: ::reqwest::Error) -> TransportError {
    let kind = if is_tls_failure(&error) {
        TransportErrorKind::Tls
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        // A request, body or decode failure: the request may have been sent.
        TransportErrorKind::Io
    };
    TransportError::with_source(kind, error)
}

/// Whether a rustls error lies anywhere in the chain: a refused certificate.
fn is_tls_failure(error: &(dyn StdError + 'static)) -> bool {
    liveapi_request::source_chain_contains::<rustls::Error>(error)
}
