//! A real headless browser for the tests and harnesses: Debian's `chromium`, driven over
//! WebDriver through its `chromedriver` (feature `browser`, with `fantoccini`), one driver on a
//! free loopback port and one fresh profile per test; or left on one page ([`HeadlessPage`]),
//! as a person leaves a dashboard open.
//!
//! For a test, a machine without `chromium` or `chromedriver` is a missing service, under the
//! rule of [`service`](crate::service): [`Browser::find`] skips the test with a notice, and
//! fails in CI (`.ci/run` installs both from Debian's packages when they are missing).
//!
//! The network here is closed: Chromium's own background traffic (updates, sync, field trials)
//! is turned off by its flags, so that nothing waits on a connection that is refused.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::service::unavailable;

/// The WebDriver client the sessions are, for the tests to drive them with.
#[cfg(feature = "browser")]
pub use fantoccini;

/// The variable naming another `chromium` binary than the one on the `PATH`.
pub const CHROMIUM: &str = "LIVEAPI_TEST_CHROMIUM";
/// The variable naming another `chromedriver` binary than the one on the `PATH`.
pub const CHROMEDRIVER: &str = "LIVEAPI_TEST_CHROMEDRIVER";

/// The flags Chromium runs with: headless, no sandbox (tests run as root in CI's containers),
/// and none of its background connections, which a closed network refuses.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
];

/// How long `chromedriver` may take to answer after it starts.
const DRIVER_START: Duration = Duration::from_secs(20);
/// How long a browser asked to stop may take before it is killed.
const BROWSER_STOP: Duration = Duration::from_secs(5);

/// Where `name` is: the file named by `variable`, or the first `names` on the `PATH`.
fn locate(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The installed browser and its WebDriver.
#[derive(Clone, Debug)]
pub struct Browser {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Browser {
    /// Finds `chromium` and `chromedriver` (or the binaries [`CHROMIUM`] and [`CHROMEDRIVER`]
    /// name), or `None` after a notice that the test is skipped.
    ///
    /// # Panics
    /// In CI, when either is missing.
    #[must_use]
    pub fn find() -> Option<Self> {
        match Self::locate() {
            Ok(browser) => Some(browser),
            Err(why) => unavailable(&why),
        }
    }

    /// Finds `chromium` and `chromedriver`, or says what is missing: for a harness, which has
    /// no test to skip.
    ///
    /// # Errors
    /// What is not installed.
    pub fn locate() -> Result<Self, String> {
        let chromium = locate(CHROMIUM, &["chromium", "chromium-browser"]);
        let chromedriver = locate(CHROMEDRIVER, &["chromedriver"]);
        match (chromium, chromedriver) {
            (Some(chromium), Some(chromedriver)) => Ok(Self {
                chromium,
                chromedriver,
            }),
            _ => Err("chromium and chromedriver are not installed \
                      (apt-get install chromium chromium-driver)"
                .to_owned()),
        }
    }

    /// The browser binary.
    #[must_use]
    pub fn chromium(&self) -> &Path {
        &self.chromium
    }

    /// Starts `chromedriver` on a free loopback port and waits until it is ready, or `None`
    /// after a notice (a failure in CI) if it does not start.
    ///
    /// # Panics
    /// In CI, when it does not start.
    #[must_use]
    pub fn start_driver(&self) -> Option<ChromeDriver> {
        match ChromeDriver::start(self) {
            Ok(driver) => Some(driver),
            Err(why) => unavailable(&why),
        }
    }

    /// Opens `url` in a headless browser of its own with a window of `width` × `height`, and
    /// leaves it there until the page is dropped.
    ///
    /// # Errors
    /// Why the browser could not be started.
    pub fn open(&self, url: &str, width: u32, height: u32) -> Result<HeadlessPage, String> {
        let profile = Profile::new("page")?;
        let child = Command::new(&self.chromium)
            .args(CHROMIUM_FLAGS)
            .arg(format!("--window-size={width},{height}"))
            .arg(profile.flag())
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run `{}`: {e}", self.chromium.display()))?;
        Ok(HeadlessPage {
            child,
            _profile: profile,
        })
    }
}

/// A fresh browser profile directory, and the end of every browser process using it.
#[derive(Debug)]
struct Profile(PathBuf);

impl Profile {
    fn new(kind: &str) -> Result<Self, String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "liveapi-chromium-{kind}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        Ok(Self(dir))
    }

    fn flag(&self) -> String {
        format!("--user-data-dir={}", self.0.display())
    }

    /// The processes whose command line names this profile: the browser (and its helpers),
    /// which outlive a driver killed before it closed its session.
    #[cfg(target_os = "linux")]
    fn processes(&self) -> Vec<String> {
        let needle = self.flag();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let pid = entry.file_name().to_str()?.to_owned();
                pid.bytes().all(|b| b.is_ascii_digit()).then_some(pid)
            })
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                    cmdline
                        .split(|b| *b == 0)
                        .any(|arg| arg == needle.as_bytes())
                })
            })
            .collect()
    }
}

/// Whether a process is still running (a zombie waiting to be reaped is not).
#[cfg(target_os = "linux")]
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the parenthesised command name, which may hold spaces.
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
    })
}

/// Sends `signal` to the process `pid`.
fn signal(pid: &str, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, pid])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

