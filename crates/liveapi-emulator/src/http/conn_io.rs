//! A connection's socket as hyper sees it: it hands hyper first the bytes read before hyper
//! took over, tells the connection's [`Activity`] when bytes arrive and when writing stalls,
//! shows every byte read to the connection's [`Framing`], and can end with a TCP reset instead
//! of a close.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::http::connections::Activity;
use crate::http::framing::Framing;

/// A connection that can be made to end with a TCP reset instead of an orderly close, and
/// that tells its [`Activity`] when bytes arrive and when writing stalls.
pub(super) struct ConnIo {
    pub(super) stream: TcpStream,
    /// What was read before hyper took the connection over (to tell HTTP/2 from HTTP/1.1),
    /// read again first.
    pub(super) replay: Bytes,
    pub(super) framing: Framing,
    pub(super) reset: Arc<AtomicBool>,
    pub(super) activity: Arc<Activity>,
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
        let polled = if this.replay.is_empty() {
            Pin::new(&mut this.stream).poll_read(cx, buf)
        } else {
            let replayed = this.replay.split_to(this.replay.len().min(buf.remaining()));
            buf.put_slice(&replayed);
            Poll::Ready(Ok(()))
        };
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            this.activity.read(Instant::now());
            this.framing.feed(read);
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
