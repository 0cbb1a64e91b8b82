//! Project automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: exactly what CI runs (`.ci/run`), for contributors to run locally.
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