impl Drop for Profile {
    fn drop(&mut self) {
        // Ends what is left of the browser by its process ids, found by this profile alone,
        // and waits until they are gone: until then they may still write into the profile.
        #[cfg(target_os = "linux")]
        {
            let pids = self.processes();
            for pid in &pids {
                signal(pid, "-KILL");
            }
            let started = Instant::now();
            while pids.iter().any(|pid| running(pid)) && started.elapsed() < BROWSER_STOP {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // A helper that has not noticed yet may still create files: try again a few times.
        for _ in 0..20 {
            let _ = std::fs::remove_dir_all(&self.0);
            if !self.0.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A headless browser left on one page, stopped when dropped.
#[derive(Debug)]
pub struct HeadlessPage {
    child: Child,
    /// Held for its `Drop`, after the browser's.
    _profile: Profile,
}

impl HeadlessPage {
    /// The browser and every process it started.
    #[cfg(target_os = "linux")]
    fn tree(&self) -> Vec<Process> {
        let processes = process_table();
        let mut pending = vec![self.child.id()];
        let mut tree = Vec::new();
        while let Some(pid) = pending.pop() {
            for process in &processes {
                if process.pid == pid {
                    tree.push(*process);
                }
                if process.parent == pid {
                    pending.push(process.pid);
                }
            }
        }
        tree
    }

    /// The CPU time (user and system) the browser and every process it started have used so
    /// far, those still running, from `/proc`; zero elsewhere.
    #[must_use]
    pub fn cpu_time(&self) -> Duration {
        #[cfg(target_os = "linux")]
        {
            let ticks: u64 = self.tree().iter().map(|p| p.used).sum();
            // Clock ticks of 1/100 s: USER_HZ, the same on every Linux architecture.
            Duration::from_millis(ticks * 10)
        }
        #[cfg(not(target_os = "linux"))]
        Duration::ZERO
    }
}

/// A process as `/proc` shows it.
#[cfg(target_os = "linux")]
#[derive(Clone, Copy, Debug)]
struct Process {
    pid: u32,
    parent: u32,
    /// CPU ticks used, user and system.
    used: u64,
    /// When it started, in ticks since boot: with the id, a process no other can be.
    started: u64,
}

#[cfg(target_os = "linux")]
impl Process {
    fn read(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the parenthesised name: the state (field 3), then field 4 on; the parent is
        // field 4, utime and stime are fields 14 and 15, the start time field 22.
        let (_, rest) = stat.rsplit_once(") ")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields
            .first()
            .is_some_and(|state| *state == "Z" || *state == "X")
        {
            return None;
        }
        let number = |i: usize| fields.get(i)?.parse::<u64>().ok();
        Some(Self {
            pid,
            parent: u32::try_from(number(1)?).ok()?,
            used: number(11)? + number(12)?,
            started: number(19)?,
        })
    }

    /// Whether this very process still runs (not another that took its id).
    fn still_running(&self) -> bool {
        Self::read(self.pid).is_some_and(|now| now.started == self.started)
    }
}

/// Every running process.
#[cfg(target_os = "linux")]
fn process_table() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| Process::read(entry.file_name().to_str()?.parse().ok()?))
        .collect()
}

impl Drop for HeadlessPage {
    fn drop(&mut self) {
        // Its helpers, known while the browser still holds them, ended after it if they have not
        // ended themselves.
        #[cfg(target_os = "linux")]
        let helpers: Vec<Process> = self
            .tree()
            .into_iter()
            .filter(|p| p.pid != self.child.id())
            .collect();
        // Asked to stop first, so that it ends its helpers itself.
        signal(&self.child.id().to_string(), "-TERM");
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && started.elapsed() < BROWSER_STOP {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        #[cfg(target_os = "linux")]
        {
            for helper in helpers.iter().filter(|p| p.still_running()) {
                signal(&helper.pid.to_string(), "-KILL");
            }
            let started = Instant::now();
            while helpers.iter().any(Process::still_running) && started.elapsed() < BROWSER_STOP {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // The profile, dropped next, ends whatever else names it.
    }
}

/// A running `chromedriver` and the profile directory of its browser, both gone when it is
/// dropped.
#[derive(Debug)]
pub struct ChromeDriver {
    port: u16,
    child: Child,
    #[cfg_attr(not(feature = "browser"), allow(dead_code))]
    chromium: PathBuf,
    #[cfg_attr(not(feature = "browser"), allow(dead_code))]
    profile: Profile,
}

/// Whether the driver at `port` answers `/status` with `"ready": true`.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") && answer.replace(' ', "").contains("\"ready\":true")
}

impl ChromeDriver {
    fn start(browser: &Browser) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port for chromedriver: {e}"))?
            .port();
        let profile = Profile::new("driver")?;
        let child = Command::new(&browser.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run `{}`: {e}", browser.chromedriver.display()))?;
        let driver = Self {
            port,
            child,
            chromium: browser.chromium.clone(),
            profile,
        };
        let started = Instant::now();
        while !ready(port) {
            if started.elapsed() > DRIVER_START {
                return Err(format!("chromedriver did not answer on port {port}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// The driver's WebDriver URL: `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The capabilities of a headless Chromium session with a window of `width` × `height`
    /// and this driver's fresh profile.
    #[cfg(feature = "browser")]
    #[must_use]
    pub fn capabilities(
        &self,
        width: u32,
        height: u32,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--window-size={width},{height}"));
        args.push(self.profile.flag());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), serde_json::json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"binary": self.chromium.display().to_string(), "args": args}),
        );
        capabilities
    }

    /// Opens a browser session with a window of `width` × `height`.
    ///
    /// # Errors
    /// Why the driver could not start the browser.
    #[cfg(feature = "browser")]
    pub async fn session(
        &self,
        width: u32,
        height: u32,
    ) -> Result<fantoccini::Client, fantoccini::error::NewSessionError> {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        fantoccini::ClientBuilder::new(connector)
            .capabilities(self.capabilities(width, height))
            .connect(&self.url())
            .await
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The profile, dropped next, ends a browser the driver left behind.
    }
}
