//! The transport: one pooled hyper client that sends a request and reads the whole answer.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use liveapi_request::{AsyncHttpSend, TransportError, TransportErrorKind};
use tokio::sync::Semaphore;

use crate::TlsSetupError;

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = HttpConnector;

/// Sends requests over a pool of keep-alive connections, with a connect timeout, a response
/// size limit and a bound on requests in flight. It makes one exchange per call: timeouts,
/// retries, the deadline and rate limits are the [`Engine`](liveapi_request::Engine)'s.
///
/// Cloning is cheap and clones share the pool; make one per process.
///
/// ```no_run
/// use liveapi_hyper::{HyperTransport, TokioTimer};
/// use liveapi_request::{Engine, LinkvCredentials};
/// use liveapi_request::model::linkv::{GetUserTokens, OpenId};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let transport = HyperTransport::builder().build()?;
/// let engine = Engine::builder(TokioTimer).build();
/// let creds = LinkvCredentials::builder()
///     .app_id("app_key")
///     .secret("app_secret")
///     .base_url("https://live.example.com")
///     .build()?;
/// let balance = engine
///     .execute(&transport, &GetUserTokens::new(OpenId::new("42")?), &creds)
///     .await?;
/// println!("{balance} coins");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct HyperTransport {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<Connector, Full<Bytes>>,
    max_body_bytes: usize,
    in_flight: Semaphore,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("in_flight_available", &self.in_flight.available_permits())
            .finish_non_exhaustive()
    }
}

/// Configures a [`HyperTransport`]. Every setting has a default suited to the two APIs.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct HyperTransportBuilder {
    connect_timeout: Duration,
    max_body_bytes: usize,
    max_in_flight: usize,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    #[cfg(feature = "rustls")]
    roots: crate::tls::Roots,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 1 << 20,
            max_in_flight: 128,
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle_per_host: 32,
            #[cfg(feature = "rustls")]
            roots: crate::tls::Roots::default(),
        }
    }
}

impl HyperTransportBuilder {
    /// How long opening a TCP connection may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body read (default 1 MiB); a larger one fails the attempt.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The most requests in flight at once (default 128), which also bounds the number of
    /// open connections; further requests wait for a free slot (within their attempt's
    /// timeout).
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.max_in_flight = limit.max(1);
        self
    }

    /// How long an unused pooled connection is kept (default 60 s).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The most idle connections kept per host (default 32).
    pub fn pool_max_idle_per_host(mut self, limit: usize) -> Self {
        self.pool_max_idle_per_host = limit;
        self
    }

    /// Also trusts the CA certificates of a PEM document, for a private deployment or a test
    /// server. The default roots stay trusted.
    ///
    /// # Errors
    /// [`TlsSetupError::Certificate`] if the document holds no readable certificate.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, TlsSetupError> {
        self.roots.add_pem(pem)?;
        Ok(self)
    }

    /// Whether the Mozilla roots compiled in by `webpki-roots` are trusted (default: yes).
    #[cfg(feature = "webpki-roots")]
    pub fn webpki_roots(mut self, trust: bool) -> Self {
        self.roots.webpki = trust;
        self
    }

    /// Whether the operating system's root certificates are trusted (default: no).
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, trust: bool) -> Self {
        self.roots.native = trust;
        self
    }

    /// Builds the transport. A Tokio runtime is needed only to send, not to build.
    ///
    /// # Errors
    /// A [`TlsSetupError`] if the TLS configuration cannot be made (no roots, a bad
    /// certificate).
    pub fn build(self) -> Result<HyperTransport, TlsSetupError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        #[cfg(feature = "rustls")]
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(self.roots.client_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        #[cfg(not(feature = "rustls"))]
        let connector = http;

        let client = Client::builder(TokioExecutor::new())
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);
        Ok(HyperTransport {
            inner: Arc::new(Inner {
                client,
                max_body_bytes: self.max_body_bytes,
                in_flight: Semaphore::new(self.max_in_flight),
            }),
        })
    }
}

impl HyperTransport {
    /// A builder with the defaults.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// Whether this build can make `https://` calls (the `rustls` feature).
    #[must_use]
    pub const fn supports_https() -> bool {
        cfg!(feature = "rustls")
    }

    /// Sends one request and reads the whole answer, within the size limit.
    async fn exchange(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let inner = &*self.inner;
        if !Self::supports_https() && request.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
            return Err(TransportError::with_source(
                TransportErrorKind::NoTls,
                "liveapi-hyper was built without its `rustls` feature",
            ));
        }
        // Waiting for a slot counts against the attempt's timeout: to the caller it is all
        // latency.
        let _permit = inner
            .in_flight
            .acquire()
            .await
            .map_err(|e| TransportError::with_source(TransportErrorKind::Io, e))?;
        let (parts, body) = request.into_parts();
        let response = inner
            .client
            .request(http::Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(classify_request_error)?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, inner.max_body_bytes)
            .collect()
            .await
            .map_err(classify_body_error)?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }
}

impl AsyncHttpSend for HyperTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        self.exchange(request)
    }
}

fn classify_request_error(error: hyper_util::client::legacy::Error) -> TransportError {
    let kind = if is_tls_failure(&error) {
        TransportErrorKind::Tls
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Io
    };
    TransportError::with_source(kind, error)
}

fn classify_body_error(error: Box<dyn StdError + Send + Sync>) -> TransportError {
    let kind = if error.is::<LengthLimitError>() {
        TransportErrorKind::BodyTooLarge
    } else {
        TransportErrorKind::Io
    };
    TransportError::with_source(kind, error)
}

/// Whether a rustls error lies anywhere in the chain: a refused certificate.
#[cfg(feature = "rustls")]
fn is_tls_failure(error: &(dyn StdError + 'static)) -> bool {
    liveapi_request::source_chain_contains::<rustls::Error>(error)
}

#[cfg(not(feature = "rustls"))]
fn is_tls_failure(_: &(dyn StdError + 'static)) -> bool {
    false
}
