//! The scenarios of the operator's tools and of time every store must pass: a clock that
//! jumped, resolving and re-issuing, pruning, waiting for a settlement.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use liveapi::model::linkv::{PendingChange, RequestId};
use liveapi_emulator::{ClockStart, Emulator, FaultKind, Faults};
use liveapi_outbox::{Decision, Enqueued, Outbox, OutboxBuilder, OutboxError, State};

use super::*;

/// Two days: how far the machine's clock is wrong in the clock scenarios.
const TWO_DAYS: Duration = Duration::from_secs(2 * 86_400);

/// A change refused because this machine's clock was two days ahead is sent by the first drain
/// after the clock is put right, not 48 hours later; and no entry waits longer than the
/// longest backoff from the moment the schedule is read, whichever clock wrote it.
pub(crate) async fn a_clock_that_jumped_leaves_no_entry_waiting(
    builder: OutboxBuilder,
    second: OutboxBuilder,
) {
    // The right time, to the millisecond (as the stores keep times).
    let millis = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let right = std::time::UNIX_EPOCH + Duration::from_millis(millis as u64);
    // The server's clock is right, and stopped there.
    let emulator = Emulator::builder()
        .seed(7)
        .rate_limit(None)
        .clock(ClockStart::FrozenAt(right))
        .start()
        .await
        .expect("the emulator starts");
    // This machine's clock, read by the client and the outbox: two days ahead.
    let clock = Arc::new(liveapi::ManualClock::new(right + TWO_DAYS));
    let context = liveapi::Context::new(clock.clone(), Arc::new(liveapi::request::OsEntropy));
    let client = client_with(&emulator, 1, Client::builder().context(context));
    let outbox = builder
        .clock(clock.clone())
        .retry_backoff(Duration::from_secs(1), Duration::from_secs(10))
        .build();
    let registrar = super::client(&emulator, 1);
    let uid = user(&registrar, "ada").await;
    // Made on this machine, so dated by its clock.
    let change = credit(&client, &uid, "clock-ahead-1", 5);
    outbox.enqueue(&change).await.unwrap();

    // Refused for the clock: pending, due again at the first, short backoff, by the wrong
    // clock: two days from the right time.
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.retry), (1, 1), "{report:?}");
    let entry = outbox.get(change.request_id()).await.unwrap().unwrap();
    assert!(
        entry.last_error().unwrap().starts_with("clock: "),
        "{entry:?}"
    );
    match entry.state() {
        State::Pending {
            next_attempt_at, ..
        } => {
            assert!(*next_attempt_at > right + TWO_DAYS, "{entry:?}");
            assert!(*next_attempt_at <= right + TWO_DAYS + Duration::from_secs(2));
        }
        other => panic!("{other:?}"),
    }
    assert!(applied_counts(&emulator).is_empty());

    // The clock is put right: the first drain sends it, and it is applied.
    clock.set(right);
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.applied), (1, 1), "{report:?}");
    assert_applied_once(&emulator, &["clock-ahead-1".to_owned()]);

    // Another outbox scheduled a retry an hour ahead (its backoff allows it); this one's
    // longest backoff is 10 s: read by it, the entry is due 10 s from now, not in an hour.
    let patient = second
        .clock(clock.clone())
        .retry_backoff(Duration::from_secs(3_600), Duration::from_secs(3_600))
        .build();
    let hasty = &outbox;
    let later = credit(&client, &uid, "clock-ahead-2", 1);
    patient.enqueue(&later).await.unwrap();
    emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();
    let report = patient.drain_once(&client).await.unwrap();
    assert_eq!(report.retry, 1, "{report:?}");
    emulator.set_faults(Faults::none()).unwrap();
    let due = match patient
        .get(later.request_id())
        .await
        .unwrap()
        .unwrap()
        .state()
    {
        State::Pending {
            next_attempt_at, ..
        } => *next_attempt_at,
        other => panic!("{other:?}"),
    };
    assert!(due >= right + Duration::from_secs(1_800), "{due:?}");
    assert_eq!(hasty.drain_once(&client).await.unwrap().sent, 0);
    let due = match hasty
        .get(later.request_id())
        .await
        .unwrap()
        .unwrap()
        .state()
    {
        State::Pending {
            next_attempt_at, ..
        } => *next_attempt_at,
        other => panic!("{other:?}"),
    };
    assert_eq!(due, right + Duration::from_secs(10));
    clock.advance(Duration::from_secs(10));
    let report = hasty.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.applied), (1, 1), "{report:?}");
    assert_applied_once(
        &emulator,
        &["clock-ahead-1".to_owned(), "clock-ahead-2".to_owned()],
    );
}

