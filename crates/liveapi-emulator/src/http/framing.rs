//! Following the framing of the requests a connection reads, so that a chunk the body limit
//! can never hold is refused the moment its size line arrives.
//!
//! hyper decodes chunked bodies without telling anyone a chunk's size: a client that declares
//! a chunk of `ffffffffffffffff` bytes and sends nothing more would only be answered when the
//! body read timeout ran out. So the connection's socket ([`ConnIo`](super::conn_io)) feeds every
//! byte it hands hyper to a [`Framing`] as well, which finds the request heads (with the parser
//! hyper uses), their bodies and every chunk size line, and raises a [`ChunkWatch`] the
//! moment a chunk size passes the body limit. The request's handler, waiting for its body,
//! then refuses it at once.
//!
//! The framing only ever follows requests hyper accepts; anything it does not understand
//! (a head hyper would refuse too, a head over [`MAX_HEAD`]) makes it stop following the
//! connection, which then keeps the body read timeout as its only guard.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// The longest request head followed. Longer ones are rare enough that their connection is
/// no longer followed (hyper still serves it).
const MAX_HEAD: usize = 64 * 1024;
/// hyper's own cap on request headers.
const MAX_HEADERS: usize = 100;

/// Where a connection's framing tells its request handlers that a body declared a chunk over
/// the limit.
#[derive(Debug, Default)]
pub(crate) struct ChunkWatch {
    /// One more than the ordinal of the request whose body declared a chunk over the limit;
    /// zero while none has.
    over_limit: AtomicU64,
    /// How many requests have been handed to the handler.
    requests: AtomicU64,
    raised: Notify,
}

impl ChunkWatch {
    /// A request head was handed to the handler: its ordinal on the connection, counted as
    /// [`Framing`] counts the heads it reads.
    pub(crate) fn request_started(self: &Arc<Self>) -> RequestChunks {
        RequestChunks {
            watch: Arc::clone(self),
            ordinal: self.requests.fetch_add(1, Ordering::AcqRel),
        }
    }

    fn raise(&self, ordinal: u64) {
        self.over_limit.store(ordinal + 1, Ordering::Release);
        self.raised.notify_waiters();
    }
}

/// One request's view of its connection's [`ChunkWatch`], carried in the request's
/// extensions to whoever reads its body.
#[derive(Clone, Debug)]
pub(crate) struct RequestChunks {
    watch: Arc<ChunkWatch>,
    ordinal: u64,
}

impl RequestChunks {
    /// Resolves once this request's body has declared a chunk larger than the body limit.
    pub(crate) async fn over_limit(&self) {
        loop {
            // Made before the check, so that a raise in between is not missed.
            let raised = self.watch.raised.notified();
            if self.watch.over_limit.load(Ordering::Acquire) == self.ordinal + 1 {
                return;
            }
            raised.await;
        }
    }
}

/// Where the framing is in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In a request head (its bytes so far are in [`Framing::head`]).
    Head,
    /// In a body of known length, with this many bytes to come.
    Length(u64),
    /// In a chunked body.
    Chunked(Chunk),
    /// No longer following the connection.
    Off,
}

/// Where a chunked body is, as hyper's decoder steps through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Before a chunk size's first digit.
    Start,
    /// In a chunk size, this large so far.
    Size(u64),
    /// In the white space after a chunk size.
    SizeSpace(u64),
    /// In a chunk extension.
    Extension(u64),
    /// After the size line's CR.
    SizeLf(u64),
    /// In a chunk's data, with this many bytes to come.
    Data(u64),
    /// After a chunk's data: its CR, then its LF.
    DataCr,
    DataLf,
    /// After the last chunk: a trailer line or the final CRLF.
    EndCr,
    Trailer,
    TrailerLf,
    EndLf,
}

/// The framing of the requests read on one connection.
#[derive(Debug)]
pub(crate) struct Framing {
    state: State,
    /// The current request head's bytes so far.
    head: Vec<u8>,
    /// How many request heads have been read; the current request's ordinal is one less.
    heads: u64,
    /// The largest chunk a body may declare.
    limit: u64,
    watch: Arc<ChunkWatch>,
}

impl Framing {
    pub(crate) fn new(body_limit: usize, watch: Arc<ChunkWatch>) -> Self {
        Self {
            state: State::Head,
            head: Vec::new(),
            heads: 0,
            limit: u64::try_from(body_limit).unwrap_or(u64::MAX),
            watch,
        }
    }

