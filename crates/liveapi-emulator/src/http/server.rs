//! The HTTP side: accepting connections under the cap, closing those that stall, routing,
//! reading bodies within the limits, and carrying out injected faults.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, DATE, EXPECT};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::faults::FaultKind;
use crate::http::connections::{Activity, Check, Connections, Refusing};
use crate::http::reply::{Body, Reply, http_date};
use crate::http::request_log::RequestRecord;
use crate::shared::Shared;
use crate::vendors::{linkv, polyv};
use crate::{Vendor, inspect};

/// How long shutdown waits for answers in flight before it drops their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How much of an oversized request body is read and thrown away so that the client, still
/// sending, is able to read the 413 instead of a reset. Beyond it the connection is dropped.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
/// How long to wait after a failed accept (out of file descriptors, most likely): long enough
/// not to spin, short enough that a descriptor freed meanwhile is used soon.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// How long a refused connection is read from after its 503, so that the client's request,
/// still unread, does not turn the close into a reset that destroys the answer.
const REFUSE_LINGER: Duration = Duration::from_millis(500);
/// How much of a refused connection's request is read and thrown away at most.
const REFUSE_DRAIN: usize = 64 * 1024;

/// A connection that can be made to end with a TCP reset instead of an orderly close, and
/// that tells its [`Activity`] when bytes arrive and when writing stalls.
struct ConnIo {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
    activity: Arc<Activity>,
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
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.read(Instant::now());
        }
        polled
    }
}

