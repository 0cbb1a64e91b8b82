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