    /// Follows the next bytes read from the connection.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            bytes = match self.state {
                State::Off => return,
                State::Head => self.feed_head(bytes),
                State::Length(left) => {
                    let taken = bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.state = match left - taken as u64 {
                        0 => State::Head,
                        left => State::Length(left),
                    };
                    &bytes[taken..]
                }
                State::Chunked(Chunk::Data(left)) => {
                    let taken = bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.state = State::Chunked(match left - taken as u64 {
                        0 => Chunk::DataCr,
                        left => Chunk::Data(left),
                    });
                    &bytes[taken..]
                }
                State::Chunked(chunk) => {
                    self.state = self.chunk_byte(chunk, bytes[0]);
                    &bytes[1..]
                }
            };
        }
    }

    /// Takes bytes of a request head; what follows the head is returned.
    fn feed_head<'a>(&mut self, mut bytes: &'a [u8]) -> &'a [u8] {
        if self.head.is_empty() {
            // Empty lines before a request line are skipped, by httparse as here.
            let skipped = bytes
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            bytes = &bytes[skipped..];
            if bytes.is_empty() {
                return bytes;
            }
        }
        let before = self.head.len();
        self.head.extend_from_slice(bytes);
        // The empty line may have begun in the bytes already held.
        let Some(end) = head_end(&self.head, before.saturating_sub(2)) else {
            if self.head.len() > MAX_HEAD {
                self.state = self.stop();
            }
            return &[];
        };
        let rest = &bytes[end - before..];
        self.head.truncate(end);
        let body = body_of(&self.head);
        self.head.clear();
        self.heads += 1;
        self.state = match body {
            Some(Body::None | Body::Length(0)) => State::Head,
            Some(Body::Length(n)) => State::Length(n),
            Some(Body::Chunked) => State::Chunked(Chunk::Start),
            None => State::Off,
        };
        rest
    }

    /// One byte of a chunked body's framing, stepped as hyper's decoder steps.
    fn chunk_byte(&mut self, chunk: Chunk, byte: u8) -> State {
        let next = match (chunk, byte) {
            (Chunk::Start, _) => match hex(byte) {
                Some(digit) => Chunk::Size(u64::from(digit)),
                None => return self.stop(),
            },
            (Chunk::Size(size), _) if hex(byte).is_some() => {
                let digit = hex(byte).map_or(0, u64::from);
                // An overflow is past any limit (and refused by hyper too).
                Chunk::Size(
                    size.checked_mul(16)
                        .and_then(|s| s.checked_add(digit))
                        .unwrap_or(u64::MAX),
                )
            }
            (Chunk::Size(size) | Chunk::SizeSpace(size), b'\t' | b' ') => Chunk::SizeSpace(size),
            (Chunk::Size(size) | Chunk::SizeSpace(size) | Chunk::Extension(size), b';') => {
                Chunk::Extension(size)
            }
            (Chunk::Size(size) | Chunk::SizeSpace(size) | Chunk::Extension(size), b'\r') => {
                Chunk::SizeLf(size)
            }
            (Chunk::Extension(_), b'\n') => return self.stop(),
            (Chunk::Extension(size), _) => Chunk::Extension(size),
            (Chunk::SizeLf(0), b'\n') => Chunk::EndCr,
            (Chunk::SizeLf(size), b'\n') => Chunk::Data(size),
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataLf, b'\n') => Chunk::Start,
            (Chunk::EndCr, b'\r') => Chunk::EndLf,
            (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
            (Chunk::EndCr | Chunk::Trailer, _) => Chunk::Trailer,
            (Chunk::TrailerLf, b'\n') => Chunk::EndCr,
            (Chunk::EndLf, b'\n') => return State::Head,
            _ => return self.stop(),
        };
        if let Chunk::Size(size) = next
            && size > self.limit
        {
            // Larger than any body the emulator reads: the handler refuses the request, and the
            // connection is closed after the answer.
            self.watch.raise(self.heads.saturating_sub(1));
            return self.stop();
        }
        State::Chunked(next)
    }

    fn stop(&mut self) -> State {
        self.head = Vec::new();
        State::Off
    }
}

