//! What the emulator says to what HTTP allows but the vendors' SDKs never send: `HEAD`, which
//! is answered as `GET` without the body, and HTTP/2's connection preface, which is refused with
//! a 505 instead of a silent close.
//!
//! Raw TCP throughout, so that the bytes on the wire are what is checked.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use liveapi_emulator::{ClockStart, Emulator, RunningEmulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(15);

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame, which an HTTP/2 client sends right after the preface.
const SETTINGS: &[u8] = b"\0\0\0\x04\0\0\0\0\0";

/// An emulator whose answers do not change between two asks: a frozen clock (the same
/// `Date`) and no rate limit.
async fn steady() -> RunningEmulator {
    start_with(
        Emulator::builder()
            .clock(ClockStart::FrozenAt(at(1_700_000_000)))
            .rate_limit(None),
    )
    .await
}

/// Everything that comes back on a fresh connection after `bytes`, until the close.
async fn exchange(addr: SocketAddr, pieces: &[&[u8]]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for piece in pieces {
        stream.write_all(piece).await.unwrap();
        stream.flush().await.unwrap();
        // Apart on the wire, as a client that writes the preface and its frames separately.
        tokio::task::yield_now().await;
    }
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the connection was never closed");
    raw
}

fn request(method: &str, target: &str, extra: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n{extra}\r\n")
}

/// The GET routes of every kind: the inspection API, the dashboard's page, files and views,
/// both vendors (unsigned, so their errors), and paths that are not found.
const GET_ROUTES: &[(&str, &str)] = &[
    ("/_emulator/health", ""),
    ("/_emulator", ""),
    ("/_emulator/", "Accept: text/html\r\n"),
    ("/_emulator/dashboard/app.js", ""),
    ("/_emulator/dashboard/style.css", ""),
    ("/_emulator/dashboard/overview", ""),
    ("/_emulator/connections", ""),
    ("/_emulator/clock", ""),
    ("/live/v3/channel/donate/get?channelId=1", ""),
    ("/open/v0/thGetToken?app_id=nobody", ""),
    ("/_emulator/nowhere", ""),
    ("/elsewhere", ""),
];

/// An answer's status line, its header lines as sent, and what came after the head.
fn split_answer(raw: &[u8]) -> (String, Vec<String>, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no answer head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n").map(str::to_owned);
    let status = lines.next().unwrap_or_default();
    (status, lines.collect(), raw[end + 4..].to_vec())
}

#[tokio::test]
async fn head_is_answered_as_get_without_the_body() {
    let emu = steady().await;
    for (target, extra) in GET_ROUTES {
        let get = exchange(emu.addr(), &[request("GET", target, extra).as_bytes()]).await;
        let head = exchange(emu.addr(), &[request("HEAD", target, extra).as_bytes()]).await;
        let (get_status, get_headers, get_body) = split_answer(&get);
        let (head_status, head_headers, head_body) = split_answer(&head);
        assert!(!get_status.contains(" 405 "), "GET {target}: {get_status}");
        // The same status and the same headers, `Content-Length` (the GET body's) included.
        assert_eq!(head_status, get_status, "HEAD {target}");
        assert_eq!(head_headers, get_headers, "HEAD {target}");
        let length = format!("content-length: {}", get_body.len());
        assert!(
            head_headers.contains(&length),
            "HEAD {target}: {head_headers:?}"
        );
        assert!(!get_body.is_empty(), "GET {target}");
        assert_eq!(head_body, b"", "HEAD {target}: a body was sent");
    }
}

