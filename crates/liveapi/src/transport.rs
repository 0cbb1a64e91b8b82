//! Transports: what carries a signed request to the server and its answer back.
//!
//! The [`Client`](crate::Client) sends through [`HyperTransport`] unless
//! [`ClientBuilder::transport`](crate::ClientBuilder::transport) gives it another. Every
//! transport gets the same engine: signing per attempt, retries with the same request id,
//! timeouts, the deadline, `Retry-After` and the Polyv rate limit.
//!
//! | transport | feature | for |
//! |---|---|---|
//! | [`HyperTransport`] | default | pooled hyper 1 + rustls |
//! | `ReqwestTransport` | `reqwest` | a `reqwest::Client` the application already has |
//! | `TowerTransport` | `tower` | any `tower::Service<http::Request<Bytes>>`, with your own layers |
//! | any [`AsyncHttpSend`] | | a closure or a type of your own |

pub use liveapi_hyper::{HyperTransport, HyperTransportBuilder, TokioTimer};
pub use liveapi_request::{
    AsyncHttpSend, HttpSend, Sleep, Timer, TransportError, TransportErrorKind,
};

#[cfg(feature = "reqwest")]
pub use self::reqwest::ReqwestTransport;
#[cfg(feature = "tower")]
pub use self::tower::TowerTransport;

/// The default size limit of a response body read by an adapter, as for the hyper transport.
#[cfg(any(feature = "reqwest", feature = "tower"))]
const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

#[cfg(feature = "reqwest")]
mod reqwest {
    use std::error::Error as StdError;
    use std::future::Future;

    use bytes::{Bytes, BytesMut};
    use liveapi_request::{AsyncHttpSend, TransportError, TransportErrorKind};

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
                max_body_bytes: super::DEFAULT_MAX_BODY_BYTES,
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
}

#[cfg(feature = "tower")]
mod tower {
    use std::error::Error as StdError;
    use std::future::Future;

    use bytes::Bytes;
    use liveapi_request::{AsyncHttpSend, TransportError, TransportErrorKind};
    use tower_service::Service;

    /// Any `tower::Service<http::Request<Bytes>, Response = http::Response<Bytes>>` as the
    /// client's transport (feature `tower`), so that your own layers (metrics, tracing, a
    /// proxy, a circuit breaker) sit under the engine.
    ///
    /// The service is cloned for each request, as `tower` services shared between tasks are;
    /// readiness is awaited before each call. A service error that is a [`TransportError`]
    /// keeps its kind; any other error counts as a connection that failed after the request
    /// may have been sent ([`TransportErrorKind::Io`]), the safe assumption for money.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use liveapi::transport::{TowerTransport, TransportError};
    ///
    /// let service = tower::service_fn(|_request: http::Request<Bytes>| async {
    ///     Ok::<_, TransportError>(http::Response::new(Bytes::from_static(
    ///         br#"{"status":"200","data":{"tokens":"7"}}"#,
    ///     )))
    /// });
    /// let transport = TowerTransport::new(service);
    /// # let _ = transport;
    /// ```
    #[derive(Clone, Debug)]
    pub struct TowerTransport<S> {
        service: S,
    }

    impl<S> TowerTransport<S> {
        /// Sends through `service`.
        #[must_use]
        pub fn new(service: S) -> Self {
            Self { service }
        }
    }

    impl<S> AsyncHttpSend for TowerTransport<S>
    where
        S: Service<http::Request<Bytes>, Response = http::Response<Bytes>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        fn send(
            &self,
            request: http::Request<Bytes>,
        ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
            let mut service = self.service.clone();
            async move {
                std::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .map_err(|e| unready(e.into()))?;
                service.call(request).await.map_err(|e| failed(e.into()))
            }
        }
    }

    /// A service that could not take the request: nothing was sent.
    fn unready(error: Box<dyn StdError + Send + Sync>) -> TransportError {
        match error.downcast::<TransportError>() {
            Ok(e) => *e,
            Err(e) => TransportError::with_source(TransportErrorKind::Connect, e),
        }
    }

    fn failed(error: Box<dyn StdError + Send + Sync>) -> TransportError {
        match error.downcast::<TransportError>() {
            Ok(e) => *e,
            Err(e) => TransportError::with_source(TransportErrorKind::Io, e),
        }
    }
}
