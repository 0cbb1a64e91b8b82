//! One process of a fleet: Polyv calls as fast as its rate limit lets them through, until it
//! has made `--calls` of them and called for `--seconds`. The fleet test starts three of
//! these against one emulator; run by hand it shows a process of your own fleet:
//!
//! ```sh
//! LIVEAPI_POLYV_APP_ID=demo_polyv_app LIVEAPI_POLYV_SECRET=demo_polyv_secret \
//! LIVEAPI_POLYV_BASE_URL=http://127.0.0.1:8080 \
//! LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL=redis://127.0.0.1:6379/0 LIVEAPI_POLYV_RATE_LIMIT_PROCESSES=3 \
//! cargo run --release -p liveapi-harness --bin fleet_worker -- --calls 1000 --seconds 11
//! ```
//!
//! It is configured by the environment like any `liveapi` client (`Client::from_env`), logs
//! the limiter's warnings to standard error, and prints one report line last.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use liveapi::model::ApiErrorKind;
use liveapi::model::polyv::Scope;
use liveapi::request::TransportErrorKind;
use liveapi::{Client, ErrorKind};
use liveapi_harness::fleet::Report;

/// One process of a fleet: Polyv calls as fast as its rate limit lets them through.
#[derive(Parser)]
struct Args {
    /// Calls to make (at least).
    #[arg(long, default_value_t = 1_000)]
    calls: u64,
    /// Seconds to call for (at least).
    #[arg(long, default_value_t = 11)]
    seconds: u64,
    /// Calls in flight at once (0 counts as 1).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Stop at the first refusal for exceeding the rate limit.
    #[arg(long)]
    stop_on_ban: bool,
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    refused: AtomicU64,
    throttled: AtomicU64,
    errors: AtomicU64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let mut args = Args::parse();
    args.concurrency = args.concurrency.max(1);
    let client = match Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("fleet_worker: {e}");
            return ExitCode::from(2);
        }
    };
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let run_for = Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, counts, stop) = (client.clone(), Arc::clone(&counts), Arc::clone(&stop));
            let (calls, stop_on_ban) = (args.calls, args.stop_on_ban);
            tokio::spawn(async move {
                loop {
                    let done =
                        counts.ok.load(Ordering::Relaxed) >= calls && started.elapsed() >= run_for;
                    if done || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match client.donate_settings(Scope::Account).await {
                        Ok(_) => counts.ok.fetch_add(1, Ordering::Relaxed),
                        Err(e) => match e.kind() {
                            ErrorKind::Api(a) if a.kind() == ApiErrorKind::RateLimited => {
                                if stop_on_ban {
                                    stop.store(true, Ordering::Relaxed);
                                }
                                counts.refused.fetch_add(1, Ordering::Relaxed)
                            }
                            ErrorKind::Transport(t)
                                if t.kind() == TransportErrorKind::Throttled =>
                            {
                                counts.throttled.fetch_add(1, Ordering::Relaxed)
                            }
                            _ => {
                                eprintln!("fleet_worker: {e}");
                                counts.errors.fetch_add(1, Ordering::Relaxed)
                            }
                        },
                    };
                }
            })
        })
        .collect();
    // Once the goal is reached, calls still waiting for a permit are dropped rather than
    // waited for: the permit they hold is counted, the request is not sent.
    while !tasks.iter().all(tokio::task::JoinHandle::is_finished) {
        let done = counts.ok.load(Ordering::Relaxed) >= args.calls && started.elapsed() >= run_for;
        if done || stop.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    let report = Report {
        ok: counts.ok.load(Ordering::Relaxed),
        refused: counts.refused.load(Ordering::Relaxed),
        throttled: counts.throttled.load(Ordering::Relaxed),
        errors: counts.errors.load(Ordering::Relaxed),
        ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    println!("{}", report.line());
    ExitCode::SUCCESS
}
