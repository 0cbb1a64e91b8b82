//! What the store tests share: an emulator, clients of it, changes to enqueue, and the
//! scenarios every store must pass.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub(crate) mod ops;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liveapi::model::linkv::{
    Coins, Expiration, OpenId, OrderId, PendingChange, Platform, PortraitUri, RequestId, UsdCents,
    UserId, UserName,
};
use liveapi::{Client, LinkvCredentials, RetryPolicy};
use liveapi_emulator::{ClockStart, Emulator, FaultKind, Faults, RunningEmulator};
use liveapi_outbox::{
    Enqueued, Outbox, OutboxBuilder, OutboxError, Query, ReconcileKind, RefusalKind, State,
    StateFilter,
};

/// An emulator on loopback port 0.
pub(crate) async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .seed(7)
        .rate_limit(None)
        .start()
        .await
        .expect("the emulator starts")
}

/// A client of `emulator` that makes `attempts` attempts per call, quickly.
pub(crate) fn client(emulator: &RunningEmulator, attempts: u32) -> Client {
    client_with(emulator, attempts, Client::builder())
}

/// Like [`client`], over the settings of `builder`.
pub(crate) fn client_with(
    emulator: &RunningEmulator,
    attempts: u32,
    builder: liveapi::ClientBuilder,
) -> Client {
    let app = emulator.linkv_app();
    let creds = LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret(app.app_secret.as_str())
        .alias(&app.alias)
        .base_url(emulator.base_url())
        .build()
        .expect("credentials");
    builder
        .linkv(creds)
        .attempt_timeout(Duration::from_secs(2))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(attempts)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(50)),
        )
        .build()
        .expect("a client")
}

/// Registers `name` and answers their open id.
pub(crate) async fn user(client: &Client, name: &str) -> OpenId {
    client
        .register_user(
            UserId::new(name).unwrap(),
            UserName::new(name).unwrap(),
            PortraitUri::new("https://cdn.example.com/u.png").unwrap(),
        )
        .await
        .expect("registered")
        .open_id
}

/// A fixed expiry, so that a change made again is the same change.
pub(crate) fn expiry() -> Expiration {
    Expiration::at_unix_seconds(4_000_000_000)
}

/// `coins` credited to `uid` under the request id `id`.
pub(crate) fn credit(client: &Client, uid: &OpenId, id: &str, coins: u64) -> PendingChange {
    client
        .add_coins(uid, Coins::new(coins).unwrap())
        .request_id(RequestId::new(id).unwrap())
        .expires_at(expiry())
        .into_pending()
        .expect("a change")
}

/// `coins` taken from `uid` under the request id `id`.
pub(crate) fn debit(client: &Client, uid: &OpenId, id: &str, coins: u64) -> PendingChange {
    client
        .remove_coins(uid, Coins::new(coins).unwrap())
        .request_id(RequestId::new(id).unwrap())
        .expires_at(expiry())
        .into_pending()
        .expect("a change")
}

/// A completed order of `coins` for `uid` under the request id `id`.
pub(crate) fn order(client: &Client, uid: &OpenId, id: &str, coins: u64) -> PendingChange {
    client
        .complete_order(
            uid,
            OrderId::new(format!("order-{id}")).unwrap(),
            Coins::new(coins).unwrap(),
            UsdCents::new(199),
            Platform::Ios,
        )
        .request_id(RequestId::new(id).unwrap())
        .expires_at(expiry())
        .into_pending()
        .expect("an order")
}

/// How many times the emulator applied each request id.
pub(crate) fn applied_counts(emulator: &RunningEmulator) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for change in emulator.journal() {
        *counts.entry(change.request_id).or_insert(0) += 1;
    }
    counts
}

/// Asserts that the emulator applied each of `ids` exactly once, and nothing else.
#[track_caller]
pub(crate) fn assert_applied_once(emulator: &RunningEmulator, ids: &[String]) {
    let counts = applied_counts(emulator);
    for id in ids {
        assert_eq!(
            counts.get(id),
            Some(&1),
            "{id} applied {:?} times",
            counts.get(id)
        );
    }
    assert_eq!(counts.len(), ids.len(), "applied: {counts:?}");
}

