//! The PostgreSQL store against a real server (`LIVEAPI_TEST_POSTGRES_URL`), each test in a
//! schema of its own: every scenario, the fleet's guarantees, and a server that goes away.
//!
//! Without the variable these tests print a notice and pass without running, unless
//! `LIVEAPI_CI=1`, where they fail.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::ops;
use common::*;
use liveapi_outbox::{Enqueued, Outbox, OutboxError, PostgresStore};
use liveapi_test_support::postgres::TestSchema;

/// The test's schema, or `None` to skip.
fn schema(label: &str) -> Option<TestSchema> {
    TestSchema::new(label)
}

async fn outbox(schema: &TestSchema) -> Outbox {
    fast(Outbox::builder(
        schema.store(4).await.expect("the outbox connects"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_is_durable_and_idempotent_in_postgres() {
    let Some(schema) = schema("enqueue") else {
        return;
    };
    enqueue_is_durable_and_idempotent(&outbox(&schema).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_settles_every_entry_once_in_postgres() {
    let Some(schema) = schema("drain") else {
        return;
    };
    drain_settles_every_entry_once(&outbox(&schema).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_outcomes_are_retried_after_a_backoff_in_postgres() {
    let Some(schema) = schema("unknown") else {
        return;
    };
    unknown_outcomes_are_retried_after_a_backoff(&outbox(&schema).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_is_settled_without_a_resend_in_postgres() {
    let Some(schema) = schema("reconcile") else {
        return;
    };
    reconciliation_is_settled_without_a_resend(&outbox(&schema).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_dispatchers_entry_is_taken_over_in_postgres() {
    let Some(schema) = schema("takeover") else {
        return;
    };
    let (dead, alive) = (outbox(&schema).await, outbox(&schema).await);
    a_dead_dispatchers_entry_is_taken_over_after_its_lease(&dead, &alive).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_dispatches_until_shutdown_in_postgres() {
    let Some(schema) = schema("run") else { return };
    run_dispatches_until_shutdown(&outbox(&schema).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_all_commit_in_postgres() {
    let Some(schema) = schema("concurrent") else {
        return;
    };
    concurrent_enqueues_all_commit(&outbox(&schema).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_time_comes_from_the_outbox_clock_in_postgres() {
    let Some(schema) = schema("clock") else {
        return;
    };
    let store = schema.store(4).await.expect("the outbox connects");
    every_time_comes_from_the_outbox_clock(Outbox::builder(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatchers_sharing_the_outbox_never_claim_the_same_entry() {
    let Some(schema) = schema("fleet") else {
        return;
    };
    let emulator = emulator().await;
    let client = client(&emulator, 3);
    let uid = user(&client, "ada").await;
    let fleet = [
        outbox(&schema).await,
        outbox(&schema).await,
        outbox(&schema).await,
    ];
    let ids: Vec<String> = (0..150).map(|k| format!("fleet-{k:03}")).collect();
    for id in &ids {
        fleet[0]
            .enqueue(&credit(&client, &uid, id, 1))
            .await
            .unwrap();
    }
    // Each answer takes 20 ms, so that no one dispatcher can send all 150 (16 at a time)
    // before the others have started: the outbox does not promise that they share the work,
    // and the check below that they did is only as good as this margin (about 200 ms).
    emulator
        .set_faults(
            liveapi_emulator::Faults::new(1.0)
                .only_kind(liveapi_emulator::FaultKind::Latency)
                .with_latency(Duration::from_millis(20), Duration::from_millis(20)),
        )
        .unwrap();
    let reports = futures_join(fleet.iter().map(|outbox| {
        let (outbox, client) = (outbox.clone(), client.clone());
        async move { outbox.drain_once(&client).await }
    }))
    .await;
    let reports: Vec<_> = reports.into_iter().map(Result::unwrap).collect();
    // Each entry was claimed, and so sent, by exactly one of them.
    assert_eq!(
        reports.iter().map(|r| r.sent).sum::<u64>(),
        150,
        "{reports:?}"
    );
    assert_eq!(
        reports.iter().map(|r| r.applied).sum::<u64>(),
        150,
        "{reports:?}"
    );
    assert!(
        reports.iter().filter(|r| r.sent > 0).count() >= 2,
        "shared: {reports:?}"
    );
    assert_applied_once(&emulator, &ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_in_commits_and_rolls_back_with_the_business_transaction() {
    let Some(schema) = schema("enqueue_in") else {
        return;
    };
    let store = schema.store(2).await.unwrap();
    let outbox = fast(Outbox::builder(store.clone()));
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let mut db = schema.connect().await.unwrap();
    db.batch_execute(&format!(
        "CREATE TABLE {}.orders (id TEXT PRIMARY KEY, state TEXT NOT NULL)",
        schema.name()
    ))
    .await
    .unwrap();
    let insert = format!("INSERT INTO {}.orders VALUES ($1, 'paid')", schema.name());

    // Rolled back: neither the order nor its coins.
    let transaction = db.transaction().await.unwrap();
    transaction.execute(&insert, &[&"o-1"]).await.unwrap();
    let change = order(&client, &uid, "in-1", 50);
    assert_eq!(
        store
            .enqueue_in(&transaction, &change, outbox.now())
            .await
            .unwrap(),
        Enqueued::Added
    );
    transaction.rollback().await.unwrap();
    assert!(outbox.get(change.request_id()).await.unwrap().is_none());

    // Committed: both, and dispatched.
    let transaction = db.transaction().await.unwrap();
    transaction.execute(&insert, &[&"o-1"]).await.unwrap();
    // 2031-01-01: not the machine's time, so that only the time given can be recorded.
    let enqueued_at = UNIX_EPOCH + Duration::from_secs(1_924_992_000);
    store
        .enqueue_in(&transaction, &change, enqueued_at)
        .await
        .unwrap();
    // Not visible to the dispatcher before the commit.
    assert_eq!(outbox.drain_once(&client).await.unwrap().sent, 0);
    transaction.commit().await.unwrap();
    // The time it was given is its enqueue time: the store has no clock of its own.
    let entry = outbox.get(change.request_id()).await.unwrap().unwrap();
    assert_eq!(entry.enqueued_at(), enqueued_at);
    outbox.wake();
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    assert_applied_once(&emulator, &["in-1".to_owned()]);

    // Again in a later transaction: a no-op; another change under the id: refused.
    let transaction = db.transaction().await.unwrap();
    assert_eq!(
        store
            .enqueue_in(&transaction, &change, outbox.now())
            .await
            .unwrap(),
        Enqueued::AlreadyQueued
    );
    let other = order(&client, &uid, "in-1", 60);
    assert!(matches!(
        store.enqueue_in(&transaction, &other, outbox.now()).await,
        Err(OutboxError::IdConflict { .. })
    ));
    transaction.rollback().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_away_mid_run_loses_nothing_and_settles_nothing_twice() {
    let Some(schema) = schema("goes_away") else {
        return;
    };
    let outbox = outbox(&schema).await;
    let emulator = emulator().await;
    emulator
        .set_faults(
            liveapi_emulator::Faults::new(1.0)
                .only_kind(liveapi_emulator::FaultKind::Latency)
                .with_latency(Duration::from_millis(1), Duration::from_millis(30)),
        )
        .unwrap();
    let client = client(&emulator, 3);
    let uid = user(&client, "ada").await;
    let ids: Vec<String> = (0..200).map(|k| format!("away-{k:03}")).collect();
    for id in &ids[..100] {
        outbox.enqueue(&credit(&client, &uid, id, 1)).await.unwrap();
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
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
    // Another session cuts every connection of the store, again and again, while the rest
    // is enqueued and the dispatcher sends.
    let admin = schema.connect().await.unwrap();
    let kill = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                WHERE application_name = $1 AND pid <> pg_backend_pid()";
    let mut killed = 0i64;
    let mut enqueue_failures = 0;
    for (k, id) in ids[100..].iter().enumerate() {
        let change = credit(&client, &uid, id, 1);
        // An enqueue that met a dying connection is enqueued again: it is idempotent.
        loop {
            match outbox.enqueue(&change).await {
                Ok(_) => break,
                Err(e) if e.is_retryable() => enqueue_failures += 1,
                Err(e) => panic!("{e}"),
            }
        }
        if k % 10 == 0 {
            killed += admin
                .query_one(kill, &[&schema.name()])
                .await
                .unwrap()
                .get::<_, i64>(0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(killed >= 10, "connections were cut: {killed}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match outbox.counts().await {
            Ok(counts) if counts.applied == 200 => break,
            Ok(counts) => assert!(tokio::time::Instant::now() < deadline, "{counts:?}"),
            Err(e) => assert!(e.is_retryable(), "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(()).unwrap();
    dispatcher.await.unwrap().unwrap();
    assert_applied_once(&emulator, &ids);
    let stats = outbox.stats();
    println!("{killed} connections cut; {enqueue_failures} enqueues repeated; {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_of_a_newer_version_is_refused_untouched_in_postgres() {
    let Some(schema) = schema("newer") else {
        return;
    };
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = liveapi::model::linkv::OpenId::new("42").unwrap();
    outbox(&schema)
        .await
        .enqueue(&credit(&client, &uid, "future-1", 1))
        .await
        .unwrap();
    let admin = schema.connect().await.unwrap();
    admin
        .batch_execute(&format!(
            "UPDATE {}.outbox_schema SET version = 99",
            schema.name()
        ))
        .await
        .unwrap();
    let snapshot = format!(
        "SELECT string_agg(request_id || state || attempts, ',') FROM {}.outbox",
        schema.name()
    );
    let before: Option<String> = admin.query_one(&snapshot, &[]).await.unwrap().get(0);
    match schema.store(1).await {
        Err(
            e @ OutboxError::SchemaTooNew {
                found: 99,
                supported: 2,
                ..
            },
        ) => {
            assert!(e.to_string().contains(schema.name()), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let after: Option<String> = admin.query_one(&snapshot, &[]).await.unwrap().get(0);
    assert_eq!(before, after);
    let version: i64 = admin
        .query_one(
            &format!("SELECT version FROM {}.outbox_schema", schema.name()),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_programs_outbox_table_is_refused_untouched() {
    let Some(schema) = schema("foreign") else {
        return;
    };
    let admin = schema.connect().await.unwrap();
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {0}; CREATE TABLE {0}.outbox (id BIGINT, payload JSONB)",
            schema.name()
        ))
        .await
        .unwrap();
    match schema.store(1).await {
        Err(OutboxError::Foreign { detail, .. }) => assert!(detail.contains("outbox"), "{detail}"),
        other => panic!("{other:?}"),
    }
    let tables: i64 = admin
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&schema.name()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was added");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_migrate_once() {
    let Some(schema) = schema("migrate") else {
        return;
    };
    let schema = std::sync::Arc::new(schema);
    let stores = futures_join((0..4).map(|_| {
        let schema = schema.clone();
        async move { schema.store(1).await }
    }))
    .await;
    assert!(stores.iter().all(Result::is_ok), "{stores:?}");
}

#[tokio::test]
async fn a_password_never_shows_in_errors_or_debug() {
    // Nothing listens on port 1: the connection is refused.
    let url = "postgres://payments:s3cr3t-pw@127.0.0.1:1/ledger?connect_timeout=2";
    let builder = PostgresStore::builder(url).schema("coins");
    assert!(!format!("{builder:?}").contains("s3cr3t"), "{builder:?}");
    let error = builder.connect().await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    let mut text = format!("{error} {error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(
        error.to_string().contains(
            "postgres://payments:***@127.0.0.1:1/ledger?connect_timeout=2 (schema coins)"
        ),
        "{error}"
    );
    assert_eq!(
        error.fault(),
        Some(liveapi_outbox::Fault::ConnectionRefused),
        "{error}"
    );
    assert!(!error.is_config());

    for bad in [
        "postgres://h/db?sslmode=bogus",
        "postgres://h:notaport/db",
        "postgres://u:s3cr3t-pw@h:notaport/db",
        "host=h password=s3cr3t-pw port=notaport",
    ] {
        match PostgresStore::connect(bad).await {
            Err(e @ OutboxError::BadLocation { .. }) => {
                assert!(e.is_config());
                assert!(!format!("{e} {e:?}").contains("s3cr3t"), "{e:?}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(matches!(
        PostgresStore::builder("postgres://h/db")
            .schema("Coins; DROP")
            .connect()
            .await,
        Err(OutboxError::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_that_requires_tls_fails_rather_than_falling_back_to_plain_text() {
    let Some(schema) = schema("tls") else { return };
    let separator = if schema.url().contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}sslmode=require", schema.url());
    let result = PostgresStore::builder(url)
        .schema(schema.name())
        .connect()
        .await;
    assert!(result.is_err(), "{result:?}");
    let admin = schema.connect().await.unwrap();
    let created: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &[&schema.name()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(created, 0, "nothing was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_that_jumped_leaves_no_entry_waiting_in_postgres() {
    let Some(schema) = schema("clock_jump") else {
        return;
    };
    ops::a_clock_that_jumped_leaves_no_entry_waiting(
        Outbox::builder(schema.store(2).await.unwrap()),
        Outbox::builder(schema.store(2).await.unwrap()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_entry_is_reissued_once_and_never_resent_in_postgres() {
    let Some(schema) = schema("resolve") else {
        return;
    };
    ops::a_resolved_entry_is_reissued_once_and_never_resent(&outbox(&schema).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_only_what_is_settled_in_postgres() {
    let Some(schema) = schema("prune") else {
        return;
    };
    ops::prune_deletes_only_what_is_settled(Outbox::builder(schema.store(4).await.unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_settled_is_woken_by_the_settlement_in_postgres() {
    let Some(schema) = schema("wait") else {
        return;
    };
    ops::wait_settled_is_woken_by_the_settlement(Outbox::builder(schema.store(4).await.unwrap()))
        .await;
}
