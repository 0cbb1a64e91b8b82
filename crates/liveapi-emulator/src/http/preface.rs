//! HTTP/2's connection preface, told apart from an HTTP/1.1 request by a connection's first
//! bytes.
//!
//! hyper, serving HTTP/1.1 only, closes a connection that opens with the preface without a
//! word. The emulator reads the first bytes itself: the preface is answered with a 505
//! ([`refusal::http2`](super::refusal::http2)), anything else is handed to hyper as if it had
//! read it.

use std::io;

use bytes::Bytes;
use tokio::net::TcpStream;

/// What an HTTP/2 client sends first when it knows the server speaks HTTP/2 (RFC 9113,
/// section 3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How a connection opened.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Opening {
    /// Not with HTTP/2's preface: the bytes read so far, for hyper.
    Http1(Bytes),
    /// With HTTP/2's whole preface.
    Http2,
}

/// Reads a connection's first bytes until they differ from HTTP/2's preface or make it whole.
///
/// One read is enough for any HTTP/1.1 request (its first bytes differ from the preface's at
/// once), so hyper gets its request as soon as it would have. An end of stream or an error
/// before the decision ends the reading too: hyper meets them again on its next read.
pub(super) async fn opening(stream: &TcpStream) -> Opening {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if stream.readable().await.is_err() {
            return Opening::Http1(Bytes::from(seen));
        }
        match stream.try_read(&mut buf) {
            Ok(0) => return Opening::Http1(Bytes::from(seen)),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return Opening::Http1(Bytes::from(seen)),
        }
        match is_http2(&seen) {
            Some(true) => return Opening::Http2,
            Some(false) => return Opening::Http1(Bytes::from(seen)),
            None => {}
        }
    }
}

/// Whether these first bytes are HTTP/2's preface, if they decide it.
fn is_http2(seen: &[u8]) -> Option<bool> {
    let compared = seen.len().min(PREFACE.len());
    if seen[..compared] != PREFACE[..compared] {
        Some(false)
    } else if compared == PREFACE.len() {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_differing_byte_decides_for_http1_and_the_whole_preface_for_http2() {
        assert_eq!(is_http2(b"POST / HTTP/1.1\r\n"), Some(false));
        assert_eq!(is_http2(b"PO"), Some(false));
        assert_eq!(is_http2(b"P"), None);
        assert_eq!(is_http2(b"PRI * HTTP/2.0\r\n"), None);
        assert_eq!(is_http2(PREFACE), Some(true));
        // The preface and the frames that follow it.
        assert_eq!(
            is_http2(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0"),
            Some(true)
        );
        assert_eq!(is_http2(b"PRI * HTTP/2.0\r\n\r\nXX"), Some(false));
    }
}
