//! The worker process of the outbox crash test (`liveapi_harness::outbox_crash`): started,
//! killed with SIGKILL and restarted by the test, which finds it as `CARGO_BIN_EXE_…`.
//!
//! `outbox_crash_worker worker --sqlite PATH … ` (see `outbox_crash::WorkerArgs`).

use std::process::ExitCode;

use clap::Parser;
use liveapi_harness::outbox_crash::{WorkerCommand, worker_main};

/// A worker of the outbox crash test.
#[derive(Parser)]
struct Flags {
    #[command(subcommand)]
    command: WorkerCommand,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let WorkerCommand::Worker(args) = Flags::parse().command;
    match worker_main(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outbox_crash_worker: {e}");
            ExitCode::FAILURE
        }
    }
}
