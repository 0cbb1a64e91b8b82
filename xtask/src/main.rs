//! Project automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: exactly what CI runs (`.ci/run`), for contributors to run locally.
//! - `cargo xtask test [ARGS…]`: the README's test command (`cargo test --workspace
//!   --all-features`, with `ARGS` added), then a summary of the tests that skipped for want of
//!   a service (PostgreSQL, Redis, Chromium), so that a green run says what it did not run.
//! - `cargo xtask release <version> [--execute] [--no-verify] [--skip-<gate>]`: bump the
//!   version, date the changelog, run the gates and publish; a dry run unless `--execute`.
//!   See [`mod@release`] for the steps.

mod changelog;
mod cmd;
mod date;
mod diff;
mod gates;
mod git;
mod manifest;
mod registry;
mod release;
mod version;
mod workspace;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci                    run what CI runs (.ci/run): fmt, clippy, doc, layering, tests
  test [ARGS...]        cargo test --workspace --all-features ARGS, then list the tests
                        skipped for want of PostgreSQL, Redis or Chromium
  release <version>     bump, changelog, gates, publish; a dry run unless --execute
                        (`cargo xtask release --help` for the flags)";

/// The workspace root: xtask lives one level below it.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn ci() -> ExitCode {
    let status = Command::new("bash")
        .arg(".ci/run")
        .current_dir(workspace_root())
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: cannot run .ci/run: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The file the tests' skip notices are collected in (`liveapi_test_support::service`).
const SKIPPED_LOG: &str = "liveapi-skipped-tests.log";

fn test(args: &[String]) -> ExitCode {
    let root = workspace_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let log = target.join(SKIPPED_LOG);
    // A fresh log for this run; none yet is fine.
    let _ = std::fs::remove_file(&log);
    // `-p CRATE` narrows the run to that package instead of the whole workspace.
    let scope = if args
        .iter()
        .any(|a| a.starts_with("-p") || a.starts_with("--package"))
    {
        None
    } else {
        Some("--workspace")
    };
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .arg("test")
        .args(scope)
        .arg("--all-features")
        .args(args)
        .current_dir(&root)
        .status();
    let skipped = std::fs::read_to_string(&log).unwrap_or_default();
    print!("{}", skip_summary(&skipped));
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: cannot run cargo test: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a run's skip log comes to: a line per skipped test, or that none was.
fn skip_summary(log: &str) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return "\nxtask: no test was skipped for want of a service\n".to_owned();
    }
    let mut summary = format!(
        "\nxtask: {} test(s) skipped for want of a service (docs/testing.md says how to run them):\n",
        lines.len()
    );
    for line in lines {
        summary.push_str("  ");
        summary.push_str(line.strip_prefix("skipped: ").unwrap_or(line));
        summary.push('\n');
    }
    summary
}

fn release(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", release::USAGE);
        return ExitCode::SUCCESS;
    }
    let options = match release::Options::parse(args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("xtask release: {e}\n\n{}", release::USAGE);
            return ExitCode::from(2);
        }
    };
    match release::run(&workspace_root(), &options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask release: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") if args.len() == 1 => ci(),
        Some("test") => test(&args[1..]),
        Some("release") => release(&args[1..]),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_lists_each_skipped_test_or_says_none_was() {
        assert!(skip_summary("").contains("no test was skipped"));
        let summary = skip_summary(
            "skipped: drain_in_postgres: LIVEAPI_TEST_POSTGRES_URL is not set; see docs/testing.md\n\n\
             skipped: fleet: LIVEAPI_TEST_REDIS_URL is not set; see docs/testing.md\n",
        );
        assert!(summary.contains("2 test(s) skipped"), "{summary}");
        assert!(
            summary.contains("\n  drain_in_postgres: LIVEAPI_TEST_POSTGRES_URL"),
            "{summary}"
        );
        assert!(
            summary.contains("\n  fleet: LIVEAPI_TEST_REDIS_URL"),
            "{summary}"
        );
    }
}