/// An entry driven into reconciliation (its resend window passed) is resolved by a person as
/// not applied and re-issued: the drain applies the new request id once and never the old;
/// both entries show the link; nothing is deleted, and a resolution is final.
pub(crate) async fn a_resolved_entry_is_reissued_once_and_never_resent(outbox: &Outbox) {
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let fresh = credit(&client, &uid, "stale-1", 5);
    let stale = PendingChange::new(
        fresh.request().clone(),
        SystemTime::now() - Duration::from_secs(48 * 3_600),
    );
    outbox.enqueue(&stale).await.unwrap();
    let applied = credit(&client, &uid, "fine-1", 1);
    outbox.enqueue(&applied).await.unwrap();
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!(
        (report.needs_reconciliation, report.applied),
        (1, 1),
        "{report:?}"
    );
    let old = stale.request_id();

    // A note is required; only a change not applied is re-issued.
    assert!(matches!(
        outbox.resolve(old, Decision::NotApplied, " ", true).await,
        Err(OutboxError::Config(_))
    ));
    assert!(matches!(
        outbox
            .resolve(old, Decision::Applied, "checked", true)
            .await,
        Err(OutboxError::Config(_))
    ));
    // Only an entry needing reconciliation is resolved.
    assert!(matches!(
        outbox
            .resolve(applied.request_id(), Decision::Applied, "checked", false)
            .await,
        Err(OutboxError::WrongState {
            state: "applied",
            ..
        })
    ));
    let absent = RequestId::new("absent-1").unwrap();
    assert!(matches!(
        outbox
            .resolve(&absent, Decision::Applied, "checked", false)
            .await,
        Err(OutboxError::NotFound { .. })
    ));

    let before = outbox.now();
    let new_id = outbox
        .resolve(
            old,
            Decision::NotApplied,
            "ticket 7: not in the vendor's records",
            true,
        )
        .await
        .unwrap()
        .expect("re-issued");
    assert_ne!(&new_id, old);
    let resolved = outbox.get(old).await.unwrap().unwrap();
    match resolved.state() {
        State::Resolved { resolution, .. } => {
            assert_eq!(resolution.decision(), Decision::NotApplied);
            assert_eq!(resolution.note(), "ticket 7: not in the vendor's records");
            assert_eq!(resolution.reissued_as(), Some(new_id.as_str()));
            // Stored to the millisecond.
            assert!(resolution.at() + Duration::from_millis(1) > before);
        }
        other => panic!("{other:?}"),
    }
    let reissued = outbox.get(&new_id).await.unwrap().unwrap();
    assert_eq!(reissued.reissue_of(), Some(old.as_str()));
    assert!(matches!(reissued.state(), State::Pending { .. }));
    assert_eq!(reissued.change().params().len(), stale.params().len());
    assert_eq!(reissued.change().coins(), stale.coins());
    assert_eq!(reissued.change().uid(), stale.uid());

    // Resolved once only.
    assert!(matches!(
        outbox.resolve(old, Decision::Applied, "again", false).await,
        Err(OutboxError::WrongState {
            state: "resolved",
            ..
        })
    ));
    let counts = outbox.counts().await.unwrap();
    assert_eq!(
        (counts.needs_reconciliation, counts.resolved, counts.pending),
        (0, 1, 1),
        "{counts:?}"
    );

    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!((report.sent, report.applied), (1, 1), "{report:?}");
    let journal = applied_counts(&emulator);
    assert_eq!(journal.get(new_id.as_str()), Some(&1), "{journal:?}");
    assert_eq!(journal.get(old.as_str()), None, "{journal:?}");
    // Nothing more to send; the old entry is still there.
    assert_eq!(outbox.drain_once(&client).await.unwrap().sent, 0);
    assert!(outbox.get(old).await.unwrap().is_some());
    assert_eq!(outbox.counts().await.unwrap().total(), 3);
}