/// Enqueueing commits once, the same change again is a no-op, another change under the same
/// id is refused, and what is stored is what was given.
pub(crate) async fn enqueue_is_durable_and_idempotent(outbox: &Outbox) {
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let change = credit(&client, &uid, "enqueue-1", 5);

    assert_eq!(outbox.enqueue(&change).await.unwrap(), Enqueued::Added);
    assert_eq!(
        outbox.enqueue(&change).await.unwrap(),
        Enqueued::AlreadyQueued
    );
    // The same change made again later (another creation time) is the same change.
    let again = PendingChange::new(
        change.request().clone(),
        change.created_at() + Duration::from_secs(60),
    );
    assert_eq!(
        outbox.enqueue(&again).await.unwrap(),
        Enqueued::AlreadyQueued
    );
    // Other parameters under the same id are refused.
    let other = credit(&client, &uid, "enqueue-1", 6);
    match outbox.enqueue(&other).await {
        Err(OutboxError::IdConflict { request_id }) => assert_eq!(request_id.as_str(), "enqueue-1"),
        other => panic!("{other:?}"),
    }

    let entry = outbox
        .get(change.request_id())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(entry.change(), &change);
    assert_eq!(entry.attempts(), 0);
    assert!(
        matches!(entry.state(), State::Pending { lease: None, .. }),
        "{entry:?}"
    );
    assert!(!entry.is_settled());
    let counts = outbox.counts().await.unwrap();
    assert_eq!((counts.pending, counts.total()), (1, 1), "{counts:?}");
    assert!(
        outbox
            .get(&RequestId::new("absent").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(outbox.stats().enqueued, 1);
    assert_eq!(outbox.stats().already_queued, 2);
    // Nothing was sent by enqueueing.
    assert!(emulator.journal().is_empty());
}

/// A drain sends every due entry once and settles it; a settled entry is never sent again.
pub(crate) async fn drain_settles_every_entry_once(outbox: &Outbox) {
    let emulator = emulator().await;
    let client = client(&emulator, 3);
    let (ada, bob) = (user(&client, "ada").await, user(&client, "bob").await);
    let mut ids = Vec::new();
    for k in 0..40 {
        let uid = if k % 2 == 0 { &ada } else { &bob };
        let id = format!("drain-{k:03}");
        let change = if k % 5 == 0 {
            order(&client, uid, &id, 10)
        } else {
            credit(&client, uid, &id, 1)
        };
        outbox.enqueue(&change).await.unwrap();
        ids.push(id);
    }
    // One refused: more coins than bob has.
    let refused = debit(&client, &bob, "drain-refused", 1_000);
    outbox.enqueue(&refused).await.unwrap();

    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!(
        (report.sent, report.applied, report.refused, report.retry),
        (41, 40, 1, 0),
        "{report:?}"
    );
    assert_applied_once(&emulator, &ids);
    // Each user has every change once: 4 orders of 10 and 16 credits of 1; the refused
    // debit took nothing.
    let app = emulator.linkv_app();
    for user in [&ada, &bob] {
        assert_eq!(
            emulator.balance(&app.app_key, user.as_str()),
            Some(56),
            "{user}"
        );
    }

    // Orders keep the balance they answered; coin changes answer none. The drain sends
    // entries concurrently, so an order's balance counts whichever of its user's changes the
    // server applied first, in an order the outbox does not promise: it is the balance the
    // server recorded right after applying that order.
    let after: HashMap<String, u64> = emulator
        .journal()
        .into_iter()
        .map(|change| (change.request_id, change.balance_after))
        .collect();
    for k in (0..40).step_by(5) {
        let id = format!("drain-{k:03}");
        let order = outbox
            .get(&RequestId::new(&id).unwrap())
            .await
            .unwrap()
            .unwrap();
        match order.state() {
            State::Applied {
                balance: Some(b),
                settled_at,
            } => {
                assert_eq!(Some(&b.get()), after.get(&id), "{id}");
                assert!((10..=56).contains(&b.get()), "{id}: {b:?}");
                assert!(*settled_at >= order.enqueued_at());
            }
            other => panic!("{other:?}"),
        }
    }
    let credit = outbox
        .get(&RequestId::new("drain-001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(credit.state(), State::Applied { balance: None, .. }),
        "{credit:?}"
    );
    assert_eq!(credit.attempts(), 1);
    let refused = outbox.get(refused.request_id()).await.unwrap().unwrap();
    match refused.state() {
        State::Refused { refusal, .. } => {
            assert_eq!(refusal.kind(), RefusalKind::BadParameter);
            assert!(!refusal.message().is_empty());
        }
        other => panic!("{other:?}"),
    }

    // Nothing is due any more; enqueueing a settled change again sends nothing.
    let again = outbox.drain_once(&client).await.unwrap();
    assert_eq!(again.sent, 0, "{again:?}");
    let first = credit_again(&client, &bob);
    assert_eq!(
        outbox.enqueue(&first).await.unwrap(),
        Enqueued::AlreadyQueued
    );
    assert_eq!(outbox.drain_once(&client).await.unwrap().sent, 0);
    assert_applied_once(&emulator, &ids);

    // Queries by state and by user, a page at a time.
    let counts = outbox.counts().await.unwrap();
    assert_eq!(
        (
            counts.pending,
            counts.applied,
            counts.refused,
            counts.needs_reconciliation
        ),
        (0, 40, 1, 0)
    );
    let settled = outbox
        .list(&Query::new().state(StateFilter::Settled).limit(1000))
        .await
        .unwrap();
    assert_eq!(settled.len(), 41);
    let of_bob = outbox
        .list(&Query::new().open_id(bob.clone()).limit(1000))
        .await
        .unwrap();
    assert_eq!(of_bob.len(), 21);
    assert!(of_bob.iter().all(|e| e.uid() == &bob));
    let page = outbox.list(&Query::new().limit(10)).await.unwrap();
    let next = outbox
        .list(&Query::new().limit(10).after(page.last().unwrap().seq()))
        .await
        .unwrap();
    assert_eq!((page.len(), next.len()), (10, 10));
    assert!(page.last().unwrap().seq() < next[0].seq());
    assert_eq!(next[0].request_id().as_str(), "drain-010");
    let refused_only = outbox
        .list(&Query::new().state(StateFilter::Refused))
        .await
        .unwrap();
    assert_eq!(refused_only.len(), 1);
    assert!(
        outbox
            .list(&Query::new().state(StateFilter::Pending))
            .await
            .unwrap()
            .is_empty()
    );
}

fn credit_again(client: &Client, uid: &OpenId) -> PendingChange {
    credit(client, uid, "drain-001", 1)
}

/// An unknown outcome leaves the entry pending until its backoff has passed; the resend with
/// the same request id settles it, applied once.
pub(crate) async fn unknown_outcomes_are_retried_after_a_backoff(outbox: &Outbox) {
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let change = credit(&client, &uid, "unknown-1", 5);
    outbox.enqueue(&change).await.unwrap();

    // Applied, and the answer lost.
    emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.retry), (1, 1), "{report:?}");
    let entry = outbox.get(change.request_id()).await.unwrap().unwrap();
    match entry.state() {
        State::Pending {
            next_attempt_at,
            lease: None,
        } => {
            assert!(*next_attempt_at > SystemTime::now(), "backoff");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        entry.last_error().unwrap().starts_with("outcome_unknown: "),
        "{entry:?}"
    );
    assert_eq!(entry.attempts(), 1);
    // Not due yet: nothing sent.
    emulator.set_faults(Faults::none()).unwrap();
    assert_eq!(outbox.drain_once(&client).await.unwrap().sent, 0);
    assert_eq!(outbox.stats().retried, 1);
    // Due: resent with the same id, answered from the server's memory of it.
    let State::Pending {
        next_attempt_at, ..
    } = entry.state()
    else {
        unreachable!()
    };
    let wait = next_attempt_at
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.applied), (1, 1), "{report:?}");
    assert_applied_once(&emulator, &["unknown-1".to_owned()]);
    assert_eq!(
        outbox
            .get(change.request_id())
            .await
            .unwrap()
            .unwrap()
            .attempts(),
        2
    );
}

