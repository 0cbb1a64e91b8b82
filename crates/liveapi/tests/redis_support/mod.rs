//! Real Redis for the limiter's tests: the shared server named by `LIVEAPI_TEST_REDIS_URL`,
//! and private `redis-server`s that a test may stop and start again.
//!
//! In CI (`LIVEAPI_CI` set) a missing server is a failure; elsewhere the test prints why it
//! is skipped and passes.
//!
//! The examples' fleet test includes this file too (`liveapi_examples::fleet::redis`), so the
//! items are `pub`; it lives here so that the published crate's tests are whole.
#![allow(unreachable_pub, dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `None` (after saying so) when a test cannot run here; a panic in CI.
fn unavailable<T>(what: &str) -> Option<T> {
    if std::env::var_os("LIVEAPI_CI").is_some_and(|v| !v.is_empty()) {
        panic!("{what}: CI must provide it (.ci/run starts Redis)");
    }
    eprintln!(
        "skipped: {what} (`.ci/run` provides it; see the README, \"Running the Redis and PostgreSQL tests\")"
    );
    None
}

/// The shared Redis of this machine or CI, from `LIVEAPI_TEST_REDIS_URL`.
#[must_use]
pub fn redis_url() -> Option<String> {
    match std::env::var("LIVEAPI_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => unavailable("LIVEAPI_TEST_REDIS_URL is not set"),
    }
}

/// A key prefix (or egress label) no other test, run or process uses.
#[must_use]
pub fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("liveapi-test:{test}:{}:{nanos}", std::process::id())
}

/// Whether a Redis answers `PING` at `port` on loopback.
fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut reply = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// A `redis-server` of the test's own on a free loopback port, keeping nothing on disk, that
/// the test may kill and start again.
#[derive(Debug)]
pub struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one, or `None` where `redis-server` cannot be run (which a CI run treats as a failure).
    pub fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("liveapi-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Self {
            port,
            dir,
            child: None,
        };
        match redis.spawn() {
            Ok(()) => Some(redis),
            Err(why) => unavailable(&why),
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let binary =
            std::env::var("LIVEAPI_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&binary)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run `{binary}`: {e}"))?;
        self.child = Some(child);
        let started = Instant::now();
        while !answers(self.port) {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!("`{binary}` did not answer on port {}", self.port));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// `redis://127.0.0.1:PORT/0`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (as a crash would) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    ///
    /// # Errors
    /// Why it did not come back.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