#[tokio::test]
async fn head_keeps_a_connection_in_step_and_is_logged_as_head() {
    let emu = steady().await;
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    // HEAD, then GET on the same connection: had the HEAD's answer carried a body, the GET's
    // answer would not start where it is read.
    stream
        .write_all(
            b"HEAD /_emulator/health HTTP/1.1\r\nHost: e\r\n\r\n\
              GET /_emulator/health HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    let answers: Vec<&str> = text.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(answers.len(), 2, "{text}");
    assert!(answers[0].starts_with("200 OK\r\n"), "{text}");
    assert!(answers[0].ends_with("\r\n\r\n"), "HEAD had a body: {text}");
    assert!(answers[1].starts_with("200 OK\r\n"), "{text}");
    assert!(answers[1].ends_with(r#"{"ok":true}"#), "{text}");

    // A vendor's request is logged with the method it came with.
    let head = exchange(
        emu.addr(),
        &[request("HEAD", "/live/v3/channel/donate/get", "").as_bytes()],
    )
    .await;
    assert!(head.starts_with(b"HTTP/1.1 "));
    let log = send(emu.addr(), "GET", "/_emulator/requests?limit=1", &[], b"")
        .await
        .reply()
        .json();
    assert_eq!(log[0]["method"], "HEAD", "{log}");
    assert_eq!(log[0]["path"], "/live/v3/channel/donate/get", "{log}");
}

#[tokio::test]
async fn head_on_a_route_get_does_not_serve_is_refused_as_get_is() {
    let emu = steady().await;
    for target in ["/_emulator/reset", "/_emulator/clock/advance"] {
        let get = send(emu.addr(), "GET", target, &[], b"").await.reply();
        assert_eq!(get.status, 405, "GET {target}");
        let raw = exchange(emu.addr(), &[request("HEAD", target, "").as_bytes()]).await;
        assert!(raw.starts_with(b"HTTP/1.1 405 "), "HEAD {target}");
    }
}

/// The one-line body of the 505, in the reply that comes back for `pieces`.
fn http2_refusal(raw: &[u8]) -> String {
    let reply = parse_response(raw).reply();
    assert_eq!(reply.status, 505, "{}", String::from_utf8_lossy(raw));
    assert!(raw.starts_with(b"HTTP/1.1 505 HTTP Version Not Supported\r\n"));
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(reply.header("date").is_some());
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain;charset=UTF-8")
    );
    String::from_utf8(reply.body).unwrap()
}

#[tokio::test]
async fn an_http2_preface_gets_a_505_saying_the_emulator_speaks_http_1_1() {
    let emu = steady().await;
    // As an HTTP/2 client sends it: the preface and its SETTINGS at once, apart, in pieces.
    for pieces in [
        vec![[PREFACE, SETTINGS].concat()],
        vec![PREFACE.to_vec(), SETTINGS.to_vec()],
        vec![
            PREFACE[..3].to_vec(),
            PREFACE[3..17].to_vec(),
            PREFACE[17..].to_vec(),
        ],
    ] {
        let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let body = http2_refusal(&exchange(emu.addr(), &pieces).await);
        assert_eq!(body.lines().count(), 1, "{body:?}");
        assert!(body.ends_with('\n'), "{body:?}");
        assert!(body.contains("speaks HTTP/1.1"), "{body:?}");
    }
    // Its place under the cap is given back, and HTTP/1.1 is served as ever.
    tokio::time::timeout(PATIENCE, async {
        while emu.connection_stats().open != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    let health = send(emu.addr(), "GET", "/_emulator/health", &[], b"")
        .await
        .reply();
    assert_eq!(health.status, 200);
}

#[tokio::test]
async fn what_only_starts_like_the_preface_is_served_as_http_1_1() {
    let emu = steady().await;
    // `PRI` is a method like any other in HTTP/1.1: a path no one serves.
    let raw = exchange(
        emu.addr(),
        &[b"PRI * HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n"],
    )
    .await;
    assert!(
        raw.starts_with(b"HTTP/1.1 4"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // The preface's request line without the rest: hyper's 400 for a version it does not know.
    let raw = exchange(emu.addr(), &[b"PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n"]).await;
    assert!(
        raw.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // A request that comes byte by byte is read whole.
    let request = request("GET", "/_emulator/health", "");
    let bytes: Vec<&[u8]> = request.as_bytes().chunks(1).collect();
    let reply = parse_response(&exchange(emu.addr(), &bytes).await).reply();
    assert_eq!(reply.status, 200);
}
