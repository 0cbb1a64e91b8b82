//! The chaos run of the test suite, at any scale: concurrent `changeGold` and `orderSuccess`
//! calls through an emulator injecting faults of every kind, then the proof that no change was
//! applied twice and none was lost.
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin chaos -- --calls 100000 --concurrency 64
//! ```
//!
//! Options: `--calls N` (default 1500), `--concurrency N` (32), `--users N` (6),
//! `--fault-rate F` (0.3), `--seed N`, `--timeout-ms N` (300, the client's per-attempt
//! timeout; injected delays reach twice that), `--attempts N` (3), `--crash-rate F` (0.1, the
//! share of calls dropped mid-flight and resent from storage), `--late-share F` (0.3, the share
//! of those resent only a day later). Exits non-zero with the broken invariant if one does
//! not hold.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use liveapi_harness::chaos::{Config, run};
use liveapi_harness::cli::share;

/// The chaos run at any scale: concurrent coin changes through injected faults, then the proof
/// that none was applied twice and none was lost.
#[derive(Parser)]
struct Flags {
    /// Coin calls to make.
    #[arg(long, default_value_t = Config::default().calls)]
    calls: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = Config::default().concurrency)]
    concurrency: usize,
    /// Users the calls are spread over.
    #[arg(long, default_value_t = Config::default().users)]
    users: usize,
    /// Share of requests that meet an injected fault (0 to 1).
    #[arg(long, default_value_t = Config::default().fault_rate, value_parser = share)]
    fault_rate: f64,
    /// Seeds the faults and the mix of calls.
    #[arg(long, default_value_t = Config::default().seed)]
    seed: u64,
    /// The client's per-attempt timeout, in ms; injected delays reach twice that.
    #[arg(long, default_value_t = millis(Config::default().attempt_timeout))]
    timeout_ms: u64,
    /// Attempts per call, retries included.
    #[arg(long, default_value_t = Config::default().max_attempts.into())]
    attempts: u64,
    /// Share of calls dropped mid-flight and resent from storage (0 to 1).
    #[arg(long, default_value_t = Config::default().crash_rate, value_parser = share)]
    crash_rate: f64,
    /// Share of those resent only a day later (0 to 1).
    #[arg(long, default_value_t = Config::default().late_share, value_parser = share)]
    late_share: f64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Flags {
    fn config(self) -> Config {
        Config {
            calls: self.calls,
            concurrency: self.concurrency,
            users: self.users,
            fault_rate: self.fault_rate,
            seed: self.seed,
            attempt_timeout: Duration::from_millis(self.timeout_ms),
            max_attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            crash_rate: self.crash_rate,
            late_share: self.late_share,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = Flags::parse().config();
    println!(
        "{} calls from {} tasks over {} users, {:.0} % faults, seed {}",
        config.calls,
        config.concurrency,
        config.users,
        config.fault_rate * 100.0,
        config.seed
    );
    match run(&config).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chaos: INVARIANT BROKEN: {e}");
            ExitCode::FAILURE
        }
    }
}
