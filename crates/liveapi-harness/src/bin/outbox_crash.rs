//! The outbox crash test at scale: worker processes (this program, started again with
//! `worker`) enqueue and send coin changes through a `liveapi_outbox::Outbox` against an
//! emulator with injected latency and faults; they are killed with SIGKILL at random moments
//! (at least 20 times) and restarted; at the end the emulator's journal must show every change
//! applied exactly once.
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin outbox_crash   # SQLite, one worker
//! LIVEAPI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p liveapi-harness --bin outbox_crash -- --store postgres --workers 3
//! ```
//!
//! Options: `--store sqlite|postgres` (default sqlite; PostgreSQL from
//! `LIVEAPI_TEST_POSTGRES_URL`, in a schema of its own, dropped at the end), `--changes N`
//! (2000), `--workers N` (1 for SQLite, 3 for PostgreSQL), `--kills N` (25, at least 20),
//! `--fault-rate F` (0.2), `--seed N`, `--pace-ms N` (2: how long a worker waits after each
//! change it enqueues anew, which spreads the work over the kills). Exits non-zero with the
//! broken invariant if one does not hold.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use liveapi_harness::cli::share;
use liveapi_harness::outbox_crash::{Config, StoreLocation, WorkerCommand, run, worker_main};
use liveapi_test_support::postgres::TestSchema;

/// The store the outbox lives in.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Store {
    /// A SQLite file in a temporary directory, one worker at a time.
    Sqlite,
    /// A schema of its own on `LIVEAPI_TEST_POSTGRES_URL`, shared by the workers.
    Postgres,
}

/// The outbox crash test at scale: workers killed with SIGKILL at random moments while they
/// enqueue and send coin changes; every change must be applied exactly once.
#[derive(Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Flags {
    /// Run as a worker (how this program starts its own workers).
    #[command(subcommand)]
    worker: Option<WorkerCommand>,
    /// Where the outbox lives.
    #[arg(long, value_enum, default_value_t = Store::Sqlite)]
    store: Store,
    /// Coin changes to make.
    #[arg(long, default_value_t = 2_000)]
    changes: usize,
    /// Workers at once [default: 1 for SQLite, 3 for PostgreSQL] (0 counts as 1).
    #[arg(long)]
    workers: Option<usize>,
    /// SIGKILLs to deliver while entries are pending (at least 20).
    #[arg(long, default_value_t = 25)]
    kills: usize,
    /// Share of requests that meet an injected fault (0 to 1).
    #[arg(long, default_value_t = Config::default().fault_rate, value_parser = share)]
    fault_rate: f64,
    /// Seeds the faults, the kill moments and the choice of worker.
    #[arg(long, default_value_t = Config::default().seed)]
    seed: u64,
    /// How long a worker waits after each change it enqueues anew, in ms: spreads the work
    /// over the kills.
    #[arg(long, default_value_t = 2)]
    pace_ms: u64,
}

impl Flags {
    fn config(&self) -> Result<Config, String> {
        if self.kills < 20 {
            return Err("--kills: the crash test kills at least 20 times".to_owned());
        }
        let postgres = self.store == Store::Postgres;
        Ok(Config {
            changes: self.changes,
            kills: self.kills,
            pace: Duration::from_millis(self.pace_ms),
            timeout: Duration::from_secs(600),
            fault_rate: self.fault_rate,
            seed: self.seed,
            workers: self.workers.unwrap_or(if postgres { 3 } else { 1 }).max(1),
            ..Config::default()
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut flags = Flags::parse();
    if let Some(WorkerCommand::Worker(args)) = flags.worker.take() {
        return match worker_main(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("outbox_crash worker: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match flags.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("outbox_crash: {e}");
            return ExitCode::from(2);
        }
    };
    let postgres = flags.store == Store::Postgres;
    let Ok(me) = std::env::current_exe() else {
        eprintln!("outbox_crash: cannot find this program to start its workers");
        return ExitCode::FAILURE;
    };
    // Kept until the end: the temporary directory and the schema are removed when dropped.
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("outbox_crash: {e}");
            return ExitCode::FAILURE;
        }
    };
    let schema;
    let store = if postgres {
        schema = match TestSchema::new("crash_example") {
            Some(schema) => schema,
            None => return ExitCode::from(2),
        };
        StoreLocation::Postgres {
            url: schema.url().to_owned(),
            schema: schema.name().to_owned(),
        }
    } else {
        StoreLocation::Sqlite(dir.path().join("crash.outbox"))
    };
    println!(
        "{} changes, {} worker(s) on {}, at least {} SIGKILLs, {:.0} % faults",
        config.changes,
        config.workers,
        if postgres { "PostgreSQL" } else { "SQLite" },
        config.kills,
        config.fault_rate * 100.0
    );
    match run(&config, &store, &me).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("outbox_crash: {e}");
            ExitCode::FAILURE
        }
    }
}
