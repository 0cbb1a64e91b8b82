//! A slow-loris attack on the emulator, at full scale: hundreds of connections that each send
//! one byte of a request head every few seconds and never finish it. The header read timeout
//! closes them all while a health check keeps answering; the memory they took is measured
//! before, during and after.
//!
//! Memory is measured two ways. The resident set (`VmRSS`) is what the system sees, but the
//! allocator keeps memory freed by closed connections for reuse, so RSS stays near the
//! high-water mark of an attack. The live heap, counted by this harness's global allocator
//! (bytes and blocks allocated and not yet freed), shows what the process really still holds:
//! after each round, once the emulator reports no connection open and the attackers' own
//! sockets and tasks are gone, it must be back within [`LEAK_SLACK`] of its idle level, or the
//! harness fails. The heap is counted in this process only: with `--target` the emulator is
//! another process, and only its RSS is shown.
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin emulator_slowloris
//! cargo run --release -p liveapi-harness --bin emulator_slowloris -- --connections 500 --max-connections 200
//! # An emulator in a process of its own, so that its memory is measured without the attackers'.
//! liveapi emulator --listen 127.0.0.1:8080 & sleep 1
//! cargo run --release -p liveapi-harness --bin emulator_slowloris -- --target 127.0.0.1:8080 --target-pid $!
//! ```
//!
//! Options: `--connections N` (500 attackers), `--byte-every-ms N` (2000), `--header-timeout-ms N`
//! (the emulator's default, 10 s), `--max-connections N` (the emulator's default), `--rounds N`
//! (2: memory the first round leaves with the allocator must be reused, not added to),
//! `--target ADDR` and `--target-pid PID` (attack a running emulator and measure that process;
//! `--header-timeout-ms` and `--max-connections` are then its own). The process
//! holds both ends of every connection: it needs twice `--connections` descriptors and then
//! some (`ulimit -n`). Exits non-zero if a health check failed, an attacker outlived the
//! timeout by far, or (in this process) the live heap after a round exceeds its idle level by
//! more than [`LEAK_SLACK`].

// The counting global allocator below needs `unsafe impl GlobalAlloc`; nothing else does.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use clap::Parser;
use liveapi_emulator::{Emulator, RunningEmulator};
use liveapi_harness::cli::{positive, positive_count};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How far the live heap after a round may be above its idle level. An open connection holds
/// about 30 KiB, both ends counted; a round of 500 that each left even 2 KiB behind would
/// exceed this.
const LEAK_SLACK: usize = 1024 * 1024;

/// The system allocator, counting the bytes and blocks allocated and not yet freed, and the
/// most bytes held at once since [`Heap::reset_peak`].
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_BLOCKS: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn added(size: usize) {
        let live = LIVE_BYTES.fetch_add(size, Relaxed).wrapping_add(size);
        PEAK_BYTES.fetch_max(live, Relaxed);
    }
}