/// A hexadecimal digit's value.
fn hex(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The end of a request head (just past its empty line), looking for the empty line's start
/// from `from` on. Lines end in LF, with or without a CR before it, as httparse reads them.
fn head_end(head: &[u8], from: usize) -> Option<usize> {
    (from..head.len()).find_map(|i| match head[i..] {
        [b'\n', b'\n', ..] => Some(i + 2),
        [b'\n', b'\r', b'\n', ..] => Some(i + 3),
        _ => None,
    })
}

/// How a request's body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    None,
    Length(u64),
    Chunked,
}

/// The framing of the body after `head`, decided as hyper decides it; `None` for a head hyper
/// refuses (it then closes the connection) or that is not understood.
fn body_of(head: &[u8]) -> Option<Body> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(len)) if len == head.len() => {}
        _ => return None,
    }
    let named = |name: &'static str| {
        request
            .headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    };
    // The last Transfer-Encoding decides, and only `chunked` as its last coding is accepted.
    if let Some(coding) = named("transfer-encoding").next_back() {
        let last = coding
            .value
            .rsplit(|b| *b == b',')
            .next()
            .unwrap_or_default();
        return (request.version == Some(1) && last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
            .then_some(Body::Chunked);
    }
    let mut length = None;
    for value in named("content-length") {
        let parsed = digits(value.value)?;
        if length.is_some_and(|l| l != parsed) {
            return None;
        }
        length = Some(parsed);
    }
    Some(length.map_or(Body::None, Body::Length))
}

