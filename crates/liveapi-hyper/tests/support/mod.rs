//! A small HTTP(S) server for transport tests: it answers every request the same way and
//! counts connections and requests, so a test can tell how many attempts were made.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// How the server answers.
#[derive(Clone)]
#[allow(dead_code)] // Each test file uses some of the behaviours.
pub(crate) enum Behavior {
    /// With this status and body.
    Respond(u16, Bytes),
    /// Never.
    Hang,
}

pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) connections: Arc<AtomicUsize>,
    pub(crate) requests: Arc<AtomicUsize>,
}

#[allow(dead_code)]
impl TestServer {
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves on 127.0.0.1:0 until the test's runtime ends.
pub(crate) async fn start(
    behavior: Behavior,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = TestServer {
        addr: listener.local_addr().unwrap(),
        connections: Arc::default(),
        requests: Arc::default(),
    };
    let (connections, requests) = (server.connections.clone(), server.requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            connections.fetch_add(1, Ordering::SeqCst);
            let (behavior, requests, tls) = (behavior.clone(), requests.clone(), tls.clone());
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    requests.fetch_add(1, Ordering::SeqCst);
                    let behavior = behavior.clone();
                    async move {
                        match behavior {
                            Behavior::Respond(status, body) => Ok::<_, Infallible>(
                                http::Response::builder()
                                    .status(status)
                                    .body(Full::new(body))
                                    .unwrap(),
                            ),
                            Behavior::Hang => std::future::pending().await,
                        }
                    }
                });
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(acceptor) => {
                        // A refused handshake is what some tests expect: just end.
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    });
    server
}

/// The answer of a LinkV balance query.
#[allow(dead_code)]
pub(crate) const BALANCE_7: &str = r#"{"status":"200","msg":"","data":{"tokens":"7"}}"#;

/// The engine over a hyper transport, configured together as a client would be.
#[allow(dead_code)]
pub(crate) struct CallerBuilder {
    engine: liveapi_request::EngineBuilder,
    transport: liveapi_hyper::HyperTransportBuilder,
}

#[allow(dead_code)]
pub(crate) fn caller() -> CallerBuilder {
    CallerBuilder {
        engine: liveapi_request::Engine::builder(liveapi_hyper::TokioTimer),
        transport: liveapi_hyper::HyperTransport::builder(),
    }
}

#[allow(dead_code)]
impl CallerBuilder {
    pub(crate) fn attempt_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.engine = self.engine.attempt_timeout(timeout);
        self
    }
    pub(crate) fn deadline(mut self, deadline: std::time::Duration) -> Self {
        self.engine = self.engine.deadline(deadline);
        self
    }
    pub(crate) fn retry_policy(mut self, policy: liveapi_request::retry::RetryPolicy) -> Self {
        self.engine = self.engine.retry_policy(policy);
        self
    }
    pub(crate) fn polyv_rate_limit(mut self, limit: Option<liveapi_request::RateLimit>) -> Self {
        self.engine = self.engine.polyv_rate_limit(limit);
        self
    }
    pub(crate) fn max_body_bytes(mut self, limit: usize) -> Self {
        self.transport = self.transport.max_body_bytes(limit);
        self
    }
    pub(crate) fn max_in_flight(mut self, limit: usize) -> Self {
        self.transport = self.transport.max_in_flight(limit);
        self
    }
    #[cfg(feature = "rustls")]
    pub(crate) fn add_root_certificate_pem(
        mut self,
        pem: &[u8],
    ) -> Result<Self, liveapi_hyper::TlsSetupError> {
        self.transport = self.transport.add_root_certificate_pem(pem)?;
        Ok(self)
    }
    pub(crate) fn build(self) -> Result<Caller, liveapi_hyper::TlsSetupError> {
        Ok(Caller {
            engine: self.engine.build(),
            transport: self.transport.build()?,
        })
    }
}

#[derive(Clone)]
#[allow(dead_code)]
pub(crate) struct Caller {
    engine: liveapi_request::Engine,
    transport: liveapi_hyper::HyperTransport,
}

#[allow(dead_code)]
impl Caller {
    pub(crate) async fn execute<O: liveapi_request::Operation>(
        &self,
        operation: &O,
        credentials: &O::Credentials,
    ) -> Result<O::Output, liveapi_request::CallError> {
        self.engine
            .execute(&self.transport, operation, credentials)
            .await
    }
}

/// LinkV credentials for `base_url`.
#[allow(dead_code)]
pub(crate) fn linkv_creds(base_url: &str) -> liveapi_request::LinkvCredentials {
    liveapi_request::LinkvCredentials::builder()
        .app_id("app")
        .secret("secret")
        .alias("alias")
        .base_url(base_url)
        .build()
        .unwrap()
}

/// The kind of a call's transport failure.
#[allow(dead_code)]
pub(crate) fn transport_kind(
    err: &liveapi_request::CallError,
) -> liveapi_request::TransportErrorKind {
    match err.last() {
        liveapi_request::AttemptError::Transport(e) => e.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}
