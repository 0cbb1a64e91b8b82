//! The worker process of the outbox crash test (`liveapi_harness::outbox_crash`): started,
//! killed with SIGKILL and restarted by the test, which finds it as `CARGO_BIN_EXE_…`.
//!
//! `outbox_crash_worker worker --sqlite PATH … ` (see `outbox_crash::worker_main`).

use std::process::ExitCode;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(("worker", rest)) = args
        .split_first()
        .map(|(first, rest)| (first.as_str(), rest))
    else {
        eprintln!("outbox_crash_worker: the first argument must be `worker`");
        return ExitCode::from(2);
    };
    match liveapi_harness::outbox_crash::worker_main(rest).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outbox_crash_worker: {e}");
            ExitCode::FAILURE
        }
    }
}
