//! The HTTP side: accepting connections, routing, reading bodies within the limit, and
//! carrying out injected faults.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, EXPECT};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::faults::FaultKind;
use crate::reply::{Body, Reply};
use crate::request_log::RequestRecord;
use crate::state::Shared;
use crate::{Vendor, inspect, linkv, polyv};

/// How long shutdown waits for answers in flight before it drops their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How much of an oversized request body is read and thrown away so that the client, still
/// sending, is able to read the 413 instead of a reset. Beyond it the connection is dropped.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// A connection that can be made to end with a TCP reset instead of an orderly close.
struct ConnIo {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Acquire) {
            // A zero linger turns the close into an RST, which is what a crashing server or a
            // middlebox gives a client. Zero linger does not block, unlike the non-zero
            // lingers the deprecation warns about; `set_zero_linger` is newer than our MSRV
            // of tokio.
            #[allow(deprecated)]
            let _ = self.stream.set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Ends the connection without an answer (hyper closes it, [`ConnIo`] makes it a reset).
#[derive(Debug)]
pub(crate) struct Aborted;

impl fmt::Display for Aborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection aborted")
    }
}

impl std::error::Error for Aborted {}

/// Accepts connections until shutdown, then lets answers in flight finish.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let http = http1::Builder::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors or similar: wait instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let reset = Arc::new(AtomicBool::new(false));
        let io = TokioIo::new(ConnIo {
            stream,
            reset: Arc::clone(&reset),
        });
        let shared = Arc::clone(&shared);
        let service = service_fn(move |request| {
            handle(Arc::clone(&shared), request, peer, Arc::clone(&reset))
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            // A connection ends with an error when a client goes away or a fault aborts it;
            // neither is the server's concern.
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

fn vendor_of(path: &str) -> Option<Vendor> {
    if path.starts_with("/open/") {
        Some(Vendor::Linkv)
    } else if path.starts_with("/live/") {
        Some(Vendor::Polyv)
    } else {
        None
    }
}

/// Why a request body could not be read.
pub(crate) enum BodyFailure {
    /// Longer than the limit; the answer must ask to close the connection.
    TooLarge,
    /// The client went away.
    Aborted,
}

/// Reads a request body of at most `limit` bytes.
pub(crate) async fn read_body(
    request: Request<Incoming>,
    limit: usize,
) -> Result<(Parts, Bytes), BodyFailure> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        // A client that waits for `100 Continue` has not sent the body: refuse it unread.
        if parts.headers.contains_key(EXPECT) {
            return Err(BodyFailure::TooLarge);
        }
        drain(body).await;
        return Err(BodyFailure::TooLarge);
    }
    let mut body = body;
    let mut collected = Vec::new();
    loop {
        match body.frame().await {
            None => return Ok((parts, Bytes::from(collected))),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if collected.len() + data.len() > limit {
                        drain(body).await;
                        return Err(BodyFailure::TooLarge);
                    }
                    collected.extend_from_slice(&data);
                }
            }
            Some(Err(_)) => return Err(BodyFailure::Aborted),
        }
    }
}

/// Reads and discards up to [`DRAIN_LIMIT`] bytes of a body.
async fn drain(mut body: Incoming) {
    let mut drained = 0usize;
    while drained < DRAIN_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => drained += frame.data_ref().map_or(0, Bytes::len),
            _ => return,
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
    peer: SocketAddr,
    reset: Arc<AtomicBool>,
) -> Result<Response<Body>, Aborted> {
    let path = request.uri().path().to_owned();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(inspect::handle(&shared, request).await.into_response());
    }
    let vendor = vendor_of(&path);
    let mut record = RequestRecord {
        seq: shared.log.next_seq(),
        at_ms: shared.clock.now_ms(),
        method: request.method().as_str().to_owned(),
        path,
        vendor,
        client: peer.ip().to_string(),
        status: None,
        message: String::new(),
        fault: None,
    };
    let Some(vendor) = vendor else {
        let reply = Reply::plain_error(StatusCode::NOT_FOUND, "not found");
        record.status = Some(reply.status.as_u16());
        record.message = reply.message.clone();
        shared.log.push(record);
        return Ok(reply.into_response());
    };

    let fault = shared.faults.decide(vendor, &record.path);
    record.fault = fault.map(|f| f.kind);
    if record.fault == Some(FaultKind::ResetBeforeApply) {
        reset.store(true, Ordering::Release);
        shared.log.push(record);
        return Err(Aborted);
    }
    // The body is read even for an injected server error, so that a client still sending it
    // gets the error page rather than a reset.
    let read = read_body(request, shared.limits.body_limit).await;
    let reply = match (
        record
            .fault
            .and_then(|kind| Reply::injected(kind, vendor, shared.limits.linkv_answers)),
        read,
    ) {
        (_, Err(BodyFailure::Aborted)) => {
            shared.log.push(record);
            return Err(Aborted);
        }
        (Some(failure), _) => failure,
        (None, Err(BodyFailure::TooLarge)) => Reply::vendor_error(
            vendor,
            StatusCode::PAYLOAD_TOO_LARGE,
            "request entity too large",
        )
        .closing(),
        (None, Ok((parts, body))) => {
            let reply = match vendor {
                Vendor::Linkv => linkv::handle(&shared, &parts, &body),
                Vendor::Polyv => polyv::handle(&shared, &parts, &body, peer.ip()),
            };
            // With a state file, nothing is answered before the changes it may have seen are
            // durable; a log that cannot be written any more fails the request.
            match shared.settle().await {
                Ok(()) => reply,
                Err(_) => Reply::vendor_error(
                    vendor,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "state store failed",
                ),
            }
        }
    };
    record.status = Some(reply.status.as_u16());
    record.message = reply.message.clone();

    match fault {
        Some(f) if f.kind == FaultKind::ResetAfterApply => {
            record.status = None;
            reset.store(true, Ordering::Release);
            shared.log.push(record);
            Err(Aborted)
        }
        Some(f) if f.kind == FaultKind::TruncateAfterApply => {
            shared.log.push(record);
            Ok(reply.truncated())
        }
        Some(f) if f.kind == FaultKind::Latency => {
            shared.log.push(record);
            shared.sleep(f.delay).await;
            Ok(reply.into_response())
        }
        _ => {
            shared.log.push(record);
            Ok(reply.into_response())
        }
    }
}