/// A `Content-Length`: ASCII digits only, as hyper reads it.
fn digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, b| {
        let digit = char::from(*b).to_digit(10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(limit: usize) -> (Framing, Arc<ChunkWatch>) {
        let watch = Arc::new(ChunkWatch::default());
        (Framing::new(limit, Arc::clone(&watch)), watch)
    }

    /// The ordinal of the request flagged so far, if any.
    fn flagged(watch: &ChunkWatch) -> Option<u64> {
        watch.over_limit.load(Ordering::Acquire).checked_sub(1)
    }

    /// Feeds `stream` in pieces of `step` bytes.
    fn feed(framing: &mut Framing, stream: &[u8], step: usize) {
        for piece in stream.chunks(step) {
            framing.feed(piece);
        }
    }

    const CHUNKED: &str =
        "POST /open/v0/thGetToken HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n";

    #[test]
    fn a_chunk_over_the_limit_is_flagged_however_the_bytes_come() {
        for step in [1, 2, 3, 7, 1000] {
            let (mut f, watch) = framing(1024);
            feed(
                &mut f,
                format!("{CHUNKED}ffffffffffffffff\r\n").as_bytes(),
                step,
            );
            assert_eq!(flagged(&watch), Some(0), "step {step}");
            assert_eq!(f.state, State::Off);
        }
        // Flagged as soon as the digits so far pass the limit, before the line ends.
        let (mut f, watch) = framing(1024);
        f.feed(format!("{CHUNKED}40").as_bytes());
        assert_eq!(flagged(&watch), None);
        f.feed(b"1");
        assert_eq!(flagged(&watch), Some(0));
        // Overflowing sizes too.
        let (mut f, watch) = framing(1024);
        f.feed(format!("{CHUNKED}{}\r\n", "f".repeat(40)).as_bytes());
        assert_eq!(flagged(&watch), Some(0));
    }

    #[test]
    fn bodies_within_the_limit_are_followed_to_the_next_request() {
        let first = format!(
            "{CHUNKED}400;ext=1\r\n{}\r\n0000000005 \r\nhello\r\n0\r\nX-Trailer: a\r\n\r\n",
            "a".repeat(1024)
        );
        let second = "\r\nPUT /_emulator/clock HTTP/1.1\r\nContent-Length: 3\r\n\r\n{}\n";
        let third = format!("{CHUNKED}3\r\nabc\r\n0\r\n\r\n");
        let fourth = "GET /x HTTP/1.1\nHost: e\n\n";
        let fifth = format!("{CHUNKED}401\r\n");
        let stream = [first.as_str(), second, &third, fourth, &fifth].concat();
        for step in [1, 5, 64, stream.len()] {
            let (mut f, watch) = framing(1024);
            feed(&mut f, stream.as_bytes(), step);
            assert_eq!(flagged(&watch), Some(4), "step {step}");
            assert_eq!(f.heads, 5, "step {step}");
        }
    }

    #[test]
    fn a_large_declared_length_is_not_a_chunk() {
        let (mut f, watch) = framing(16);
        f.feed(b"POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nffffffffffffffff\r\n");
        assert_eq!(flagged(&watch), None);
        assert_eq!(f.state, State::Length(100 - 18));
    }

    #[test]
    fn heads_hyper_refuses_stop_the_following() {
        for head in [
            "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\n",
            "HELLO\r\n\r\n",
        ] {
            let (mut f, watch) = framing(16);
            f.feed(format!("{head}ffffffffffffffff\r\n").as_bytes());
            assert_eq!((f.state, flagged(&watch)), (State::Off, None), "{head:?}");
        }
        // Bad chunk framing.
        for body in ["zz\r\n", "5\r\nhelloXX", "5;a\nb\r\n"] {
            let (mut f, watch) = framing(16);
            f.feed(format!("{CHUNKED}{body}").as_bytes());
            assert_eq!((f.state, flagged(&watch)), (State::Off, None), "{body:?}");
        }
        // A head too long to follow.
        let (mut f, _) = framing(16);
        f.feed(format!("GET /x HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD)).as_bytes());
        assert_eq!(f.state, State::Off);
    }

    #[test]
    fn the_last_transfer_encoding_decides() {
        let (mut f, watch) = framing(16);
        f.feed(
            concat!(
                "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n",
                "Transfer-Encoding: gzip, Chunked\r\n\r\n20\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(flagged(&watch), Some(0));
    }

    #[tokio::test]
    async fn the_handler_of_the_flagged_request_is_woken_and_no_other() {
        let (mut f, watch) = framing(16);
        let first = watch.request_started();
        let second = watch.request_started();
        let waiting = tokio::spawn(async move { second.over_limit().await });
        tokio::task::yield_now().await;
        f.feed(b"GET /a HTTP/1.1\r\n\r\n");
        f.feed(CHUNKED.as_bytes());
        f.feed(b"ff");
        waiting.await.unwrap();
        let mut not_first = std::pin::pin!(first.over_limit());
        let pending = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(not_first.as_mut().poll(cx).is_pending())
        });
        assert!(pending.await);
    }

    /// A request with a body of random bytes, framed by its length or in chunks within `limit`.
    fn request() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let data = || prop::collection::vec(any::<u8>(), 0..64);
        prop_oneof![
            data().prop_map(|body| {
                let mut r = format!("POST /a HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                r.extend(body);
                r
            }),
            (
                prop::collection::vec(data(), 0..4),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(chunks, trailer, lf_only_head)| {
                    let line = if lf_only_head { "\n" } else { "\r\n" };
                    let mut r =
                        format!("POST /b HTTP/1.1{line}Transfer-Encoding: chunked{line}{line}")
                            .into_bytes();
                    for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                        r.extend(format!("{:X} ;x=y\r\n", chunk.len()).as_bytes());
                        r.extend(chunk);
                        r.extend(b"\r\n");
                    }
                    r.extend(b"0\r\n");
                    if trailer {
                        r.extend(b"X-T: ffffffffffffffff\r\n");
                    }
                    r.extend(b"\r\n");
                    r
                }),
            Just(b"GET /c HTTP/1.1\r\nHost: e\r\n\r\n".to_vec()),
        ]
    }

    proptest::proptest! {
        #[test]
        fn requests_within_the_limit_are_followed_whatever_the_pieces(
            requests in proptest::collection::vec(request(), 1..6),
            cuts in proptest::collection::vec(1usize..40, 1..20),
        ) {
            let mut stream: Vec<u8> = requests.concat();
            let (mut f, watch) = framing(64);
            let mut rest = stream.as_slice();
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, after) = rest.split_at((*cut).min(rest.len()));
                f.feed(piece);
                rest = after;
            }
            proptest::prop_assert_eq!(flagged(&watch), None);
            proptest::prop_assert_eq!(f.heads, requests.len() as u64);
            proptest::prop_assert_eq!(f.state, State::Head);
            // A chunk over the limit after them is the next request's.
            stream.clear();
            stream.extend(CHUNKED.as_bytes());
            stream.extend(b"41\r\n");
            f.feed(&stream);
            proptest::prop_assert_eq!(flagged(&watch), Some(requests.len() as u64));
        }
    }
}
