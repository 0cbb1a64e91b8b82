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

use liveapi_harness::chaos::{Config, run};

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: `{value}` is not a whole number"))
        };
        let share = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| format!("{flag}: `{value}` is not between 0 and 1"))
        };
        match flag.as_str() {
            "--calls" => config.calls = number()? as usize,
            "--concurrency" => config.concurrency = number()? as usize,
            "--users" => config.users = number()? as usize,
            "--seed" => config.seed = number()?,
            "--timeout-ms" => config.attempt_timeout = Duration::from_millis(number()?),
            "--attempts" => config.max_attempts = u32::try_from(number()?).unwrap_or(u32::MAX),
            "--fault-rate" => config.fault_rate = share()?,
            "--crash-rate" => config.crash_rate = share()?,
            "--late-share" => config.late_share = share()?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("chaos: {e}");
            return ExitCode::from(2);
        }
    };
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
