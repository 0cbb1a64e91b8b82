//! Where the tests find their services, and what a test does when one is missing.
//!
//! PostgreSQL and Redis are named by `LIVEAPI_TEST_POSTGRES_URL` and `LIVEAPI_TEST_REDIS_URL`.
//! A test whose service is not there is skipped, with a notice on standard error saying why,
//! so that `cargo test` works on a machine without them. In CI (`LIVEAPI_CI` set, as `.ci/run`
//! does) it fails instead: a service test never passes there by not running. This module is
//! the only place that rule is written; every test and helper asks it.

/// The variable naming the PostgreSQL server of the tests,
/// e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL: &str = "LIVEAPI_TEST_POSTGRES_URL";

/// The variable naming the shared Redis of the tests, e.g. `redis://127.0.0.1:6379/0`.
pub const REDIS_URL: &str = "LIVEAPI_TEST_REDIS_URL";

/// The variable that, set (to anything but the empty string; CI sets `1`), makes a missing
/// service a failure.
pub const CI: &str = "LIVEAPI_CI";

/// Whether this run is CI, where every service test must run.
#[must_use]
pub fn in_ci() -> bool {
    std::env::var_os(CI).is_some_and(|v| !v.is_empty())
}

/// The PostgreSQL server's URL, or `None` after a notice that the test is skipped.
///
/// # Panics
/// In CI, when [`POSTGRES_URL`] is not set.
#[must_use]
pub fn postgres_url() -> Option<String> {
    url(POSTGRES_URL, "postgres://postgres@127.0.0.1:5432/test")
}

/// The shared Redis server's URL, or `None` after a notice that the test is skipped.
///
/// # Panics
/// In CI, when [`REDIS_URL`] is not set.
#[must_use]
pub fn redis_url() -> Option<String> {
    url(REDIS_URL, "redis://127.0.0.1:6379/0")
}

fn url(variable: &str, example: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => unavailable(&format!(
            "{variable} is not set (e.g. {variable}={example})"
        )),
    }
}

/// The rule itself, for any service a test cannot have (`why` says what is missing): `None`
/// after printing that the test is skipped, or, in CI, a panic.
///
/// # Panics
/// In CI.
pub fn unavailable<T>(why: &str) -> Option<T> {
    if in_ci() {
        panic!(
            "{why}: {CI} is set, and CI must provide it (.ci/run starts Redis and PostgreSQL, and \
         installs Chromium)"
        );
    }
    skipped(why);
    None
}

/// Where skip notices are collected for `cargo xtask test`'s summary: `SKIPPED_LOG` in the
/// build's `target` directory (found above the running test binary).
pub const SKIPPED_LOG: &str = "liveapi-skipped-tests.log";

/// Tells that the running test was skipped, and why: on the terminal, past the test harness's
/// output capture (which would otherwise hide it behind an `ok`), and in [`SKIPPED_LOG`].
fn skipped(why: &str) {
    use std::io::Write;
    // The test harness names each test's thread after the test.
    let test = std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .unwrap_or("a test")
        .to_owned();
    let line = format!("skipped: {test}: {why}; see docs/testing.md\n");
    // Straight to the process's standard error: `eprintln!` is captured for passing tests.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(log) = skipped_log() {
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut file| file.write_all(line.as_bytes()));
    }
}

/// The `target` directory the running test was built in, and the log in it.
fn skipped_log() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let target = exe
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "target"))?;
    Some(target.join(SKIPPED_LOG))
}
