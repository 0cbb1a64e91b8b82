//! Connections that cannot wedge the emulator: slow heads, stalled bodies and idle
//! connections are closed by their timeouts, connections over the cap get a fast 503,
//! malformed requests get 400, and every answer's `Date` is the emulator's time.
//!
//! Raw TCP throughout, so that the client does exactly what a hostile one would. Durations
//! are short timeouts configured on purpose; bounds on how soon something happens are
//! generous and only catch "never".

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use liveapi_emulator::{ClockStart, Emulator, EmulatorBuilder, RunningEmulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(15);

/// The timeouts of these tests: short, so that they expire within the test.
fn quick() -> EmulatorBuilder {
    Emulator::builder()
        .header_read_timeout(Duration::from_millis(600))
        .body_read_timeout(Duration::from_millis(600))
        .keep_alive_timeout(Duration::from_millis(600))
}

/// Long timeouts, for the parts of a test that must not expire.
fn patient() -> EmulatorBuilder {
    Emulator::builder()
        .header_read_timeout(PATIENCE * 4)
        .body_read_timeout(PATIENCE * 4)
        .keep_alive_timeout(PATIENCE * 4)
}

/// One response read off a connection that stays open: the status, the headers and a body
/// of `Content-Length` bytes. `None` if the connection closed (or reset) first.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, Vec<(String, String)>, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Some((status, headers, body))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether the server closes the connection (EOF or reset) within [`PATIENCE`], reading and
/// discarding whatever comes before.
async fn closes(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

const HEALTH: &[u8] = b"GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\n\r\n";

/// Asks for the health check on `stream` and says whether it answered 200.
async fn healthy(stream: &mut TcpStream) -> bool {
    if stream.write_all(HEALTH).await.is_err() {
        return false;
    }
    matches!(
        tokio::time::timeout(PATIENCE, read_response(stream)).await,
        Ok(Some((200, _, _)))
    )
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

/// Waits until the emulator counts `open` open connections.
async fn wait_open(emu: &RunningEmulator, open: usize) {
    tokio::time::timeout(PATIENCE, async {
        while emu.connection_stats().open != open {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never {open} open: {:?}", emu.connection_stats()));
}

#[tokio::test]
async fn a_head_that_does_not_arrive_in_time_closes_the_connection() {
    let emu = start_with(quick().keep_alive_timeout(PATIENCE * 4)).await;
    // Half a head, then nothing.
    let mut slow = connect(emu.addr()).await;
    slow.write_all(b"GET /_emulator/health HTTP/1.1\r\nHo")
        .await
        .unwrap();
    // Nothing at all: the first head is timed from the connection's start.
    let mut silent = connect(emu.addr()).await;
    assert!(closes(&mut slow).await, "a slow head was kept");
    assert!(closes(&mut silent).await, "a silent connection was kept");
    let stats = emu.connection_stats();
    assert_eq!(stats.header_timeouts, 2, "{stats:?}");
    assert_eq!(stats.keep_alive_timeouts, 0, "{stats:?}");
    wait_open(&emu, 0).await;
    // A client that sends its request at once is answered as ever.
    assert!(healthy(&mut connect(emu.addr()).await).await);
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_the_connection_closes() {
    let emu = start_with(quick().header_read_timeout(PATIENCE * 4)).await;
    for path in [
        "/open/v0/thGetToken",
        "/live/v3/channel/donate/get",
        "/_emulator/clock",
    ] {
        let mut stream = connect(emu.addr()).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: emulator\r\nContent-Length: 100\r\n\r\nuserId=abc"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let (status, headers, body) = tokio::time::timeout(PATIENCE, read_response(&mut stream))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{path}: closed without an answer"));
        assert_eq!(status, 408, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(header(&headers, "connection"), Some("close"), "{path}");
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("request timeout"), "{path}: {body}");
        assert!(closes(&mut stream).await, "{path}: kept open");
    }
    assert_eq!(emu.connection_stats().body_timeouts, 3);
}

#[tokio::test]
async fn a_slow_but_steady_body_goes_through() {
    let emu = start_with(quick().header_read_timeout(PATIENCE * 4)).await;
    let body = br#"{"offset_ms": 3600000}"#;
    let mut stream = connect(emu.addr()).await;
    let head = format!(
        "PUT /_emulator/clock HTTP/1.1\r\nHost: emulator\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Five pieces 300 ms apart: the whole body takes longer than the 600 ms timeout, but no
    // wait between bytes does.
    for piece in body.chunks(body.len().div_ceil(5)) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stream.write_all(piece).await.unwrap();
    }
    let (status, _, answer) = read_response(&mut stream).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert!(emu.clock().status().offset_ms >= 3_600_000);
    assert_eq!(emu.connection_stats().body_timeouts, 0);
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_keep_alive_timeout() {
    let emu = start_with(quick().header_read_timeout(PATIENCE * 4)).await;
    let mut stream = connect(emu.addr()).await;
    // Requests in a row keep the connection.
    for _ in 0..3 {
        assert!(healthy(&mut stream).await);
    }
    assert!(
        closes(&mut stream).await,
        "an idle connection was kept: {:?}",
        emu.connection_stats()
    );
    let stats = emu.connection_stats();
    assert_eq!(
        (
            stats.keep_alive_timeouts,
            stats.header_timeouts,
            stats.accepted
        ),
        (1, 0, 1),
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_next_request_started_but_not_finished_gets_the_header_timeout() {
    let emu = start_with(quick().keep_alive_timeout(PATIENCE * 4)).await;
    let mut stream = connect(emu.addr()).await;
    assert!(healthy(&mut stream).await);
    // Idle for longer than the header timeout: the keep-alive timeout applies.
    tokio::time::sleep(Duration::from_millis(900)).await;
    stream.write_all(b"GET /_emulator/health HT").await.unwrap();
    assert!(closes(&mut stream).await, "a stalled second head was kept");
    let stats = emu.connection_stats();
    assert_eq!(
        (stats.header_timeouts, stats.keep_alive_timeouts),
        (1, 0),
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_client_that_does_not_read_its_answers_is_closed() {
    let emu = start_with(patient().body_read_timeout(Duration::from_millis(500))).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    // A small receive window, so that the unread answers fill the buffers sooner.
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(emu.addr()).await.unwrap();
    let (_reader, mut writer) = stream.into_split();
    // Requests for the index (the longest small answer) back to back, never reading.
    let flood = tokio::spawn(async move {
        let request = b"GET /_emulator HTTP/1.1\r\nHost: emulator\r\n\r\n".repeat(64);
        while writer.write_all(&request).await.is_ok() {}
    });
    tokio::time::timeout(PATIENCE, async {
        while emu.connection_stats().write_timeouts == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never given up: {:?}", emu.connection_stats()));
    wait_open(&emu, 0).await;
    let stats = emu.connection_stats();
    assert_eq!(
        (
            stats.write_timeouts,
            stats.keep_alive_timeouts,
            stats.header_timeouts
        ),
        (1, 0, 0),
        "{stats:?}"
    );
    // The flood ends once the connection is gone.
    tokio::time::timeout(PATIENCE, flood)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn connections_over_the_cap_get_a_fast_503_while_the_others_work() {
    let emu = start_with(patient().max_connections(2)).await;
    let mut first = connect(emu.addr()).await;
    let mut second = connect(emu.addr()).await;
    wait_open(&emu, 2).await;

    for _ in 0..3 {
        let outcome = tokio::time::timeout(
            PATIENCE,
            send(emu.addr(), "GET", "/_emulator/health", &[], b""),
        )
        .await
        .expect("a refused connection hung");
        let reply = outcome.reply();
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("connection"), Some("close"));
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert!(reply.header("date").is_some());
        assert_eq!(reply.json()["error"], "too many connections");
    }
    assert!(healthy(&mut first).await);
    assert!(healthy(&mut second).await);
    let stats = emu.connection_stats();
    assert_eq!(
        (
            stats.open,
            stats.peak,
            stats.max,
            stats.accepted,
            stats.refused
        ),
        (2, 2, 2, 2, 3),
        "{stats:?}"
    );

    // A place freed is taken again.
    drop(first);
    wait_open(&emu, 1).await;
    assert!(healthy(&mut connect(emu.addr()).await).await);
    drop(second);
    wait_open(&emu, 0).await;
}

/// How a client over the cap behaves.
#[derive(Clone, Copy, Debug)]
enum Manner {
    /// Sends its request as soon as it is connected.
    AtOnce,
    /// Sends its request a little after connecting, when the 503 may already be there.
    Late,
    /// Sends a head, then its body a little later.
    InTwoParts,
    /// Sends nothing and only reads.
    Silent,
}

/// Connects, behaves as `manner` says, and reads until the close; what was read, even if the
/// connection ended with a reset.
async fn over_the_cap(addr: SocketAddr, manner: Manner) -> Outcome {
    let mut stream = connect(addr).await;
    let head = "POST /open/v0/thGetToken HTTP/1.1\r\nHost: emulator\r\nContent-Length: 9\r\n\r\n";
    // Write errors are ignored: a client that sent its request reads the answer anyway.
    match manner {
        Manner::AtOnce => {
            let _ = stream
                .write_all(format!("{head}userId=ab").as_bytes())
                .await;
        }
        Manner::Late => {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream
                .write_all(format!("{head}userId=ab").as_bytes())
                .await;
        }
        Manner::InTwoParts => {
            let _ = stream.write_all(head.as_bytes()).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stream.write_all(b"userId=ab").await;
        }
        Manner::Silent => {}
    }
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    parse_response(&raw)
}

/// Many connections over the cap at once, each in one of the ways a client may behave: every
/// one gets the whole 503 and `Connection: close` before the close, whatever the emulator is
/// doing with the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_over_the_cap_gets_its_503_however_many_come_at_once() {
    const OVER: usize = 160;
    let emu = start_with(patient().max_connections(2)).await;
    let mut held = [connect(emu.addr()).await, connect(emu.addr()).await];
    wait_open(&emu, 2).await;

    let manners = [
        Manner::AtOnce,
        Manner::Late,
        Manner::InTwoParts,
        Manner::Silent,
    ];
    let start = Arc::new(tokio::sync::Barrier::new(OVER));
    let clients: Vec<_> = (0..OVER)
        .map(|i| {
            let (addr, start, manner) =
                (emu.addr(), Arc::clone(&start), manners[i % manners.len()]);
            tokio::spawn(async move {
                start.wait().await;
                (manner, over_the_cap(addr, manner).await)
            })
        })
        .collect();
    let mut failures = Vec::new();
    for client in clients {
        let (manner, outcome) = tokio::time::timeout(PATIENCE, client)
            .await
            .expect("a refused client hung")
            .unwrap();
        match outcome {
            Outcome::Reply(reply)
                if reply.status == 503
                    && reply.header("connection") == Some("close")
                    && reply.json()["error"] == "too many connections" => {}
            other => failures.push((manner, other)),
        }
    }
    let stats = emu.connection_stats();
    assert!(
        failures.is_empty(),
        "{} of {OVER} refused clients did not get the 503: {failures:?}\n{stats:?}",
        failures.len()
    );
    assert_eq!(
        (stats.refused, stats.refused_unanswered, stats.accepted),
        (OVER as u64, 0, 2),
        "{stats:?}"
    );
    // The two admitted connections were never disturbed.
    for stream in &mut held {
        assert!(healthy(stream).await);
    }
}

#[tokio::test]
async fn a_malformed_chunked_body_gets_400_in_the_vendors_envelope() {
    let emu = start_with(patient()).await;
    for (path, field) in [
        ("/open/finanv0/changeGold", "msg"),
        ("/live/v3/channel/donate/update-cash", "message"),
        ("/_emulator/faults", "error"),
    ] {
        for body in [
            "zz\r\nhello\r\n0\r\n\r\n",
            "5\r\nhello\r\nnot-hex\r\n",
            "5\r\nhelloXX0\r\n\r\n",
        ] {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: emulator\r\nTransfer-Encoding: chunked\r\n\r\n"
            );
            let reply =
                tokio::time::timeout(PATIENCE, send_raw(emu.addr(), &head, body.as_bytes()))
                    .await
                    .expect("hung")
                    .reply();
            assert_eq!(reply.status, 400, "{path} {body:?}");
            assert_eq!(reply.header("connection"), Some("close"), "{path}");
            assert_eq!(
                reply.json()[field],
                "malformed request body",
                "{path} {body:?}"
            );
        }
    }
    assert_eq!(emu.connection_stats().malformed_bodies, 9);
}

/// A chunk size the body limit can never hold is refused as soon as its size line arrives: the
/// body read timeout here is far longer than the test waits.
#[tokio::test]
async fn an_impossible_chunk_size_gets_400_at_once_in_the_vendors_envelope() {
    const MESSAGE: &str = "malformed request body: chunk size over the body limit";
    let emu = start_with(patient().body_limit(1024)).await;
    let mut refused = 0;
    for (path, field) in [
        ("/open/finanv0/changeGold", "msg"),
        ("/live/v3/channel/donate/update-cash", "message"),
        ("/_emulator/faults", "error"),
    ] {
        for body in [
            // The largest size there is, and one past it.
            "ffffffffffffffff\r\n",
            "10000000000000000\r\n",
            // Some data of the chunk already sent.
            "ffffffffffffffff\r\nuserId=1",
            // One byte over the limit, after a chunk within it.
            "3\r\nabc\r\n401\r\n",
            // The size line not even finished.
            "fffffff",
        ] {
            let mut stream = connect(emu.addr()).await;
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: emulator\r\nTransfer-Encoding: chunked\r\n\r\n"
            );
            stream
                .write_all(format!("{head}{body}").as_bytes())
                .await
                .unwrap();
            // The connection stays open from the client's side: nothing but the size line
            // can have brought the answer.
            let (status, headers, answer) =
                tokio::time::timeout(PATIENCE, read_response(&mut stream))
                    .await
                    .unwrap_or_else(|_| panic!("{path} {body:?}: no answer"))
                    .unwrap_or_else(|| panic!("{path} {body:?}: closed without an answer"));
            assert_eq!(status, 400, "{path} {body:?}");
            assert_eq!(header(&headers, "connection"), Some("close"), "{path}");
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            assert_eq!(answer[field], MESSAGE, "{path} {body:?}: {answer}");
            assert!(closes(&mut stream).await, "{path} {body:?}: kept open");
            refused += 1;
        }
    }
    let stats = emu.connection_stats();
    assert_eq!(
        (stats.malformed_bodies, stats.body_timeouts),
        (refused, 0),
        "{stats:?}"
    );
}

/// The chunk sizes are followed from request to request on a connection, and a chunk as large
/// as the limit is fine.
#[tokio::test]
async fn chunk_sizes_are_followed_across_requests_on_a_connection() {
    let emu = start_with(patient().body_limit(1024)).await;
    let mut stream = connect(emu.addr()).await;
    // Exactly the limit, in one chunk, with an extension and a trailer.
    let json = format!("{{\"offset_ms\": 1000}}{}", " ".repeat(1024 - 19));
    let within = format!(
        "PUT /_emulator/clock HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n\
         400;name=value\r\n{json}\r\n0\r\nX-Trailer: 1\r\n\r\n"
    );
    // A body that holds what looks like an impossible size line, framed by its length (LinkV
    // answers its errors with HTTP 200).
    let form = "userId=1\r\nffffffffffffffff\r\n";
    let looks = format!(
        "POST /open/v0/thGetToken HTTP/1.1\r\nHost: e\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let over = "POST /open/v0/thGetToken HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n\
                ffffffffff\r\n";
    // All at once, so that the framing runs ahead of the handler.
    stream
        .write_all(format!("{within}{looks}{over}").as_bytes())
        .await
        .unwrap();
    // Read to the close, then taken apart: the answers come back to back.
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .expect("kept open")
        .unwrap();
    let mut statuses = Vec::new();
    let mut rest = raw.as_slice();
    while !rest.is_empty() {
        let Outcome::Reply(reply) = parse_response(rest) else {
            panic!("{}", String::from_utf8_lossy(&raw));
        };
        let head_len = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        rest = &rest[head_len + reply.body.len()..];
        statuses.push((reply.status, reply.header("connection").map(str::to_owned)));
    }
    assert_eq!(
        statuses,
        [(200, None), (200, None), (400, Some("close".to_owned()))],
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(emu.clock().status().offset_ms, 1000);
}

#[tokio::test]
async fn malformed_heads_get_400_not_silence() {
    let emu = start_with(patient()).await;
    for head in [
        // A byte no header value may hold.
        "GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\nX-Bad: a\u{1}b\r\n\r\n",
        // A header name with a space.
        "GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\nBad Name: x\r\n\r\n",
        // Content-Length that is not a number, or two that disagree.
        "POST /open/v0/thGetToken HTTP/1.1\r\nHost: emulator\r\nContent-Length: abc\r\n\r\n",
        "POST /open/v0/thGetToken HTTP/1.1\r\nHost: emulator\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        // A transfer coding that does not end in chunked.
        "POST /open/v0/thGetToken HTTP/1.1\r\nHost: emulator\r\nTransfer-Encoding: gzip\r\n\r\n",
        // Not HTTP.
        "HELLO\r\n\r\n",
    ] {
        let outcome = tokio::time::timeout(PATIENCE, send_raw(emu.addr(), head, b""))
            .await
            .unwrap_or_else(|_| panic!("hung on {head:?}"));
        match outcome {
            Outcome::Reply(reply) => assert_eq!(reply.status, 400, "{head:?}"),
            other => panic!("{head:?}: {other:?}"),
        }
    }
    // The emulator is fine afterwards.
    assert!(healthy(&mut connect(emu.addr()).await).await);
}

#[tokio::test]
async fn the_date_header_is_the_emulators_time() {
    // 2023-11-14T22:13:20Z
    let start = at(1_700_000_000);
    let emu = start_with(patient().clock(ClockStart::FrozenAt(start))).await;
    let date = |reply: &Reply| reply.header("date").map(str::to_owned);
    let health = send(emu.addr(), "GET", "/_emulator/health", &[], b"")
        .await
        .reply();
    assert_eq!(
        date(&health).as_deref(),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    // Every kind of answer: a vendor's error, a path of no vendor.
    let linkv = send(emu.addr(), "POST", "/open/v0/thGetToken", &[], b"")
        .await
        .reply();
    assert_eq!(
        date(&linkv).as_deref(),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    let nowhere = send(emu.addr(), "GET", "/elsewhere", &[], b"")
        .await
        .reply();
    assert_eq!(nowhere.status, 404);
    assert_eq!(
        date(&nowhere).as_deref(),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );

    // Shifted by the API…
    emu.clock().advance(Duration::from_secs(86_400 + 61));
    let moved = send(emu.addr(), "GET", "/live/v3/channel/donate/get", &[], b"")
        .await
        .reply();
    assert_eq!(
        date(&moved).as_deref(),
        Some("Wed, 15 Nov 2023 22:14:21 GMT")
    );
    // …and by the inspection API, as a running clock far behind the host's.
    let behind = send(
        emu.addr(),
        "PUT",
        "/_emulator/clock",
        &[],
        br#"{"frozen": false, "now_ms": 946684800000}"#,
    )
    .await
    .reply();
    assert_eq!(behind.status, 200);
    let reply = send(emu.addr(), "GET", "/_emulator/clock", &[], b"")
        .await
        .reply();
    let shown = date(&reply).unwrap();
    assert!(
        shown.starts_with("Sat, 01 Jan 2000 00:0"),
        "{shown}: not the emulator's 2000-01-01"
    );
    // Only one Date: the host's is not added beside it.
    let raw = send(emu.addr(), "GET", "/_emulator/health", &[], b"")
        .await
        .reply();
    assert_eq!(
        raw.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("date"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_clock_past_the_year_9999_sends_no_date_rather_than_failing() {
    let emu = start_with(patient()).await;
    let reply = send(
        emu.addr(),
        "PUT",
        "/_emulator/clock",
        &[],
        br#"{"frozen": true, "now_ms": 253402300800000}"#,
    )
    .await
    .reply();
    assert_eq!(reply.status, 200);
    let reply = send(emu.addr(), "GET", "/_emulator/health", &[], b"")
        .await
        .reply();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("date"), None);
}

/// A slow-loris attack at small scale: every attacker sends a byte of its head now and then,
/// never finishing it. The timeouts close them all while a health check answers throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_connections_are_closed_while_health_checks_answer() {
    const ATTACKERS: usize = 40;
    let emu = start_with(quick().max_connections(ATTACKERS + 8)).await;
    let addr = emu.addr();
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|_| {
            tokio::spawn(async move {
                let mut stream = connect(addr).await;
                let head = b"GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\nX-Slow: ";
                let mut buf = [0u8; 64];
                for byte in head.iter().cycle() {
                    if stream.write_all(&[*byte]).await.is_err() {
                        return true;
                    }
                    // A byte every 200 ms, and see whether the server has closed.
                    let read =
                        tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf));
                    if let Ok(Ok(0) | Err(_)) = read.await {
                        return true;
                    }
                }
                false
            })
        })
        .collect();

    let mut checks = 0;
    let mut probe = connect(addr).await;
    while attackers.iter().any(|a| !a.is_finished()) {
        // A fresh connection every time the emulator closes the probe's idle one.
        if !healthy(&mut probe).await {
            probe = connect(addr).await;
            assert!(
                healthy(&mut probe).await,
                "the health check failed during the attack: {:?}",
                emu.connection_stats()
            );
        }
        checks += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for attacker in attackers {
        assert!(
            tokio::time::timeout(PATIENCE, attacker)
                .await
                .unwrap()
                .unwrap(),
            "an attacker was never closed"
        );
    }
    assert!(checks > 0);
    let stats = emu.connection_stats();
    assert!(stats.header_timeouts >= ATTACKERS as u64, "{stats:?}");
    assert_eq!(stats.refused, 0, "{stats:?}");
}
