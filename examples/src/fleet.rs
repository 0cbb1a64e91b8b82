//! A fleet of processes sharing one Polyv budget: the `fleet_worker` binary that is one of
//! them, and what the fleet test needs around it (real Redis servers, the workers' reports).
//!
//! Tests that need Redis read `LIVEAPI_TEST_REDIS_URL` and run `redis-server` from the PATH.
//! In CI (`LIVEAPI_CI` set) a missing one is a failure; elsewhere the test says why it is
//! skipped and passes.

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

/// A label no other test, run or process uses: as the egress label, it gives a run keys of
/// its own.
#[must_use]
pub fn unique_label(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("test-{test}-{}-{nanos}", std::process::id())
}

/// Whether a Redis answers `PING` on loopback at `port`.
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

/// A `redis-server` of a test's own on a free loopback port, keeping nothing on disk, that
/// the test may kill and start again.
#[derive(Debug)]
pub struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one, or `None` where `redis-server` cannot be run (a panic in CI).
    ///
    /// # Panics
    /// If no loopback port can be had or the temporary directory cannot be made.
    #[must_use]
    pub fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!("liveapi-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
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
        let binary = std::env::var("LIVEAPI_TEST_REDIS_SERVER")
            .unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(&binary)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
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

    /// Kills the server, as a crash would, and waits until it is gone.
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

/// What one worker did, from the line it prints last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls the server refused with `qps exceeds number of calls`.
    pub refused: u64,
    /// Calls the client's limiter gave up on before the deadline.
    pub throttled: u64,
    /// Calls that failed otherwise.
    pub errors: u64,
    /// How long the worker called, in milliseconds.
    pub ms: u64,
}

/// The prefix of the report line.
pub const REPORT: &str = "fleet-worker report:";

impl Report {
    /// The report line.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "{REPORT} ok={} refused={} throttled={} errors={} ms={}",
            self.ok, self.refused, self.throttled, self.errors, self.ms
        )
    }

    /// Reads the report line out of a worker's output.
    #[must_use]
    pub fn find(output: &str) -> Option<Self> {
        let line = output.lines().rev().find(|l| l.starts_with(REPORT))?;
        let mut report = Self::default();
        for field in line[REPORT.len()..].split_whitespace() {
            let (name, value) = field.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match name {
                "ok" => report.ok = value,
                "refused" => report.refused = value,
                "throttled" => report.throttled = value,
                "errors" => report.errors = value,
                "ms" => report.ms = value,
                _ => return None,
            }
        }
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_back() {
        let report = Report {
            ok: 1200,
            refused: 1,
            throttled: 2,
            errors: 3,
            ms: 10_500,
        };
        let output = format!("noise\n{}\n", report.line());
        assert_eq!(Report::find(&output), Some(report));
        assert_eq!(Report::find("nothing"), None);
    }
}
