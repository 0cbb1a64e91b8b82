//! The emulator's crash test at scale: writers credit coins over HTTP through a
//! `liveapi emulator --state FILE` process that is killed with SIGKILL at random moments (at
//! least 20 times) and restarted on the same state. After each restart the balance must hold
//! every acknowledged credit and at most the ones in flight besides, and every acknowledged
//! `request_id` sent again must change nothing. Exits non-zero with the broken invariant if
//! one does not hold.
//!
//! It runs the `liveapi` binary built beside it, so build that first:
//!
//! ```sh
//! cargo build --release -p liveapi-cli
//! cargo run --release -p liveapi-harness --bin emulator_crash -- --kills 25 --writers 8
//! ```
//!
//! Options: `--kills N` (25, at least 20), `--writers N` (8), `--seed N` (1), `--min-gap-ms N`
//! and `--max-gap-ms N` (50 and 400: the time between a restart and the next kill),
//! `--binary PATH` (the `liveapi` binary; by default the one in the same target directory).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use liveapi_test_support::emulator_crash::{Config, run};

/// The emulator's crash test at scale: `liveapi emulator --state FILE` killed with SIGKILL at
/// random moments under concurrent credits; nothing acknowledged may be lost.
#[derive(Parser)]
struct Flags {
    /// How many times the emulator is killed (at least 20).
    #[arg(long, default_value_t = 25)]
    kills: usize,
    /// Concurrent writers (0 counts as 1).
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// The seed of the kill times.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The shortest time between a restart and the next kill, in ms.
    #[arg(long, default_value_t = 50)]
    min_gap_ms: u64,
    /// The longest time between a restart and the next kill, in ms.
    #[arg(long, default_value_t = 400)]
    max_gap_ms: u64,
    /// The `liveapi` binary [default: the one in this program's target directory].
    #[arg(long)]
    binary: Option<PathBuf>,
}

fn config(flags: Flags) -> Result<Config, String> {
    let binary = match flags.binary {
        Some(binary) => binary,
        None => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            // target/<profile>/emulator_crash → target/<profile>/liveapi
            exe.parent()
                .map(|profile| profile.join("liveapi"))
                .ok_or("cannot find the target directory")?
        }
    };
    if flags.kills < 20 {
        return Err("--kills: the crash test kills at least 20 times".to_owned());
    }
    if !binary.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release -p liveapi-cli` first, or pass --binary",
            binary.display()
        ));
    }
    Ok(Config {
        binary,
        state: std::env::temp_dir().join("unused"),
        writers: flags.writers.max(1),
        kills: flags.kills,
        gap: (
            Duration::from_millis(flags.min_gap_ms),
            Duration::from_millis(flags.max_gap_ms),
        ),
        seed: flags.seed,
    })
}

fn main() -> ExitCode {
    let mut config = match config(Flags::parse()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("emulator_crash: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("emulator_crash: cannot make a temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    config.state = dir.path().join("state.json");
    match run(&config) {
        Ok(report) => {
            println!(
                "{} SIGKILLs, {} writers, {:.1} s: {} credits acknowledged ({} coins), at most {} \
                 in flight at a kill, {} acknowledged credits resent after restarts, coins lost: \
                 {}, final balance {} (= acknowledged), torn last records dropped at {} restarts",
                report.kills,
                config.writers,
                report.elapsed.as_secs_f64(),
                report.acknowledged,
                report.acknowledged_coins,
                report.most_in_flight,
                report.resent,
                report.lost_coins,
                report.final_balance,
                report.torn_tails
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("emulator_crash: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