/// Past the client's resend window an entry is not sent but settled for reconciliation. A
/// change the server refuses because its request id was used with other parameters is a
/// refusal (the server's 400), not applied, and the first change stays applied once.
pub(crate) async fn reconciliation_is_settled_without_a_resend(outbox: &Outbox) {
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;

    // Made two days ago: past the 12-hour default window.
    let fresh = credit(&client, &uid, "old-1", 5);
    let old = PendingChange::new(
        fresh.request().clone(),
        SystemTime::now() - Duration::from_secs(48 * 3_600),
    );
    outbox.enqueue(&old).await.unwrap();
    // Sent directly first with other coins: the outbox's change conflicts with it.
    let direct = credit(&client, &uid, "conflict-1", 7);
    client.send_change(&direct).await.unwrap();
    let conflicting = credit(&client, &uid, "conflict-1", 8);
    outbox.enqueue(&conflicting).await.unwrap();

    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!(
        (report.sent, report.needs_reconciliation, report.refused),
        (2, 1, 1),
        "{report:?}"
    );
    let journal = applied_counts(&emulator);
    assert_eq!(
        journal.get("old-1"),
        None,
        "a change past its window is not sent"
    );
    assert_eq!(journal.get("conflict-1"), Some(&1));

    let reconcile: Vec<_> = outbox
        .list(&Query::new().state(StateFilter::NeedsReconciliation))
        .await
        .unwrap()
        .into_iter()
        .map(|e| match e.state() {
            State::NeedsReconciliation { reason, .. } => {
                (e.request_id().to_string(), reason.kind())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reconcile,
        [("old-1".to_owned(), ReconcileKind::ResendWindowPassed)]
    );
    let conflict = outbox.get(conflicting.request_id()).await.unwrap().unwrap();
    match conflict.state() {
        State::Refused { refusal, .. } => {
            assert!(
                refusal.message().contains("request_id already used"),
                "{refusal:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(outbox.counts().await.unwrap().needs_reconciliation, 1);
    assert_eq!(outbox.drain_once(&client).await.unwrap().sent, 0);
}

/// A dispatcher that dies mid-send holds its entry until the lease expires; then another
/// takes it over and resends it with the same request id: applied once.
pub(crate) async fn a_dead_dispatchers_entry_is_taken_over_after_its_lease(
    dead: &Outbox,
    alive: &Outbox,
) {
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let change = credit(&client, &uid, "takeover-1", 5);
    dead.enqueue(&change).await.unwrap();

    // Applied at once, answered after 3 s: the dispatcher dies before hearing back.
    emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_secs(3), Duration::from_secs(3)),
        )
        .unwrap();
    let task = {
        let (dead, client) = (dead.clone(), client.clone());
        tokio::spawn(async move { dead.drain_once(&client).await })
    };
    while applied_counts(&emulator).is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let _ = task.await;
    emulator.set_faults(Faults::none()).unwrap();

    let entry = alive.get(change.request_id()).await.unwrap().unwrap();
    let lease = match entry.state() {
        State::Pending {
            lease: Some(lease), ..
        } => lease.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(lease.owner(), dead.owner());
    // Held: another dispatcher leaves it alone until the lease expires.
    assert_eq!(alive.drain_once(&client).await.unwrap().sent, 0);
    assert_eq!(alive.counts().await.unwrap().in_flight, 1);
    let wait = lease
        .until()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    let report = alive.drain_once(&client).await.unwrap();
    assert_eq!(
        (report.sent, report.taken_over, report.applied),
        (1, 1, 1),
        "{report:?}"
    );
    assert_applied_once(&emulator, &["takeover-1".to_owned()]);
    let entry = alive.get(change.request_id()).await.unwrap().unwrap();
    assert_eq!(entry.attempts(), 2);
    assert!(entry.is_settled());
}

/// The dispatcher sends what is enqueued while it runs, and stops when told, letting the
/// sends in flight finish.
pub(crate) async fn run_dispatches_until_shutdown(outbox: &Outbox) {
    let emulator = emulator().await;
    let client = client(&emulator, 3);
    let uid = user(&client, "ada").await;
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
    let ids: Vec<String> = (0..30).map(|k| format!("run-{k:02}")).collect();
    let enqueues = ids.iter().map(|id| {
        let (outbox, change) = (outbox.clone(), credit(&client, &uid, id, 1));
        async move { outbox.enqueue(&change).await }
    });
    for result in futures_join(enqueues).await {
        assert_eq!(result.unwrap(), Enqueued::Added);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while outbox.counts().await.unwrap().applied < 30 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            outbox.counts().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    dispatcher.await.unwrap().unwrap();
    assert_applied_once(&emulator, &ids);
    assert_eq!(outbox.stats().applied, 30);
}

/// Runs `futures` concurrently, answering their outputs in order.
pub(crate) async fn futures_join<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("a task"));
    }
    outputs
}

/// Hundreds of concurrent enqueues all commit.
pub(crate) async fn concurrent_enqueues_all_commit(outbox: &Outbox) {
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = OpenId::new("42").unwrap();
    let changes: Vec<_> = (0..300)
        .map(|k| credit(&client, &uid, &format!("many-{k:03}"), 1))
        .collect();
    let results = futures_join(changes.into_iter().map(|change| {
        let outbox = outbox.clone();
        async move { outbox.enqueue(&change).await }
    }))
    .await;
    assert!(
        results.iter().all(|r| matches!(r, Ok(Enqueued::Added))),
        "{results:?}"
    );
    assert_eq!(outbox.counts().await.unwrap().pending, 300);
}

/// Every time the outbox records or compares comes from its own clock, here one stopped at
/// 2031-01-01, years from the machine's: when an entry was enqueued, when it is due again after
/// an unknown outcome, how long a lease holds (and so when an entry counts as in flight and
/// may be taken over), and when it was settled. The clock only moves when the test moves it, so
/// nothing here waits for time to pass.
pub(crate) async fn every_time_comes_from_the_outbox_clock(builder: OutboxBuilder) {
    let start = UNIX_EPOCH + Duration::from_secs(1_924_992_000);
    let clock = Arc::new(liveapi::ManualClock::new(start));
    // The server's clock and the client's read the same time, so that signatures hold.
    let emulator = Emulator::builder()
        .seed(7)
        .rate_limit(None)
        .clock(ClockStart::FrozenAt(start))
        .start()
        .await
        .expect("the emulator starts");
    let context = liveapi::Context::new(clock.clone(), Arc::new(liveapi::request::OsEntropy));
    let client = client_with(&emulator, 1, Client::builder().context(context));
    let lease = Duration::from_secs(60);
    let backoff = Duration::from_secs(10);
    let outbox = builder
        .clock(clock.clone())
        .lease(lease)
        .retry_backoff(backoff, backoff)
        .build();
    let advance = |by: Duration| {
        clock.advance(by);
        emulator.clock().advance(by);
    };
    let uid = user(&client, "ada").await;
    assert_eq!(outbox.now(), start);

    // Enqueued: at the outbox's time.
    let change = credit(&client, &uid, "clock-1", 5);
    outbox.enqueue(&change).await.unwrap();
    let entry = outbox.get(change.request_id()).await.unwrap().unwrap();
    assert_eq!(entry.enqueued_at(), start);

    // An unknown outcome: due again a backoff (half to all of 10 s) after the outbox's time.
    emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.retry), (1, 1), "{report:?}");
    emulator.set_faults(Faults::none()).unwrap();
    let entry = outbox.get(change.request_id()).await.unwrap().unwrap();
    let due = match entry.state() {
        State::Pending {
            next_attempt_at,
            lease: None,
        } => *next_attempt_at,
        other => panic!("{other:?}"),
    };
    assert!(
        due >= start + backoff / 2 && due <= start + backoff,
        "due at {due:?}, the outbox's time is {start:?}"
    );
    // Not due before then by the outbox's clock; due at that very time.
    advance(backoff / 2 - Duration::from_millis(1));
    assert_eq!(outbox.drain_once(&client).await.unwrap().sent, 0);
    advance(due.duration_since(outbox.now()).unwrap());
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.applied), (1, 1), "{report:?}");
    // Settled: at the outbox's time.
    let entry = outbox.get(change.request_id()).await.unwrap().unwrap();
    assert_eq!(entry.state().settled_at(), Some(due), "{entry:?}");

    // A lease: held until the outbox's time plus the lease. The dispatcher dies mid-send.
    let held = credit(&client, &uid, "clock-2", 1);
    outbox.enqueue(&held).await.unwrap();
    let claimed_at = outbox.now();
    emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_secs(30), Duration::from_secs(30)),
        )
        .unwrap();
    let task = {
        let (outbox, client, id) = (outbox.clone(), client.clone(), held.request_id().clone());
        tokio::spawn(async move { outbox.dispatch(&client, &id).await })
    };
    // Applied by the server, its answer held back: the dispatcher dies before hearing it.
    let hang_guard = tokio::time::Instant::now() + Duration::from_secs(20);
    while !applied_counts(&emulator).contains_key("clock-2") {
        assert!(tokio::time::Instant::now() < hang_guard, "never sent");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    let _ = task.await;
    emulator.set_faults(Faults::none()).unwrap();
    let entry = outbox.get(held.request_id()).await.unwrap().unwrap();
    match entry.state() {
        State::Pending {
            lease: Some(held_by),
            ..
        } => assert_eq!(held_by.until(), claimed_at + lease),
        other => panic!("{other:?}"),
    }
    // In flight, and not claimed again, until the lease ends by the outbox's clock.
    advance(lease - Duration::from_millis(1));
    assert_eq!(outbox.counts().await.unwrap().in_flight, 1);
    assert_eq!(outbox.drain_once(&client).await.unwrap().sent, 0);
    advance(Duration::from_millis(1));
    assert_eq!(outbox.counts().await.unwrap().in_flight, 0);
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!(
        (report.sent, report.taken_over, report.applied),
        (1, 1, 1),
        "{report:?}"
    );
    let entry = outbox.get(held.request_id()).await.unwrap().unwrap();
    assert_eq!(
        entry.state().settled_at(),
        Some(claimed_at + lease),
        "{entry:?}"
    );
    assert_applied_once(&emulator, &["clock-1".to_owned(), "clock-2".to_owned()]);
}

/// Short leases, fast retries: for tests that wait for them.
pub(crate) fn fast(builder: liveapi_outbox::OutboxBuilder) -> Outbox {
    builder
        .lease(Duration::from_secs(1))
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(400))
        .poll_interval(Duration::from_millis(50))
        .build()
}
