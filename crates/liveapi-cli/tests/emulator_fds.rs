//! `liveapi emulator` under a low open-file limit (`ulimit -n 64`): more idle connections than
//! it has descriptors for must not stop it answering a well-behaved client.
//!
//! Linux only: the default cap is derived from `/proc/self/limits`.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a well-behaved client may have to wait for the emulator to answer it at all.
const PATIENCE: Duration = Duration::from_secs(30);
/// More than the 64 descriptors the emulator may open.
const IDLE_CONNECTIONS: usize = 100;

/// Kills the process if the test fails halfway.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `liveapi emulator ARGS` under `ulimit -n 64` and reads its banner.
fn start_limited(args: &[&str]) -> (Running, SocketAddr, String) {
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 64 && exec "$0" emulator --listen 127.0.0.1:0 "$@""#)
        .arg(env!("CARGO_BIN_EXE_liveapi"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let mut banner = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let addr = banner
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("liveapi emulator listening on http://"))
        .unwrap_or_else(|| panic!("unexpected banner:\n{banner}"))
        .parse()
        .unwrap();
    (running, addr, banner)
}

/// One `GET path` on a fresh connection: the status line and the body, or why not.
fn get(addr: SocketAddr, path: &str) -> Result<(String, String), String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Asks for the health check until it answers 200; the outcomes of the tries before.
fn answered_within_patience(addr: SocketAddr) -> Result<Vec<String>, Vec<String>> {
    let started = Instant::now();
    let mut tries = Vec::new();
    while started.elapsed() < PATIENCE {
        match get(addr, "/_emulator/health") {
            Ok((status, _)) if status.starts_with("HTTP/1.1 200") => return Ok(tries),
            Ok((status, _)) => tries.push(status),
            Err(e) => tries.push(e),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(tries)
}

/// Opens connections that send nothing and keeps them.
fn idle_connections(addr: SocketAddr) -> Vec<TcpStream> {
    (0..IDLE_CONNECTIONS)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap())
        .collect()
}

#[test]
fn the_default_cap_stays_under_the_file_limit_and_the_timeouts_free_it() {
    let (_running, addr, banner) =
        start_limited(&["--header-read-timeout", "1", "--keep-alive-timeout", "1"]);
    // 64 descriptors, half kept for the emulator's own use.
    assert!(
        banner.contains("connections: at most 32;"),
        "unexpected cap:\n{banner}"
    );
    let mut idle = idle_connections(addr);

    // The connections over the cap were refused at once, with a 503 and a close.
    let mut refused = 0;
    for stream in &mut idle {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut answer = String::new();
        if stream.read_to_string(&mut answer).is_ok() && answer.starts_with("HTTP/1.1 503") {
            refused += 1;
        }
    }
    assert!(refused > 0, "no idle connection over the cap was refused");

    if let Err(tries) = answered_within_patience(addr) {
        panic!("no answer within {PATIENCE:?}: {tries:?}");
    }
    let (_, stats) = get(addr, "/_emulator/connections").unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(stats["refused"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["header_timeouts"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["peak"].as_u64().unwrap() <= 32, "{stats}");
    drop(idle);
}

#[test]
fn out_of_descriptors_the_emulator_keeps_accepting_once_the_timeouts_free_some() {
    // A cap above the file limit: accepting fails with EMFILE until timeouts free
    // descriptors, and the accept loop must neither spin nor stop meanwhile.
    let (mut running, addr, _) = start_limited(&[
        "--header-read-timeout",
        "1",
        "--keep-alive-timeout",
        "1",
        "--max-connections",
        "1000",
    ]);
    let idle = idle_connections(addr);
    if let Err(tries) = answered_within_patience(addr) {
        panic!("no answer within {PATIENCE:?}: {tries:?}");
    }
    let (_, stats) = get(addr, "/_emulator/connections").unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(stats["accept_errors"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["header_timeouts"].as_u64().unwrap() >= 32, "{stats}");
    assert!(running.0.try_wait().unwrap().is_none(), "the emulator died");
    drop(idle);
}
