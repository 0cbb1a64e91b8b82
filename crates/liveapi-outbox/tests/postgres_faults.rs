//! The PostgreSQL store while its database misbehaves, on the tests' server
//! (`LIVEAPI_TEST_POSTGRES_URL`): backends terminated, the database closed to connections, the
//! table locked, during enqueues and drains. Every change is applied exactly once, and every
//! call returns within its bound plus a stated margin, with a typed error when it fails.
//!
//! Without the variable these tests print a notice and pass without running, unless
//! `LIVEAPI_CI=1`, where they fail.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use liveapi_outbox::{Fault, Outbox, OutboxError, PostgresStore, Query, State};
use liveapi_test_support::postgres::TestSchema;

/// The bound of one store call in these tests.
const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// What a call may take beyond its bound: the runtime's scheduling on a shared two-core
/// machine, and the pool dropping a dead connection.
const MARGIN: Duration = Duration::from_secs(2);

/// A database of the test's own on the tests' server, dropped at the end (so that it can be
/// closed to connections without disturbing other tests).
struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    async fn new(label: &str) -> Option<(Self, tokio_postgres::Client)> {
        let schema = TestSchema::new(label)?;
        let admin_url = schema.url().to_owned();
        let name = schema.name().to_owned();
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        Some((Self { admin_url, name }, admin))
    }

    /// The tests' URL with this database instead.
    fn url(&self) -> String {
        let (base, query) = match self.admin_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (self.admin_url.as_str(), String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        format!("{server}/{}{query}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let admin = connect(&url).await;
                // Two statements: DROP DATABASE cannot run inside the transaction that a batch
                // of several statements is.
                let _ = admin
                    .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                    .await;
                if let Err(e) = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                {
                    eprintln!("warning: the test database {name} was not dropped: {e}");
                }
            });
        })
        .join();
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// Runs `call`, and asserts it returned within the store's bound plus the margin; answers
/// its result and how long it took.
async fn timed<T>(
    call: impl std::future::Future<Output = Result<T, OutboxError>>,
) -> (Result<T, OutboxError>, Duration) {
    let started = Instant::now();
    let result = call.await;
    let took = started.elapsed();
    assert!(
        took <= STORE_TIMEOUT + MARGIN,
        "a store call took {took:?}: {:?}",
        result.as_ref().err()
    );
    if let Err(e) = &result {
        assert!(
            e.fault().is_some() || matches!(e, OutboxError::DrainStopped { .. }),
            "untyped: {e:?}"
        );
    }
    (result, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_table_gives_a_typed_error_in_time_and_a_drain_keeps_its_report() {
    let Some(schema) = TestSchema::new("locked") else {
        return;
    };
    let store = schema.store(2).await.unwrap();
    let outbox = Outbox::builder(store)
        .store_timeout(STORE_TIMEOUT)
        .lease(Duration::from_secs(2))
        .concurrency(1)
        .build();
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let ids: Vec<String> = (0..3).map(|k| format!("locked-{k}")).collect();
    for id in &ids {
        outbox.enqueue(&credit(&client, &uid, id, 1)).await.unwrap();
    }
    let mut admin = schema.connect().await.unwrap();
    let lock = format!(
        "LOCK TABLE {}.outbox IN ACCESS EXCLUSIVE MODE",
        schema.name()
    );
    {
        let transaction = admin.transaction().await.unwrap();
        transaction.batch_execute(&lock).await.unwrap();
        // `outbox list` and friends: a typed error within the bound, not a hang.
        let (listed, _) = timed(outbox.list(&Query::new())).await;
        let e = listed.unwrap_err();
        assert_eq!(e.fault(), Some(Fault::Locked), "{e}");
        assert!(e.is_retryable());
        let (counted, _) = timed(outbox.counts()).await;
        assert_eq!(counted.unwrap_err().fault(), Some(Fault::Locked));
        let (enqueued, _) = timed(outbox.enqueue(&credit(&client, &uid, "locked-x", 1))).await;
        assert_eq!(enqueued.unwrap_err().fault(), Some(Fault::Locked));
        transaction.rollback().await.unwrap();
    }

    // Locked while a drain is sending its first entry: the drain stops at the next claim,
    // keeping what it did.
    emulator
        .set_faults(
            liveapi_emulator::Faults::new(1.0)
                .only_kind(liveapi_emulator::FaultKind::Latency)
                .with_latency(Duration::from_millis(600), Duration::from_millis(600)),
        )
        .unwrap();
    let draining = {
        let (outbox, client) = (outbox.clone(), client.clone());
        tokio::spawn(async move { outbox.drain_once(&client).await })
    };
    let guard = Instant::now() + Duration::from_secs(10);
    while !emulator
        .journal()
        .iter()
        .any(|c| ids.contains(&c.request_id))
    {
        assert!(Instant::now() < guard, "nothing was sent");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let transaction = admin.transaction().await.unwrap();
    transaction.batch_execute(&lock).await.unwrap();
    let result = draining.await.unwrap();
    transaction.rollback().await.unwrap();
    match result {
        Err(OutboxError::DrainStopped { report, source }) => {
            assert_eq!(report.sent, 1, "{report:?}");
            assert_eq!(report.applied + report.unrecorded, 1, "{report:?}");
            assert_eq!(source.fault(), Some(Fault::Locked), "{source}");
        }
        other => panic!("{other:?}"),
    }
    emulator
        .set_faults(liveapi_emulator::Faults::none())
        .unwrap();
    // Once the lease of the unrecorded one has passed, everything is applied, once.
    let guard = Instant::now() + Duration::from_secs(30);
    while outbox.counts().await.unwrap().applied < 3 {
        assert!(Instant::now() < guard, "{:?}", outbox.counts().await);
        let _ = outbox.drain_once(&client).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_applied_once(&emulator, &ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_killed_and_the_database_closed_lose_nothing_and_apply_nothing_twice() {
    let Some((database, admin)) = TestDatabase::new("faults").await else {
        return;
    };
    let store = PostgresStore::builder(database.url())
        .connections(4)
        .application_name("liveapi-fault-test")
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    let outbox = Outbox::builder(store)
        .store_timeout(STORE_TIMEOUT)
        .lease(Duration::from_secs(2))
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(400))
        .poll_interval(Duration::from_millis(50))
        .build();
    let emulator = emulator().await;
    emulator
        .set_faults(
            liveapi_emulator::Faults::new(1.0)
                .only_kind(liveapi_emulator::FaultKind::Latency)
                .with_latency(Duration::from_millis(1), Duration::from_millis(20)),
        )
        .unwrap();
    let client = client(&emulator, 2);
    let uid = user(&client, "ada").await;
    const CHANGES: usize = 200;
    let ids: Vec<String> = (0..CHANGES).map(|k| format!("fault-{k:03}")).collect();

    // The chaos: backends terminated, the database closed for a moment, the table locked.
    let stop = Arc::new(AtomicBool::new(false));
    let (terminated, closed, locked) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let rounds = Arc::new(AtomicU64::new(0));
    let chaos = {
        let (stop, terminated, closed, locked) = (
            stop.clone(),
            terminated.clone(),
            closed.clone(),
            locked.clone(),
        );
        let rounds_seen = rounds.clone();
        let (name, url) = (database.name.clone(), database.url());
        tokio::spawn(async move {
            let kill = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                        WHERE datname = $1 AND application_name = 'liveapi-fault-test'";
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                rounds_seen.store(round, Ordering::Relaxed);
                match round % 3 {
                    0 => {
                        let n: i64 = admin.query_one(kill, &[&name]).await.unwrap().get(0);
                        terminated.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    1 => {
                        admin
                            .batch_execute(&format!(
                                "ALTER DATABASE {name} ALLOW_CONNECTIONS false"
                            ))
                            .await
                            .unwrap();
                        let n: i64 = admin.query_one(kill, &[&name]).await.unwrap().get(0);
                        terminated.fetch_add(n as u64, Ordering::Relaxed);
                        closed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        admin
                            .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                            .await
                            .unwrap();
                    }
                    _ => {
                        if let Ok((mut db, connection)) =
                            tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                        {
                            tokio::spawn(async move {
                                let _ = connection.await;
                            });
                            if let Ok(transaction) = db.transaction().await
                                && transaction
                                    .batch_execute(
                                        "LOCK TABLE liveapi_outbox.outbox IN ACCESS EXCLUSIVE MODE",
                                    )
                                    .await
                                    .is_ok()
                            {
                                locked.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(400)).await;
                                let _ = transaction.rollback().await;
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        })
    };

    let (stop_dispatcher, stopped) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = {
        let (outbox, client) = (outbox.clone(), client.clone());
        tokio::spawn(async move {
            outbox
                .run(&client, async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    let mut worst = Duration::ZERO;
    let mut failed_calls = 0u64;
    for (k, id) in ids.iter().enumerate() {
        let change = credit(&client, &uid, id, 1);
        loop {
            let (result, took) = timed(outbox.enqueue(&change)).await;
            worst = worst.max(took);
            match result {
                Ok(_) => break,
                Err(e) => {
                    assert!(e.is_retryable(), "{e}");
                    failed_calls += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        // Paced, so that the faults land among the enqueues.
        tokio::time::sleep(Duration::from_millis(10)).await;
        if k % 20 == 0 {
            // A drain of its own beside the dispatcher, as an operator's would be.
            let (result, took) = timed(outbox.drain_once(&client)).await;
            worst = worst.max(took.saturating_sub(Duration::from_secs(1)));
            if result.is_err() {
                failed_calls += 1;
            }
        }
    }
    let guard = Instant::now() + Duration::from_secs(120);
    loop {
        let (counts, took) = timed(outbox.counts()).await;
        worst = worst.max(took);
        // Done when everything is applied and every kind of fault struck at least 3 times.
        let struck = rounds.load(Ordering::Relaxed) >= 10;
        match counts {
            Ok(c) if c.applied == CHANGES as u64 && struck => break,
            Ok(c) => assert!(Instant::now() < guard, "{c:?}"),
            Err(_) => failed_calls += 1,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    chaos.await.unwrap();
    stop_dispatcher.send(()).unwrap();
    dispatcher.await.unwrap().unwrap();
    assert_applied_once(&emulator, &ids);
    let settled = outbox.list(&Query::new().limit(1000)).await.unwrap();
    assert!(
        settled
            .iter()
            .all(|e| matches!(e.state(), State::Applied { .. }))
    );
    let (terminated, closed, locked) = (
        terminated.load(Ordering::Relaxed),
        closed.load(Ordering::Relaxed),
        locked.load(Ordering::Relaxed),
    );
    assert!(
        terminated >= 3 && closed >= 3 && locked >= 2,
        "{terminated} {closed} {locked}"
    );
    println!(
        "{CHANGES} changes: {terminated} backends terminated, the database closed {closed} times, \
         the table locked {locked} times; {failed_calls} calls failed typed and were repeated; \
         0 lost, 0 applied twice; worst call {worst:?} (bound {STORE_TIMEOUT:?} + margin {MARGIN:?}); {:?}",
        outbox.stats()
    );
}