impl ConnIo {
    fn wrote<T>(&self, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        self.activity.write(polled.is_pending(), Instant::now());
        polled
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.wrote(polled)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_flush(cx);
        this.wrote(polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(polled)
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
    conns: Arc<Connections>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    // Every answer carries a `Date` from the emulator's clock instead (see `with_date`).
    http.auto_date_header(false);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors or similar: wait instead of spinning, and go on.
                conns.accept_failed();
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(slot) = conns.admit() else {
            if let Some(refusing) = conns.refusing() {
                tokio::spawn(refuse(stream, http_date(shared.clock.now()), refusing));
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let reset = Arc::new(AtomicBool::new(false));
        let activity = Arc::new(Activity::new(Instant::now()));
        let io = TokioIo::new(ConnIo {
            stream,
            reset: Arc::clone(&reset),
            activity: Arc::clone(&activity),
        });
        let service = {
            let (shared, conns, activity) = (
                Arc::clone(&shared),
                Arc::clone(&conns),
                Arc::clone(&activity),
            );
            service_fn(move |request| {
                activity.request_started();
                let (shared, conns, activity, reset) = (
                    Arc::clone(&shared),
                    Arc::clone(&conns),
                    Arc::clone(&activity),
                    Arc::clone(&reset),
                );
                async move {
                    let response = handle(&shared, &conns, request, peer, reset).await?;
                    Ok::<_, Aborted>(with_date(response, &shared).map(|body| Answer {
                        body,
                        _end: AnswerEnd(activity),
                    }))
                }
            })
        };
        let connection = graceful.watch(http.serve_connection(io, service));
        let conns = Arc::clone(&conns);
        tokio::spawn(async move {
            // The place under the cap is given back when this task ends, however it ends.
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            loop {
                match activity.check(&conns.limits, Instant::now()) {
                    Check::Expired(why) => {
                        // Dropping the connection closes the socket.
                        conns.expired(why);
                        return;
                    }
                    Check::WaitUntil(at) => {
                        tokio::select! {
                            // A connection ends with an error when a client goes away or a
                            // fault aborts it; neither is the server's concern.
                            _ = &mut connection => return,
                            () = tokio::time::sleep_until(at.into()) => {}
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

/// Answers a connection over the cap with a 503 in one write, without reading its request,
/// then reads briefly so that the close does not become a reset before the client has read it.
async fn refuse(mut stream: TcpStream, date: Option<http::HeaderValue>, _refusing: Refusing) {
    const BODY: &str = r#"{"error":"too many connections"}"#;
    let date = date
        .and_then(|d| d.to_str().ok().map(|d| format!("date: {d}\r\n")))
        .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\n{date}connection: close\r\nretry-after: 1\r\n\
         content-type: application/json;charset=UTF-8\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    // A fresh socket's send buffer takes these few bytes at once; if not, the client gets a
    // close instead, which is as good a refusal.
    let _ = stream.try_write(answer.as_bytes());
    let _ = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_shutdown(cx)).await;
    let mut buf = [0u8; 4096];
    let mut drained = 0;
    let _ = tokio::time::timeout(REFUSE_LINGER, async {
        while drained < REFUSE_DRAIN {
            let mut read = ReadBuf::new(&mut buf);
            match std::future::poll_fn(|cx| Pin::new(&mut stream).poll_read(cx, &mut read)).await {
                Ok(()) if !read.filled().is_empty() => drained += read.filled().len(),
                _ => return,
            }
        }
    })
    .await;
}

/// Puts the emulator's time in the answer's `Date`, the time the SDK corrects its clock by.
fn with_date(mut response: Response<Body>, shared: &Shared) -> Response<Body> {
    if let Some(date) = http_date(shared.clock.now()) {
        response.headers_mut().insert(DATE, date);
    }
    response
}

/// Tells the connection's [`Activity`] that its answer is over when hyper drops the body,
/// written or abandoned.
struct AnswerEnd(Arc<Activity>);

impl Drop for AnswerEnd {
    fn drop(&mut self) {
        self.0.answer_ended(Instant::now());
    }
}

/// An answer's body, marking the end of the answer when it is dropped.
struct Answer {
    body: Body,
    _end: AnswerEnd,
}

impl hyper::body::Body for Answer {
    type Data = Bytes;
    type Error = <Body as hyper::body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
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
    /// No bytes came for the body read timeout; the answer (408) must close the connection.
    TimedOut,
    /// Not valid HTTP framing (a bad chunk size line, a body shorter than its
    /// `Content-Length`…); the answer (400) must close the connection.
    Malformed,
    /// The client went away.
    Aborted,
}

impl BodyFailure {
    /// Whether this body error is the client's malformed framing rather than its leaving:
    /// hyper's decoder reports framing as `InvalidInput` or `InvalidData`.
    fn of(error: &hyper::Error) -> Self {
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<io::Error>() {
                return match io.kind() {
                    io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => Self::Malformed,
                    _ => Self::Aborted,
                };
            }
            source = cause.source();
        }
        Self::Aborted
    }
}

/// The next frame of a body, or the failure that ends it. No byte within `idle` is a
/// timeout: the wait restarts with every frame, so a slow but steady upload goes through.
async fn next_frame(
    body: &mut Incoming,
    idle: Duration,
) -> Result<Option<Frame<Bytes>>, BodyFailure> {
    match tokio::time::timeout(idle, body.frame()).await {
        Err(_) => Err(BodyFailure::TimedOut),
        Ok(None) => Ok(None),
        Ok(Some(Ok(frame))) => Ok(Some(frame)),
        Ok(Some(Err(e))) => Err(BodyFailure::of(&e)),
    }
}

/// Reads a request body of at most `limit` bytes, counting timeouts and malformed bodies.
pub(crate) async fn read_body(
    request: Request<Incoming>,
    limit: usize,
    conns: &Connections,
) -> Result<(Parts, Bytes), BodyFailure> {
    let read = read_within(request, limit, conns.limits.body_read_timeout).await;
    match &read {
        Err(BodyFailure::TimedOut) => conns.body_timed_out(),
        Err(BodyFailure::Malformed) => conns.body_malformed(),
        _ => {}
    }
    read
}

async fn read_within(
    request: Request<Incoming>,
    limit: usize,
    idle: Duration,
) -> Result<(Parts, Bytes), BodyFailure> {
    let (parts, mut body) = request.into_parts();
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
        drain(body, idle).await;
        return Err(BodyFailure::TooLarge);
    }
    let mut collected = Vec::new();
    while let Some(frame) = next_frame(&mut body, idle).await? {
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > limit {
                drain(body, idle).await;
                return Err(BodyFailure::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok((parts, Bytes::from(collected)))
}

/// Reads and discards up to [`DRAIN_LIMIT`] bytes of a body, giving up when it stalls.
async fn drain(mut body: Incoming, idle: Duration) {
    let mut drained = 0usize;
    while drained < DRAIN_LIMIT {
        match next_frame(&mut body, idle).await {
            Ok(Some(frame)) => drained += frame.data_ref().map_or(0, Bytes::len),
            _ => return,
        }
    }
}

async fn handle(
    shared: &Arc<Shared>,
    conns: &Connections,
    request: Request<Incoming>,
    peer: SocketAddr,
    reset: Arc<AtomicBool>,
) -> Result<Response<Body>, Aborted> {
    let path = request.uri().path().to_owned();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(inspect::handle(shared, conns, request)
            .await
            .into_response());
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
    let read = read_body(request, shared.limits.body_limit, conns).await;
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
        // A request that is not whole is answered as such, fault or not: there is no request
        // to fail.
        (_, Err(BodyFailure::TimedOut)) => {
            Reply::vendor_error(vendor, StatusCode::REQUEST_TIMEOUT, "request timeout").closing()
        }
        (_, Err(BodyFailure::Malformed)) => {
            Reply::vendor_error(vendor, StatusCode::BAD_REQUEST, "malformed request body").closing()
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
                Vendor::Linkv => linkv::handle(shared, &parts, &body),
                Vendor::Polyv => polyv::handle(shared, &parts, &body, peer.ip()),
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