// SAFETY: every method passes its arguments unchanged to `System`, so the caller's obligations
// under `GlobalAlloc` are `System`'s and every pointer returned is `System`'s. The counting
// only touches atomics (it never allocates), and only after `System` succeeded.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (a layout of non-zero size).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BLOCKS.fetch_add(1, Relaxed);
            Self::added(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BLOCKS.fetch_add(1, Relaxed);
            Self::added(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator (that is, `System`) returned, with
        // the layout it was allocated with.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BLOCKS.fetch_sub(1, Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller's `new_size` is valid for `layout`'s
        // alignment.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            Self::added(new_size);
            LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The live heap of this process.
#[derive(Clone, Copy)]
struct Heap {
    bytes: usize,
    blocks: usize,
}

impl Heap {
    fn now() -> Self {
        Self {
            bytes: LIVE_BYTES.load(Relaxed),
            blocks: LIVE_BLOCKS.load(Relaxed),
        }
    }

    /// The most bytes held at once since the last reset.
    fn peak_bytes() -> usize {
        PEAK_BYTES.load(Relaxed)
    }

    fn reset_peak() {
        PEAK_BYTES.store(LIVE_BYTES.load(Relaxed), Relaxed);
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Asks glibc to give the free memory of its arenas back to the system; elsewhere, nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() -> bool {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: `malloc_trim` takes a plain integer, touches only the allocator's own free
    // lists, and is safe to call from any thread at any time.
    unsafe { malloc_trim(0) };
    true
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> bool {
    false
}

struct Config {
    connections: usize,
    byte_every: Duration,
    header_timeout: Duration,
    max_connections: Option<usize>,
    rounds: u32,
    target: Option<SocketAddr>,
    target_pid: Option<u32>,
}

/// A slow-loris attack on the emulator: connections that send one byte of a request head
/// every few seconds and never finish it, while a health check keeps answering and memory is
/// measured.
#[derive(Parser)]
struct Flags {
    /// Attacking connections.
    #[arg(long, default_value_t = 500, value_parser = positive_count)]
    connections: usize,
    /// How often each attacker sends one more byte, in ms.
    #[arg(long, default_value_t = 2000, value_parser = positive)]
    byte_every_ms: u64,
    /// The emulator's header read timeout, in ms.
    #[arg(long, default_value_t = millis(liveapi_emulator::DEFAULT_HEADER_READ_TIMEOUT), value_parser = positive)]
    header_timeout_ms: u64,
    /// The emulator's connection limit [default: the emulator's].
    #[arg(long, value_parser = positive_count)]
    max_connections: Option<usize>,
    /// Attack rounds: memory the first leaves with the allocator must be reused, not added to.
    #[arg(long, default_value_t = 2, value_parser = positive)]
    rounds: u64,
    /// Attack a running emulator at HOST:PORT instead of one in this process.
    #[arg(long)]
    target: Option<SocketAddr>,
    /// The process id of the `--target` emulator, to measure its memory.
    #[arg(long, value_parser = positive)]
    target_pid: Option<u64>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Flags {
    fn config(self) -> Config {
        Config {
            connections: self.connections,
            byte_every: Duration::from_millis(self.byte_every_ms),
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            max_connections: self.max_connections,
            rounds: u32::try_from(self.rounds).unwrap_or(u32::MAX),
            target: self.target,
            target_pid: self.target_pid.and_then(|pid| u32::try_from(pid).ok()),
        }
    }
}

/// The emulator under attack: in this process, or another one.
enum Target {
    InProcess(Box<RunningEmulator>),
    External { addr: SocketAddr, pid: Option<u32> },
}

impl Target {
    fn addr(&self) -> SocketAddr {
        match self {
            Self::InProcess(emulator) => emulator.addr(),
            Self::External { addr, .. } => *addr,
        }
    }

    /// The emulator's resident memory in KiB, from `/proc/…/status` (Linux).
    fn rss_kib(&self) -> Option<u64> {
        let path = match self {
            Self::InProcess(_) => "/proc/self/status".to_owned(),
            Self::External { pid, .. } => format!("/proc/{}/status", (*pid)?),
        };
        let status = std::fs::read_to_string(path).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    fn show_rss(&self, when: &str) {
        match self.rss_kib() {
            Some(kib) => println!("RSS {when}: {:.1} MiB", kib as f64 / 1024.0),
            None => println!("RSS {when}: unknown"),
        }
    }

    /// The live heap, when the emulator is in this process.
    fn heap(&self) -> Option<Heap> {
        matches!(self, Self::InProcess(_)).then(Heap::now)
    }

    /// Shows the live heap now, and returns it.
    fn show_heap(&self, when: &str) -> Option<Heap> {
        let heap = self.heap();
        match heap {
            Some(heap) => println!(
                "live heap {when}: {:.2} MiB in {} blocks",
                mib(heap.bytes),
                heap.blocks
            ),
            None => println!("live heap {when}: not counted (the emulator is another process)"),
        }
        heap
    }

    /// Waits (up to 15 s) until the emulator reports no connection open, other than the one
    /// that asks; the number still open.
    async fn wait_closed(&self) -> u64 {
        let own = u64::from(matches!(self, Self::External { .. }));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let open = count(&self.stats().await, "open").saturating_sub(own);
            if open == 0 || Instant::now() > deadline {
                return open;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The connection counters, as `GET /_emulator/connections` shows them.
    async fn stats(&self) -> Value {
        match self {
            Self::InProcess(emulator) => {
                serde_json::to_value(emulator.connection_stats()).unwrap_or(Value::Null)
            }
            Self::External { addr, .. } => fetch_stats(*addr).await.unwrap_or(Value::Null),
        }
    }
}

async fn fetch_stats(addr: SocketAddr) -> Option<Value> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request =
        b"GET /_emulator/connections HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n";
    stream.write_all(request).await.ok()?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    let start = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    serde_json::from_slice(&answer[start..]).ok()
}

fn count(stats: &Value, key: &str) -> u64 {
    stats[key].as_u64().unwrap_or(0)
}

/// How an attacker's connection ended.
enum Fate {
    /// Closed by the emulator after this long.
    Closed(Duration),
    /// Refused at once: a 503, or a close before the emulator took the first byte.
    Refused,
    /// Still open when the attack gave up on it.
    Kept,
}

/// Connects and sends one byte of a never-ending head every `every`, until the emulator
/// closes the connection.
async fn attacker(addr: SocketAddr, every: Duration, give_up: Duration) -> Fate {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return Fate::Refused;
    };
    let opened = Instant::now();
    let head = b"POST /open/v0/thGetToken HTTP/1.1\r\nHost: emulator\r\nX-Slow: ";
    let mut buf = [0u8; 512];
    for (sent, byte) in head.iter().chain(std::iter::repeat(&b'a')).enumerate() {
        if opened.elapsed() > give_up {
            return Fate::Kept;
        }
        let closed = if stream.write_all(&[*byte]).await.is_err() {
            true
        } else {
            // Anything the emulator sends to a head it has not finished is a refusal.
            match tokio::time::timeout(every, stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => true,
                Ok(Ok(_)) => return Fate::Refused,
                Err(_) => false,
            }
        };
        if closed {
            return if sent == 0 {
                Fate::Refused
            } else {
                Fate::Closed(opened.elapsed())
            };
        }
    }
    Fate::Kept
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = Flags::parse().config();
    let target = match config.target {
        Some(addr) => Target::External {
            addr,
            pid: config.target_pid,
        },
        None => {
            let mut builder = Emulator::builder().header_read_timeout(config.header_timeout);
            if let Some(max) = config.max_connections {
                builder = builder.max_connections(max);
            }
            match builder.start().await {
                Ok(emulator) => Target::InProcess(Box::new(emulator)),
                Err(e) => {
                    eprintln!("emulator_slowloris: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let stats = target.stats().await;
    println!(
        "{} attackers, a byte every {:?}; header read timeout {} ms, at most {} connections",
        config.connections,
        config.byte_every,
        count(&stats, "header_read_timeout_ms"),
        count(&stats, "max"),
    );
    let header_timeout = Duration::from_millis(count(&stats, "header_read_timeout_ms"));
    drop(stats);
    // A warm-up health check on a connection of its own, so that what the first request
    // allocates once (in the emulator and in the runtime) is part of the idle level.
    let warmed = match TcpStream::connect(target.addr()).await {
        Ok(mut stream) => health(&mut stream).await,
        Err(_) => false,
    };
    if !warmed || target.wait_closed().await > 0 {
        eprintln!("emulator_slowloris: the warm-up health check failed");
        return ExitCode::FAILURE;
    }
    settle().await;
    target.show_rss("idle");
    let idle = target.show_heap("idle");
    let mut ok = true;
    // Several rounds: memory the first one leaves with the allocator must be reused by the
    // next rather than added to, which is how retained per-connection state would show.
    for round in 1..=config.rounds {
        println!("round {round}:");
        ok &= attack(&target, &config, header_timeout).await;
        // Every attacker's socket and task is gone by now; wait for the emulator's side.
        target.wait_closed().await;
        settle().await;
        target.show_rss(&format!("after round {round}"));
        let after = target.show_heap(&format!("after round {round}"));
        if let (Some(idle), Some(after)) = (idle, after) {
            let above = after.bytes.saturating_sub(idle.bytes);
            println!(
                "  live heap above idle: {:.1} KiB, {} blocks",
                above as f64 / 1024.0,
                after.blocks as i64 - idle.blocks as i64
            );
            if above > LEAK_SLACK {
                eprintln!(
                    "emulator_slowloris: after round {round} the live heap is {:.2} MiB above its idle level (at most {:.2} MiB allowed)",
                    mib(above),
                    mib(LEAK_SLACK)
                );
                ok = false;
            }
        }
    }
    // What the allocator keeps for reuse is free memory, no longer the emulator's: asked to,
    // glibc gives it back. Only after the last round, so that every round's RSS is that of a
    // process left to itself.
    if matches!(target, Target::InProcess(_)) && trim() {
        target.show_rss("after the last round and malloc_trim(0)");
    }
    if let Target::InProcess(emulator) = target {
        let _ = emulator.shutdown().await;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Lets the runtime finish freeing what closed connections leave to it (completed tasks, the
/// I/O driver's released registrations) before the heap is sampled.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// One attack; whether every health check answered and every attacker was closed.
async fn attack(target: &Target, config: &Config, header_timeout: Duration) -> bool {
    let addr = target.addr();
    let before = target.stats().await;
    Heap::reset_peak();
    // The health check keeps its connection (as a pooled client would), opening a new one
    // when the emulator closes it.
    let mut probe = TcpStream::connect(addr).await.ok();
    let give_up = header_timeout * 3 + config.byte_every * 2;
    let attack_started = Instant::now();
    let attackers: Vec<_> = (0..config.connections)
        .map(|_| tokio::spawn(attacker(addr, config.byte_every, give_up)))
        .collect();

    let mut latencies = Vec::new();
    let mut failures = 0u32;
    let mut peak_rss = None;
    while attackers.iter().any(|a| !a.is_finished()) {
        let asked = Instant::now();
        let mut answered = false;
        for _ in 0..2 {
            let stream = match probe.as_mut() {
                Some(stream) => stream,
                None => probe.insert(match TcpStream::connect(addr).await {
                    Ok(stream) => stream,
                    Err(_) => break,
                }),
            };
            if health(stream).await {
                answered = true;
                break;
            }
            probe = None;
        }
        if answered {
            latencies.push(asked.elapsed());
        } else {
            failures += 1;
        }
        peak_rss = peak_rss.max(target.rss_kib());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "  RSS during the attack, at most: {:.1} MiB",
        peak_rss.unwrap_or(0) as f64 / 1024.0
    );
    if target.heap().is_some() {
        // The attackers' sockets and tasks are in this process too.
        println!(
            "  live heap during the attack, at most: {:.2} MiB (emulator and attackers)",
            mib(Heap::peak_bytes())
        );
    }

    let mut lifetimes = Vec::new();
    let (mut refused, mut kept) = (0, 0);
    for attacker in attackers {
        match attacker.await {
            Ok(Fate::Closed(lived)) => lifetimes.push(lived),
            Ok(Fate::Refused) => refused += 1,
            Ok(Fate::Kept) | Err(_) => kept += 1,
        }
    }
    lifetimes.sort();
    latencies.sort();
    println!(
        "  attack over after {:.1} s",
        attack_started.elapsed().as_secs_f64()
    );
    println!(
        "  attackers closed by the emulator: {} (lived min {:.2} s, median {:.2} s, max {:.2} s); refused at once: {refused}; never closed: {kept}",
        lifetimes.len(),
        lifetimes.first().copied().unwrap_or_default().as_secs_f64(),
        percentile(&lifetimes, 0.5).as_secs_f64(),
        lifetimes.last().copied().unwrap_or_default().as_secs_f64(),
    );
    println!(
        "  health checks: {} answered (p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms), {failures} failed",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    drop(probe);
    // Let the emulator see the last closes, then look at what is left.
    target.wait_closed().await;
    let after = target.stats().await;
    let since = |key: &str| count(&after, key).saturating_sub(count(&before, key));
    // The connection that asks for the counters is itself open.
    let open = count(&after, "open").saturating_sub(u64::from(config.target.is_some()));
    println!(
        "  emulator: open {open} (peak {}), accepted {}, refused {}, closed by header timeout {}, by keep-alive timeout {}, accept errors {}",
        count(&after, "peak"),
        since("accepted"),
        since("refused"),
        since("header_timeouts"),
        since("keep_alive_timeouts"),
        since("accept_errors"),
    );
    if failures > 0 || kept > 0 || open > 0 {
        eprintln!(
            "emulator_slowloris: {failures} health checks failed, {kept} attackers kept, {open} connections still open"
        );
        return false;
    }
    true
}

/// One health check on a kept connection; whether it answered 200.
async fn health(stream: &mut TcpStream) -> bool {
    let request = b"GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\n\r\n";
    if stream.write_all(request).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        // The answer is small and has a Content-Length; its end is the body `{"ok":true}`.
        while !answer.ends_with(b"}") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    matches!(read, Ok(true)) && answer.starts_with(b"HTTP/1.1 200")
}
