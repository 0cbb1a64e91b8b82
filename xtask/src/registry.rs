//! Whether a crate's version is already on crates.io, asked through `cargo info`.
//!
//! `cargo info` reads the same (sparse) index `cargo publish` writes to, honours the user's
//! cargo configuration and proxies, and needs no HTTP client in this crate. Inside the
//! workspace it would describe the local member instead, so the registry is named
//! explicitly.

use std::path::Path;

use crate::cmd;

/// What the registry says about `name@version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Published {
    /// That exact version is on crates.io.
    Yes,
    /// It is not (or the crate does not exist at all).
    No,
    /// The registry could not be asked (offline, proxy, outage): why.
    Unknown(String),
}

/// Asks crates.io about `name@version`. Network failures give [`Published::Unknown`] after
/// one attempt of at most about 20 seconds, never an error.
pub(crate) fn check(root: &Path, name: &str, version: &str) -> Published {
    let output = cmd::capture(
        cmd::new(cmd::cargo(), root)
            .args(["info", "--quiet", "--registry", "crates-io"])
            .arg(format!("{name}@{version}"))
            .env("CARGO_NET_RETRY", "0")
            .env("CARGO_HTTP_TIMEOUT", "20"),
    );
    match output {
        Ok(out) => interpret(
            out.status.success(),
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
            version,
        ),
        Err(e) => Published::Unknown(e.to_string()),
    }
}

/// Reads `cargo info`'s answer. Success prints `version: 0.8.0` (or
/// `version: 0.8.0 (latest 0.8.2)`); an unknown crate or version fails with
/// ``could not find `name@version` in registry``; anything else is a failure to ask.
fn interpret(success: bool, stdout: &str, stderr: &str, version: &str) -> Published {
    if success {
        let shown = stdout
            .lines()
            .find_map(|l| l.strip_prefix("version:"))
            .and_then(|rest| rest.split_whitespace().next());
        return if shown == Some(version) {
            Published::Yes
        } else {
            Published::No
        };
    }
    if stderr.contains("could not find") {
        return Published::No;
    }
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Caused by:")
        .collect();
    let reason = match (lines.first(), lines.last()) {
        (Some(first), Some(last)) if first != last => format!("{first} ({last})"),
        (Some(first), _) => (*first).to_owned(),
        _ => "cargo info failed without saying why".to_owned(),
    };
    Published::Unknown(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Answers as cargo 1.95 prints them; the last one through a proxy that refuses connections.
    #[test]
    fn answers_are_read() {
        let found = "criterion #criterion #benchmark\nStatistics-driven micro-benchmarking \
                     library\nversion: 0.8.0 (latest 0.8.2)\nlicense: Apache-2.0 OR MIT\n";
        assert_eq!(interpret(true, found, "", "0.8.0"), Published::Yes);
        assert_eq!(interpret(true, found, "", "0.8.1"), Published::No);
        let missing = "error: could not find `liveapi-sign@0.2.0` in registry \
                       `https://github.com/rust-lang/crates.io-index`\n";
        assert_eq!(interpret(false, "", missing, "0.2.0"), Published::No);
        let offline = "error: download of config.json failed\n\nCaused by:\n  failed to download \
                       from `https://index.crates.io/config.json`\n\nCaused by:\n  [7] Could not \
                       connect to server (Failed to connect to 127.0.0.1 port 9 after 0 ms: Could \
                       not connect to server)\n";
        let Published::Unknown(why) = interpret(false, "", offline, "0.2.0") else {
            panic!("offline must be unknown");
        };
        assert!(
            why.starts_with("error: download of config.json failed ([7] Could not connect"),
            "{why}"
        );
    }
}
