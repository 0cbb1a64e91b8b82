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

use std::process::ExitCode;
use std::time::Duration;

use liveapi_test_support::emulator_crash::{Config, run};

fn parse(args: &[String]) -> Result<Config, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/emulator_crash → target/<profile>/liveapi
    let binary = exe
        .parent()
        .map(|profile| profile.join("liveapi"))
        .ok_or("cannot find the target directory")?;
    let state = std::env::temp_dir().join("unused");
    let mut config = Config {
        binary,
        state,
        writers: 8,
        kills: 25,
        gap: (Duration::from_millis(50), Duration::from_millis(400)),
        seed: 1,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: `{value}` is not a whole number"))
        };
        match flag.as_str() {
            "--kills" => config.kills = usize::try_from(number()?).map_err(|e| e.to_string())?,
            "--writers" => {
                config.writers = usize::try_from(number()?)
                    .map_err(|e| e.to_string())?
                    .max(1);
            }
            "--seed" => config.seed = number()?,
            "--min-gap-ms" => config.gap.0 = Duration::from_millis(number()?),
            "--max-gap-ms" => config.gap.1 = Duration::from_millis(number()?),
            "--binary" => config.binary = value.into(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if config.kills < 20 {
        return Err("--kills: the crash test kills at least 20 times".to_owned());
    }
    if !config.binary.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release -p liveapi-cli` first, or pass --binary",
            config.binary.display()
        ));
    }
    Ok(config)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config = match parse(&args) {
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
