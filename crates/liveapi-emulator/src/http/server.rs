//! The accept loop: connections admitted under the cap (or refused with a quick 503), each
//! watched by a deadline that closes it if it stalls, every answer dated by the emulator's
//! clock, and a graceful end at shutdown.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;
use http::header::DATE;
use hyper::body::{Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::conn_io::{Aborted, ConnIo};
use crate::http::connections::{Activity, Check, Connections};
use crate::http::dispatch::handle;
use crate::http::refusal;
use crate::http::reply::{Body, http_date};
use crate::shared::Shared;

/// How long shutdown waits for answers in flight before it drops their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long to wait after a failed accept (out of file descriptors, most likely): long enough
/// not to spin, short enough that a descriptor freed meanwhile is used soon.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

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
            refusal::over_the_cap(stream, http_date(shared.clock.now()), &conns);
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
