//! The SQLite store: every scenario on a real file in a temporary directory, and the files it
//! must refuse.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::ops;
use common::*;
use liveapi_emulator::{FaultKind, Faults};
use liveapi_outbox::{Outbox, OutboxError, SqliteStore, State};

fn file(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("coins.outbox")
}

async fn outbox(path: &Path) -> Outbox {
    fast(Outbox::builder(
        SqliteStore::open(path).await.expect("the outbox opens"),
    ))
}

#[tokio::test]
async fn enqueue_is_durable_and_idempotent_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    enqueue_is_durable_and_idempotent(&outbox(&file(&dir)).await).await;
}

#[tokio::test]
async fn drain_settles_every_entry_once_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    drain_settles_every_entry_once(&outbox(&file(&dir)).await).await;
}

#[tokio::test]
async fn unknown_outcomes_are_retried_after_a_backoff_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    unknown_outcomes_are_retried_after_a_backoff(&outbox(&file(&dir)).await).await;
}

#[tokio::test]
async fn reconciliation_is_settled_without_a_resend_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    reconciliation_is_settled_without_a_resend(&outbox(&file(&dir)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_dispatchers_entry_is_taken_over_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    // Two processes' outboxes on one file.
    let (dead, alive) = (outbox(&path).await, outbox(&path).await);
    assert_ne!(dead.owner(), alive.owner());
    a_dead_dispatchers_entry_is_taken_over_after_its_lease(&dead, &alive).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_dispatches_until_shutdown_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    run_dispatches_until_shutdown(&outbox(&file(&dir)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_all_commit_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_enqueues_all_commit(&outbox(&file(&dir)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_time_comes_from_the_outbox_clock_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(file(&dir)).await.unwrap();
    every_time_comes_from_the_outbox_clock(Outbox::builder(store)).await;
}

#[tokio::test]
async fn entries_outlive_the_process_that_enqueued_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    {
        let first = outbox(&path).await;
        for k in 0..5 {
            first
                .enqueue(&credit(&client, &uid, &format!("keep-{k}"), 1))
                .await
                .unwrap();
        }
        // Dropped without dispatching, as a process that dies.
    }
    let second = Outbox::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(second.counts().await.unwrap().pending, 5);
    let report = second.drain_once(&client).await.unwrap();
    assert_eq!(report.applied, 5, "{report:?}");
    let ids: Vec<String> = (0..5).map(|k| format!("keep-{k}")).collect();
    assert_applied_once(&emulator, &ids);
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    match SqliteStore::open(&path).await {
        Err(OutboxError::Corrupt { location, detail }) => {
            assert!(location.ends_with("coins.outbox"), "{location}");
            assert!(detail.contains("not a database"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[tokio::test]
async fn a_damaged_outbox_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    {
        let emulator = emulator().await;
        let client = client(&emulator, 1);
        let uid = liveapi::model::linkv::OpenId::new("42").unwrap();
        let outbox = outbox(&path).await;
        for k in 0..400 {
            outbox
                .enqueue(&credit(&client, &uid, &format!("page-{k:03}"), 1))
                .await
                .unwrap();
        }
    }
    // Fold the log into the file, then scribble over its pages after the first.
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 16 * 4096, "{}", bytes.len());
    for b in &mut bytes[4096..12 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    match SqliteStore::open(&path).await {
        Err(OutboxError::Corrupt { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[tokio::test]
async fn another_programs_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    match SqliteStore::open(&path).await {
        Err(OutboxError::Foreign { detail, .. }) => {
            assert!(detail.contains("another program"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    // Another program's application id.
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch("DROP TABLE invoices; PRAGMA application_id = 1234")
            .unwrap();
    }
    let marked = std::fs::read(&path).unwrap();
    match SqliteStore::open(&path).await {
        Err(OutboxError::Foreign { detail, .. }) => assert!(detail.contains("0x4d2"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), marked);
    assert_ne!(before, marked);
}

#[tokio::test]
async fn an_outbox_of_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    {
        let emulator = emulator().await;
        let client = client(&emulator, 1);
        let uid = liveapi::model::linkv::OpenId::new("42").unwrap();
        let outbox = outbox(&path).await;
        outbox
            .enqueue(&credit(&client, &uid, "future-1", 1))
            .await
            .unwrap();
    }
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    match SqliteStore::open(&path).await {
        Err(
            e @ OutboxError::SchemaTooNew {
                found: 99,
                supported: 2,
                ..
            },
        ) => {
            assert!(e.to_string().contains("nothing was changed"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn an_unreadable_location_is_a_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-directory").join("coins.outbox");
    match SqliteStore::open(&path).await {
        Err(OutboxError::Store { detail, .. }) => assert!(detail.contains("opening"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_file_is_in_wal_mode_with_the_outbox_marked() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.path(), path);
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let id: i64 = connection
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), id, version), ("wal", 0x4C41_504F, 2));
    drop(store);
    // Opening again migrates nothing and keeps the entries.
    let again = SqliteStore::open(&path).await.unwrap();
    drop(again);
}

#[tokio::test]
async fn a_pending_entry_shows_its_lease_while_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(&file(&dir)).await;
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let change = credit(&client, &uid, "lease-1", 1);
    outbox.enqueue(&change).await.unwrap();
    emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_millis(400), Duration::from_millis(400)),
        )
        .unwrap();
    let sending = {
        let (outbox, client, id) = (outbox.clone(), client.clone(), change.request_id().clone());
        tokio::spawn(async move { outbox.dispatch(&client, &id).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let entry = outbox.get(change.request_id()).await.unwrap().unwrap();
    match entry.state() {
        State::Pending {
            lease: Some(lease), ..
        } => assert_eq!(lease.owner(), outbox.owner()),
        other => panic!("{other:?}"),
    }
    // Held: a second dispatch of it sends nothing.
    assert!(
        outbox
            .dispatch(&client, change.request_id())
            .await
            .unwrap()
            .is_none()
    );
    let sent = sending.await.unwrap().unwrap().expect("sent");
    assert!(sent.outcome.is_settled(), "{sent:?}");
    assert!(matches!(sent.recorded, liveapi_outbox::Recorded::Yes));
    assert_eq!(outbox.counts().await.unwrap().applied, 1);
}

#[tokio::test]
async fn the_store_never_holds_a_credential() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let outbox = outbox(&path).await;
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    outbox
        .enqueue(&order(&client, &uid, "secret-1", 10))
        .await
        .unwrap();
    outbox.drain_once(&client).await.unwrap();
    drop(outbox);
    let app = emulator.linkv_app();
    let secret = app.app_secret.as_bytes();
    let mut all = Vec::new();
    for name in ["coins.outbox", "coins.outbox-wal"] {
        let Ok(bytes) = std::fs::read(dir.path().join(name)) else {
            continue;
        };
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "the app secret is in {name}"
        );
        all.extend(bytes);
    }
    assert!(
        all.windows(8).any(|w| w == b"secret-1"),
        "the change is stored"
    );
}

#[tokio::test]
async fn a_dispatch_whose_outcome_is_unknown_is_not_settled() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(&file(&dir)).await;
    let debug = format!("{outbox:?}");
    assert!(
        debug.contains(outbox.owner()) && debug.contains("SqliteStore"),
        "{debug}"
    );
    let builder = Outbox::builder(SqliteStore::open(file(&dir)).await.unwrap()).owner("box-7");
    assert!(format!("{builder:?}").contains("box-7"));
    assert!(builder.build().owner().starts_with("box-7-"));

    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let change = credit(&client, &uid, "dispatch-unknown", 1);
    outbox.enqueue(&change).await.unwrap();
    emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();
    let sent = outbox
        .dispatch(&client, change.request_id())
        .await
        .unwrap()
        .expect("sent");
    assert!(
        matches!(sent.outcome, liveapi_outbox::Outcome::Retry { .. }),
        "{sent:?}"
    );
    assert!(!sent.outcome.is_settled());
    assert!(
        sent.error
            .as_ref()
            .is_some_and(liveapi::Error::outcome_unknown)
    );
    assert_eq!(sent.attempt, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_is_discarded_when_another_dispatcher_took_the_entry_over() {
    use std::sync::Arc;
    use std::time::SystemTime;

    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let emulator = emulator().await;
    // A dispatcher whose clock is 3 s behind: the lease it writes has expired by everyone
    // else's clock, as after a stall (a paused VM, a stopped process). Its outbox and its
    // client read the same clock.
    let behind = Arc::new(liveapi::ManualClock::new(
        SystemTime::now() - Duration::from_secs(3),
    ));
    let stalled_client = client_with(
        &emulator,
        1,
        liveapi::Client::builder().context(liveapi::Context::new(
            behind.clone(),
            Arc::new(liveapi::request::OsEntropy),
        )),
    );
    let stalled = fast(
        Outbox::builder(SqliteStore::open(&path).await.expect("the outbox opens")).clock(behind),
    );
    let other = outbox(&path).await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let change = credit(&client, &uid, "lost-lease-1", 1);
    other.enqueue(&change).await.unwrap();
    emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_millis(300), Duration::from_millis(300)),
        )
        .unwrap();
    let first = {
        let (stalled, client) = (stalled.clone(), stalled_client.clone());
        tokio::spawn(async move { stalled.drain_once(&client).await })
    };
    // Wait until the stalled dispatcher holds the entry.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let entry = other.get(change.request_id()).await.unwrap().unwrap();
        if let State::Pending {
            lease: Some(lease), ..
        } = entry.state()
        {
            assert_eq!(lease.owner(), stalled.owner());
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{entry:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let report = other.drain_once(&client).await.unwrap();
    assert_eq!((report.taken_over, report.applied), (1, 1), "{report:?}");
    let report = first.await.unwrap().unwrap();
    assert_eq!(
        (report.sent, report.lease_lost, report.applied),
        (1, 1, 0),
        "{report:?}"
    );
    assert_eq!(stalled.stats().lease_lost, 1);
    assert_applied_once(&emulator, &["lost-lease-1".to_owned()]);
    assert_eq!(other.counts().await.unwrap().applied, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_sends_what_another_handle_enqueued_without_waiting_for_the_poll() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let dispatcher = Outbox::builder(SqliteStore::open(&path).await.unwrap())
        .poll_interval(Duration::from_secs(3_600))
        .build();
    assert!(
        dispatcher.location().ends_with("coins.outbox"),
        "{}",
        dispatcher.location()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let (dispatcher, client) = (dispatcher.clone(), client.clone());
        tokio::spawn(async move {
            dispatcher
                .run(&client, async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Enqueued through another handle (as another process, or `enqueue_in`): no wake-up.
    let other = outbox(&path).await;
    other
        .enqueue(&credit(&client, &uid, "woken-1", 1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        dispatcher.stats().applied,
        0,
        "the dispatcher sleeps until its poll"
    );
    dispatcher.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while dispatcher.stats().applied == 0 {
        assert!(tokio::time::Instant::now() < deadline, "not woken");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_keeps_at_most_its_concurrency_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::builder(SqliteStore::open(file(&dir)).await.unwrap())
        .concurrency(2)
        .build();
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    for k in 0..8 {
        outbox
            .enqueue(&credit(&client, &uid, &format!("bounded-{k}"), 1))
            .await
            .unwrap();
    }
    emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_millis(300), Duration::from_millis(300)),
        )
        .unwrap();
    let draining = {
        let (outbox, client) = (outbox.clone(), client.clone());
        tokio::spawn(async move { outbox.drain_once(&client).await })
    };
    let mut most = 0;
    while !draining.is_finished() {
        most = most.max(outbox.counts().await.unwrap().in_flight);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(draining.await.unwrap().unwrap().applied, 8);
    assert_eq!(most, 2, "at most 2 in flight, and 2 used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_that_jumped_leaves_no_entry_waiting_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        SqliteStore::open(file(&dir)).await.unwrap(),
        SqliteStore::open(file(&dir)).await.unwrap(),
    );
    ops::a_clock_that_jumped_leaves_no_entry_waiting(
        Outbox::builder(first),
        Outbox::builder(second),
    )
    .await;
}

#[tokio::test]
async fn a_resolved_entry_is_reissued_once_and_never_resent_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    ops::a_resolved_entry_is_reissued_once_and_never_resent(&outbox(&file(&dir)).await).await;
}

#[tokio::test]
async fn prune_deletes_only_what_is_settled_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(file(&dir)).await.unwrap();
    ops::prune_deletes_only_what_is_settled(Outbox::builder(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_settled_is_woken_by_the_settlement_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(file(&dir)).await.unwrap();
    ops::wait_settled_is_woken_by_the_settlement(Outbox::builder(store)).await;
}
