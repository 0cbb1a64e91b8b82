//! The outbox crash test at CI size: worker processes enqueue and send coin changes through
//! an outbox, are killed with SIGKILL at random moments and restarted; the emulator, in this
//! process, must have applied every change exactly once. Once with SQLite, once with three
//! workers sharing a PostgreSQL outbox (`LIVEAPI_TEST_POSTGRES_URL`; skipped with a notice
//! without it, a failure when `LIVEAPI_CI=1`).
//!
//! `cargo run --release -p liveapi-harness --bin outbox_crash` runs it at scale.

use std::path::Path;
use std::time::Duration;

use liveapi_harness::outbox_crash::{Config, StoreLocation, run};
use liveapi_test_support::postgres::TestSchema;

const WORKER: &str = env!("CARGO_BIN_EXE_outbox_crash_worker");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_workers_killed_at_random_lose_nothing_and_apply_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreLocation::Sqlite(dir.path().join("crash.outbox"));
    let config = Config {
        changes: 300,
        kills: 10,
        ..Config::default()
    };
    let report = run(&config, &store, Path::new(WORKER))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    assert!(report.kills >= 10, "{report}");
    assert_eq!(report.applied, 300);
    assert!(report.faults.total() > 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_workers_sharing_one_outbox_killed_independently_lose_nothing() {
    let Some(schema) = TestSchema::new("crash") else {
        return;
    };
    let store = StoreLocation::Postgres {
        url: schema.url().to_owned(),
        schema: schema.name().to_owned(),
    };
    let config = Config {
        changes: 300,
        workers: 3,
        kills: 9,
        kill_after: (Duration::from_millis(30), Duration::from_millis(150)),
        ..Config::default()
    };
    let report = run(&config, &store, Path::new(WORKER))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    assert!(report.kills >= 9, "{report}");
    assert_eq!(report.applied, 300);
}
