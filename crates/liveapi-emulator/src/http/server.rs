//! The accept loop: connections admitted under the cap (or refused with a quick 503), each
//! told apart from HTTP/2 (refused with a 505), served by hyper and watched by a deadline that
//! closes it if it stalls, every answer dated by the emulator's clock, and a graceful end at
//! shutdown.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::DATE;
use http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::http::conn_io::{Aborted, ConnIo};
use crate::http::connections::{Activity, Check, Connections, Slot};
use crate::http::dispatch::handle;
use crate::http::framing::{ChunkWatch, Framing};
use crate::http::preface::{Opening, opening};
use crate::http::refusal;
use crate::http::reply::{Body, http_date};
use crate::shared::Shared;

/// How long shutdown waits for answers in flight before it drops their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long to wait after a failed accept (out of file descriptors, most likely): long enough
/// not to spin, short enough that a descriptor freed meanwhile is used soon.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// What every connection is served with.
#[derive(Clone)]
struct Server {
    shared: Arc<Shared>,
    conns: Arc<Connections>,
    http: http1::Builder,
    shutdown: watch::Receiver<bool>,
}

/// Accepts connections until shutdown, then lets answers in flight finish.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    conns: Arc<Connections>,
    shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    // Every answer carries a `Date` from the emulator's clock instead (see `with_date`).
    http.auto_date_header(false);
    let server = Server {
        shared,
        conns,
        http,
        shutdown,
    };
    let mut stop = server.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors or similar: wait instead of spinning, and go on.
                server.conns.accept_failed();
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(slot) = server.conns.admit() else {
            let date = http_date(server.shared.clock.now());
            refusal::over_the_cap(stream, date, &server.conns);
            continue;
        };
        let _ = stream.set_nodelay(true);
        // Watched from now on, so that shutdown waits for it.
        let watcher = graceful.watcher();
        tokio::spawn(server.clone().connection(stream, peer, slot, watcher));
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

impl Server {
    /// Serves one admitted connection until it ends or its deadline passes.
    async fn connection(self, stream: TcpStream, peer: SocketAddr, slot: Slot, watcher: Watcher) {
        // The place under the cap is given back when this task ends, however it ends.
        let _slot = slot;
        let activity = Arc::new(Activity::new(Instant::now()));
        let conns = Arc::clone(&self.conns);
        let served = self.serve_connection(stream, peer, Arc::clone(&activity), watcher);
        let mut served = std::pin::pin!(served);
        loop {
            match activity.check(&conns.limits, Instant::now()) {
                Check::Expired(why) => {
                    // Dropping the connection closes the socket.
                    conns.expired(why);
                    return;
                }
                Check::WaitUntil(at) => {
                    tokio::select! {
                        () = &mut served => return,
                        () = tokio::time::sleep_until(at.into()) => {}
                    }
                }
            }
        }
    }

    /// Reads how the connection opens, then refuses HTTP/2 or hands the connection to hyper.
    async fn serve_connection(
        mut self,
        stream: TcpStream,
        peer: SocketAddr,
        activity: Arc<Activity>,
        watcher: Watcher,
    ) {
        let opened = tokio::select! {
            biased;
            // Not yet a request in flight: shutdown closes it, as hyper closes an idle one.
            _ = self.shutdown.wait_for(|stop| *stop) => return,
            opened = opening(&stream) => opened,
        };
        let replay = match opened {
            Opening::Http1(replay) => replay,
            Opening::Http2 => {
                return refusal::http2(stream, http_date(self.shared.clock.now())).await;
            }
        };
        let reset = Arc::new(AtomicBool::new(false));
        let chunks = Arc::new(ChunkWatch::default());
        let io = TokioIo::new(ConnIo {
            stream,
            replay,
            framing: Framing::new(self.shared.limits.body_limit, Arc::clone(&chunks)),
            reset: Arc::clone(&reset),
            activity: Arc::clone(&activity),
        });
        let Self {
            shared,
            conns,
            http,
            ..
        } = self;
        let service = service_fn(move |mut request: Request<Incoming>| {
            activity.request_started();
            // Whoever reads the body learns from it whether a chunk passed the limit.
            request.extensions_mut().insert(chunks.request_started());
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
        });
        // A connection ends with an error when a client goes away or a fault aborts it;
        // neither is the server's concern.
        let _ = watcher.watch(http.serve_connection(io, service)).await;
    }
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
