//! Real Redis for the tests beside the shared one ([`service::redis_url`](crate::service::redis_url)):
//! private `redis-server`s that a test may stop and start again, and key prefixes that keep
//! tests sharing one server apart.
//!
//! A `redis-server` that cannot be run is a missing service, under the rule of
//! [`service`](crate::service): skipped with a notice, a failure in CI.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::service::unavailable;

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
    /// Starts one, or `None` where `redis-server` cannot be run (which a CI run treats as a
    /// failure). `LIVEAPI_TEST_REDIS_SERVER` names another binary than the `redis-server` on
    /// the `PATH`.
    pub fn start() -> Option<Self> {
        let port = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => return unavailable(&format!("no free loopback port for redis-server: {e}")),
        };
        let dir = std::env::temp_dir().join(format!("liveapi-redis-{}-{port}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return unavailable(&format!("cannot make {}: {e}", dir.display()));
        }
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