/// Pruning deletes what is settled and old enough, in batches; never a pending entry nor one
/// that needs reconciliation.
pub(crate) async fn prune_deletes_only_what_is_settled(builder: OutboxBuilder) {
    let clock = Arc::new(liveapi::ManualClock::new(SystemTime::now()));
    let outbox = builder.clock(clock.clone()).build();
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    for k in 0..620 {
        outbox
            .enqueue(&credit(&client, &uid, &format!("old-applied-{k:03}"), 1))
            .await
            .unwrap();
    }
    outbox
        .enqueue(&debit(&client, &uid, "old-refused", 100_000))
        .await
        .unwrap();
    let fresh = credit(&client, &uid, "stale-2", 5);
    outbox
        .enqueue(&PendingChange::new(
            fresh.request().clone(),
            SystemTime::now() - Duration::from_secs(48 * 3_600),
        ))
        .await
        .unwrap();
    let report = outbox.drain_once(&client).await.unwrap();
    assert_eq!(
        (report.applied, report.refused, report.needs_reconciliation),
        (620, 1, 1),
        "{report:?}"
    );
    clock.advance(Duration::from_secs(3_600));
    outbox
        .enqueue(&credit(&client, &uid, "recent-pending", 1))
        .await
        .unwrap();
    // Nothing settled before an hour ago: nothing deleted.
    let an_hour_ago = outbox.now() - Duration::from_secs(3_601);
    assert_eq!(outbox.prune(an_hour_ago).await.unwrap(), 0);
    let deleted = outbox.prune(outbox.now()).await.unwrap();
    assert_eq!(deleted, 621);
    let counts = outbox.counts().await.unwrap();
    assert_eq!(
        (
            counts.applied,
            counts.refused,
            counts.needs_reconciliation,
            counts.pending
        ),
        (0, 0, 1, 1),
        "{counts:?}"
    );
}

/// `wait_settled` answers the entry once this process's dispatcher settled it (woken by the
/// record, not by a poll: the dispatcher polls once an hour here), `None` when the time is up
/// first, and `NotFound` for an id the outbox does not hold.
pub(crate) async fn wait_settled_is_woken_by_the_settlement(builder: OutboxBuilder) {
    let outbox = builder.poll_interval(Duration::from_secs(3_600)).build();
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let waiting = credit(&client, &uid, "waited-1", 1);
    // No dispatcher yet: still pending when the time is up.
    outbox.enqueue(&waiting).await.unwrap();
    assert!(
        outbox
            .wait_settled(waiting.request_id(), Duration::from_millis(200))
            .await
            .unwrap()
            .is_none()
    );
    let absent = RequestId::new("absent-2").unwrap();
    assert!(matches!(
        outbox
            .wait_settled(&absent, Duration::from_millis(10))
            .await,
        Err(OutboxError::NotFound { .. })
    ));
    emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_millis(300), Duration::from_millis(300)),
        )
        .unwrap();
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
    let entry = outbox
        .wait_settled(waiting.request_id(), Duration::from_secs(600))
        .await
        .unwrap()
        .expect("settled");
    assert!(matches!(entry.state(), State::Applied { .. }), "{entry:?}");
    let second = credit(&client, &uid, "waited-2", 1);
    assert_eq!(outbox.enqueue(&second).await.unwrap(), Enqueued::Added);
    let entry = outbox
        .wait_settled(second.request_id(), Duration::from_secs(600))
        .await
        .unwrap()
        .expect("settled");
    assert!(entry.is_settled());
    stop.send(()).unwrap();
    dispatcher.await.unwrap().unwrap();
    assert_applied_once(&emulator, &["waited-1".to_owned(), "waited-2".to_owned()]);
}
