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

use liveapi_harness::outbox_crash::{Config, StoreLocation, run, worker_main};
use liveapi_test_support::postgres::TestSchema;

struct Options {
    config: Config,
    postgres: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut config = Config {
        changes: 2_000,
        kills: 25,
        pace: Duration::from_millis(2),
        timeout: Duration::from_secs(600),
        ..Config::default()
    };
    let mut postgres = false;
    let mut workers = None;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: `{value}` is not a whole number"))
        };
        match flag.as_str() {
            "--store" => {
                postgres = match value.as_str() {
                    "sqlite" => false,
                    "postgres" => true,
                    other => return Err(format!("--store: `{other}` is not sqlite or postgres")),
                }
            }
            "--changes" => config.changes = number()? as usize,
            "--workers" => workers = Some(number()? as usize),
            "--kills" => config.kills = number()? as usize,
            "--seed" => config.seed = number()?,
            "--pace-ms" => config.pace = Duration::from_millis(number()?),
            "--fault-rate" => {
                config.fault_rate = value
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("{flag}: `{value}` is not between 0 and 1"))?;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if config.kills < 20 {
        return Err("--kills: the crash test kills at least 20 times".to_owned());
    }
    config.workers = workers.unwrap_or(if postgres { 3 } else { 1 }).max(1);
    Ok(Options { config, postgres })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        return match worker_main(&args[1..]).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("outbox_crash worker: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse(&args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("outbox_crash: {e}");
            return ExitCode::from(2);
        }
    };
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
    let store = if options.postgres {
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
    let config = &options.config;
    println!(
        "{} changes, {} worker(s) on {}, at least {} SIGKILLs, {:.0} % faults",
        config.changes,
        config.workers,
        if options.postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        config.kills,
        config.fault_rate * 100.0
    );
    match run(config, &store, &me).await {
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
