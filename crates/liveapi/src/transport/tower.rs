//! Any `tower::Service` as the transport (feature `tower`), under the engine.

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
