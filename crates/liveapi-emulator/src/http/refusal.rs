//! The connections the emulator does not serve, answered before they are closed: one over the
//! connection cap gets `503 Service Unavailable`, one that opens with HTTP/2's preface
//! `505 HTTP Version Not Supported`.
//!
//! The answer is written at once, in one write to a socket nothing has been written to yet,
//! so it never waits for the client. The close is the delicate part: closing a socket whose
//! client's request is still unread sends a reset instead of a FIN, and a reset can destroy
//! the answer on its way. So the request is read and thrown away first: what has already
//! arrived, at once, and what comes later for up to [`LINGER`], while a refusal place is free
//! (see [`Connections::refusing`]).

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use tokio::net::TcpStream;

use crate::http::connections::{Connections, Refusing};

/// How long a refused connection is read from after its answer, waiting for the client's
/// request (or its close) so that the close does not become a reset.
const LINGER: Duration = Duration::from_millis(500);
/// How much of a refused connection's request is read and thrown away at most.
const DRAIN: usize = 64 * 1024;

const OVER_THE_CAP: &str = r#"{"error":"too many connections"}"#;
/// One line, for a person reading the bytes an HTTP/2 client received.
const HTTP2: &str = "This emulator speaks HTTP/1.1 only; HTTP/2 is not supported.\n";

/// Answers a connection over the cap with a 503 and closes it; a spawned task goes on reading
/// its request if it has not come yet and a refusal place is free.
pub(super) fn over_the_cap(stream: TcpStream, date: Option<HeaderValue>, conns: &Arc<Connections>) {
    let answer = answer(
        "503 Service Unavailable",
        date,
        "retry-after: 1\r\ncontent-type: application/json;charset=UTF-8\r\n",
        OVER_THE_CAP,
    );
    match answer_at_once(stream, &answer) {
        Answered::Not => conns.refusal_unanswered(),
        Answered::Closed => {}
        Answered::Open(stream, drained) => {
            // Without a place the socket is closed now: a request that arrives later gets a
            // reset from the OS, after the answer.
            if let Some(place) = conns.refusing() {
                tokio::spawn(linger(stream, drained, Some(place)));
            }
        }
    }
}

/// Answers a connection that opened with HTTP/2's preface with a 505 and closes it. The
/// connection holds its place under the cap meanwhile, so it may always linger.
pub(super) async fn http2(stream: TcpStream, date: Option<HeaderValue>) {
    let answer = answer(
        "505 HTTP Version Not Supported",
        date,
        "content-type: text/plain;charset=UTF-8\r\n",
        HTTP2,
    );
    if let Answered::Open(stream, drained) = answer_at_once(stream, &answer) {
        linger(stream, drained, None).await;
    }
}

fn answer(status: &str, date: Option<HeaderValue>, headers: &str, body: &str) -> Vec<u8> {
    let date = date
        .and_then(|d| d.to_str().ok().map(|d| format!("date: {d}\r\n")))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {status}\r\n{date}connection: close\r\n{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What became of an answer written at once.
enum Answered {
    /// It could not be written: the client has reset the connection already.
    Not,
    /// Written, and the client has closed its side after sending what it sent.
    Closed,
    /// Written, and the client's side is still open: this much was read from it.
    Open(TcpStream, usize),
}

/// Writes `answer` whole, half-closes the socket so that the client sees its end, and reads
/// what the client has sent so far.
///
/// A plain non-blocking write on the socket itself: Tokio's `try_write` refuses to write
/// until the runtime has seen the new socket become writable, which a socket just accepted
/// may not have been yet.
fn answer_at_once(stream: TcpStream, answer: &[u8]) -> Answered {
    let Ok(mut socket) = stream.into_std() else {
        return Answered::Not;
    };
    let mut written = 0;
    while written < answer.len() {
        match socket.write(&answer[written..]) {
            Ok(0) => return Answered::Not,
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A socket's send buffer holds far more than an answer: a write that would block
            // or fails means the client is gone.
            Err(_) => return Answered::Not,
        }
    }
    let _ = socket.shutdown(Shutdown::Write);
    let mut buf = [0u8; 4096];
    let mut drained = 0;
    while drained < DRAIN {
        match socket.read(&mut buf) {
            Ok(0) => return Answered::Closed,
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return match TcpStream::from_std(socket) {
                    Ok(stream) => Answered::Open(stream, drained),
                    Err(_) => Answered::Closed,
                };
            }
            Err(_) => return Answered::Closed,
        }
    }
    Answered::Closed
}

/// Reads and throws away what the client still sends, until it closes, [`DRAIN`] bytes in
/// all or [`LINGER`]; the socket is closed when this returns.
async fn linger(stream: TcpStream, mut drained: usize, _place: Option<Refusing>) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while drained < DRAIN {
            if stream.readable().await.is_err() {
                return;
            }
            match stream.try_read(&mut buf) {
                Ok(0) => return,
                Ok(n) => drained += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    })
    .await;
}
