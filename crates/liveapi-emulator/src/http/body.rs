//! Reading a request body within the size limit and the body read timeout, and telling a
//! client's malformed framing (or a chunk no body within the limit can hold) from its leaving.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http::header::{CONTENT_LENGTH, EXPECT};
use http::request::Parts;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};

use crate::http::connections::Connections;
use crate::http::framing::RequestChunks;

/// How much of an oversized request body is read and thrown away so that the client, still
/// sending, is able to read the 413 instead of a reset. Beyond it the connection is dropped.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// The message of a request refused for declaring a chunk larger than the body limit.
pub(crate) const CHUNK_OVER_LIMIT: &str = "malformed request body: chunk size over the body limit";

/// Why a request body could not be read.
pub(crate) enum BodyFailure {
    /// Longer than the limit; the answer must ask to close the connection.
    TooLarge,
    /// No bytes came for the body read timeout; the answer (408) must close the connection.
    TimedOut,
    /// Not valid HTTP framing (a bad chunk size line, a body shorter than its
    /// `Content-Length`…); the answer (400) must close the connection.
    Malformed,
    /// A chunk size larger than the limit, found as soon as its size line arrived (see
    /// [`framing`](crate::http::framing)); the answer (400) must close the connection.
    ChunkOverLimit,
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
    chunks: Option<&RequestChunks>,
) -> Result<Option<Frame<Bytes>>, BodyFailure> {
    let frame = async {
        let Some(chunks) = chunks else {
            return Ok(body.frame().await);
        };
        tokio::select! {
            // First, so that a size line that is also malformed (too long to be a number)
            // is told as the size it is.
            biased;
            () = chunks.over_limit() => Err(BodyFailure::ChunkOverLimit),
            frame = body.frame() => Ok(frame),
        }
    };
    match tokio::time::timeout(idle, frame).await {
        Err(_) => Err(BodyFailure::TimedOut),
        Ok(Err(failure)) => Err(failure),
        Ok(Ok(None)) => Ok(None),
        Ok(Ok(Some(Ok(frame)))) => Ok(Some(frame)),
        Ok(Ok(Some(Err(e)))) => Err(BodyFailure::of(&e)),
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
        Err(BodyFailure::Malformed | BodyFailure::ChunkOverLimit) => conns.body_malformed(),
        _ => {}
    }
    read
}

async fn read_within(
    request: Request<Incoming>,
    limit: usize,
    idle: Duration,
) -> Result<(Parts, Bytes), BodyFailure> {
    let chunks = request.extensions().get::<RequestChunks>().cloned();
    let chunks = chunks.as_ref();
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
        drain(body, idle, chunks).await;
        return Err(BodyFailure::TooLarge);
    }
    let mut collected = Vec::new();
    while let Some(frame) = next_frame(&mut body, idle, chunks).await? {
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > limit {
                drain(body, idle, chunks).await;
                return Err(BodyFailure::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok((parts, Bytes::from(collected)))
}

/// Reads and discards up to [`DRAIN_LIMIT`] bytes of a body, giving up when it stalls or
/// declares a chunk it could never finish.
async fn drain(mut body: Incoming, idle: Duration, chunks: Option<&RequestChunks>) {
    let mut drained = 0usize;
    while drained < DRAIN_LIMIT {
        match next_frame(&mut body, idle, chunks).await {
            Ok(Some(frame)) => drained += frame.data_ref().map_or(0, Bytes::len),
            _ => return,
        }
    }
}
