//! A coin change resent later: across midnight, after the resend window, after the server
//! forgot its request id, from a stored pending change, by another process. The client and
//! the emulator share one manual time, moved by the test.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liveapi::model::ApiErrorKind;
use liveapi::model::linkv::{Coins, OpenId, PendingChange, RequestId};
use liveapi::{Client, Context, ErrorKind, ManualClock};
use liveapi_emulator::{ClockStart, Emulator, RunningEmulator};

/// 23:40 UTC on some day.
fn late_evening() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 / 86_400 * 86_400 + 23 * 3_600 + 40 * 60)
}

/// An emulator frozen at `at`, and a way to make clients whose clock is `at`.
async fn frozen(at: SystemTime) -> RunningEmulator {
    common::emulator(Emulator::builder().clock(ClockStart::FrozenAt(at))).await
}

fn client_at(emulator: &RunningEmulator, at: SystemTime) -> Client {
    common::client_builder(emulator)
        .context(Context::new(
            Arc::new(ManualClock::new(at)),
            Arc::new(liveapi::request::OsEntropy),
        ))
        .build()
        .unwrap()
}

fn applied(emulator: &RunningEmulator, id: &RequestId) -> usize {
    emulator
        .journal()
        .iter()
        .filter(|c| c.request_id == id.as_str())
        .count()
}

async fn user(client: &Client) -> OpenId {
    common::user(client, "alice").await
}

#[tokio::test]
async fn a_change_resent_after_midnight_with_its_id_alone_is_applied_once() {
    let evening = late_evening();
    let emulator = frozen(evening).await;
    let first = client_at(&emulator, evening);
    let alice = user(&first).await;
    let id = first.new_request_id().unwrap();
    first
        .add_coins(&alice, Coins::new(7).unwrap())
        .request_id(id.clone())
        .await
        .unwrap();

    // 00:40 the next day, from a restarted process that kept only the request id.
    let next_day = evening + Duration::from_secs(3_600);
    emulator.clock().set(next_day);
    let restarted = client_at(&emulator, next_day);
    restarted
        .add_coins(&alice, Coins::new(7).unwrap())
        .request_id(id.clone())
        .await
        .unwrap();
    assert_eq!(restarted.balance(&alice).await.unwrap().get(), 7);
    assert_eq!(applied(&emulator, &id), 1);
}

#[tokio::test]
async fn a_change_past_the_resend_window_is_refused_with_nothing_sent() {
    let evening = late_evening();
    let emulator = frozen(evening).await;
    let first = client_at(&emulator, evening);
    let alice = user(&first).await;
    let change = first
        .add_coins(&alice, Coins::new(7).unwrap())
        .into_pending()
        .unwrap();
    first.send_change(&change).await.unwrap();

    // 13 hours later: past the default window of 12.
    let later = evening + Duration::from_secs(13 * 3_600);
    emulator.clock().set(later);
    let before = emulator.requests().len();
    let err = client_at(&emulator, later)
        .send_change(&change)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ResendWindowPassed { age, window }
            if *age == Duration::from_secs(13 * 3_600) && *window == Duration::from_secs(12 * 3_600)),
        "{err:?}"
    );
    assert!(err.needs_reconciliation() && !err.outcome_unknown() && !err.is_retryable());
    assert_eq!(err.pending_change(), Some(&change));
    assert_eq!(err.request_id(), Some(change.request_id()));
    assert!(err.to_string().contains("reconcile"), "{err}");
    assert_eq!(emulator.requests().len(), before, "nothing was sent");
    assert_eq!(applied(&emulator, change.request_id()), 1);
}

#[tokio::test]
async fn the_default_window_keeps_a_resend_from_landing_after_the_server_forgot() {
    // The emulator remembers request ids for 24 hours, like most idempotency stores.
    let evening = late_evening();
    let emulator = frozen(evening).await;
    let first = client_at(&emulator, evening);
    let alice = user(&first).await;
    let change = first
        .add_coins(&alice, Coins::new(7).unwrap())
        .into_pending()
        .unwrap();
    first.send_change(&change).await.unwrap();

    let day_later = evening + Duration::from_secs(25 * 3_600);
    emulator.clock().set(day_later);
    // With the default window the resend is refused locally…
    let err = client_at(&emulator, day_later)
        .send_change(&change)
        .await
        .unwrap_err();
    assert!(err.needs_reconciliation(), "{err}");
    assert_eq!(applied(&emulator, change.request_id()), 1);

    // …which is what stands between it and a second credit: a client that trusts the server
    // to remember for ever gets the change applied again.
    let trusting = common::client_builder(&emulator)
        .context(Context::new(
            Arc::new(ManualClock::new(day_later)),
            Arc::new(liveapi::request::OsEntropy),
        ))
        .no_resend_window()
        .build()
        .unwrap();
    trusting.send_change(&change).await.unwrap();
    assert_eq!(applied(&emulator, change.request_id()), 2);
    assert_eq!(trusting.balance(&alice).await.unwrap().get(), 14);
}

#[tokio::test]
async fn a_stored_change_is_resent_verbatim_from_another_process() {
    let now = late_evening();
    let emulator = frozen(now).await;
    let first = client_at(&emulator, now);
    let alice = user(&first).await;
    let change = first
        .complete_order(
            &alice,
            liveapi::model::linkv::OrderId::new("order-9").unwrap(),
            Coins::new(30).unwrap(),
            liveapi::model::linkv::UsdCents::new(99),
            liveapi::model::linkv::Platform::H5,
        )
        .into_pending()
        .unwrap();
    let stored = serde_json::to_string(&change).unwrap();
    assert_eq!(first.send_change(&change).await.unwrap().unwrap().get(), 30);

    // Another process, two hours later, with another coin lifetime configured: the stored
    // change still sends exactly what the first sending did.
    let later = now + Duration::from_secs(2 * 3_600);
    emulator.clock().set(later);
    let other = common::client_builder(&emulator)
        .context(Context::new(
            Arc::new(ManualClock::new(later)),
            Arc::new(liveapi::request::OsEntropy),
        ))
        .coin_lifetime_days(7)
        .build()
        .unwrap();
    let read: PendingChange = serde_json::from_str(&stored).unwrap();
    assert_eq!(read, change);
    assert_eq!(other.send_change(&read).await.unwrap().unwrap().get(), 30);
    assert_eq!(applied(&emulator, change.request_id()), 1);
}

#[tokio::test]
async fn a_different_change_under_a_used_id_is_refused_and_the_first_stays_applied_once() {
    let now = late_evening();
    let emulator = frozen(now).await;
    let client = client_at(&emulator, now);
    let alice = user(&client).await;
    let id = client.new_request_id().unwrap();
    client
        .add_coins(&alice, Coins::new(7).unwrap())
        .request_id(id.clone())
        .await
        .unwrap();
    let err = client
        .add_coins(&alice, Coins::new(8).unwrap())
        .request_id(id.clone())
        .await
        .unwrap_err();
    // The server's status (400) is what decides: a refusal of this request, never applied.
    // The emulator's words name the cause for a person; LinkV documents none, so they decide
    // nothing.
    assert!(
        matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadParameter),
        "{err:?}"
    );
    assert!(!err.needs_reconciliation() && !err.outcome_unknown() && !err.is_retryable());
    assert_eq!(err.request_id(), Some(&id));
    assert!(err.to_string().contains("request_id already used"), "{err}");
    assert_eq!(applied(&emulator, &id), 1);
}

#[tokio::test]
async fn an_unknown_outcome_keeps_the_generated_id_to_resend_with() {
    // Every coin call's answer is lost after it was applied.
    let faults = liveapi_emulator::Faults::new(1.0)
        .only_kind(liveapi_emulator::FaultKind::ResetAfterApply)
        .only_path("/open/finanv0/changeGold");
    let emulator = common::emulator(Emulator::builder().faults(faults)).await;
    let client = common::client_builder(&emulator)
        .retry_policy(liveapi::RetryPolicy::never())
        .build()
        .unwrap();
    let alice = common::user(&client, "alice").await;
    let err = client
        .add_coins(&alice, Coins::new(5).unwrap())
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    let change = err
        .pending_change()
        .expect("the change travels with the error")
        .clone();
    assert_eq!(err.request_id(), Some(change.request_id()));
    assert!(change.request_id().created_at().is_some());

    // The network heals; the change is resent as it was, and applied once.
    emulator
        .set_faults(liveapi_emulator::Faults::none())
        .unwrap();
    client.send_change(&change).await.unwrap();
    assert_eq!(client.balance(&alice).await.unwrap().get(), 5);
    assert_eq!(applied(&emulator, change.request_id()), 1);
}

#[tokio::test]
async fn an_own_id_gets_the_default_expiry_of_the_day_it_was_made_and_removals_need_none() {
    let (emulator, client) = common::setup().await;
    let alice = common::user(&client, "alice").await;
    let own = RequestId::new("order-42-credit").unwrap();
    let before = client.now();
    let credit = client
        .add_coins(&alice, Coins::new(5).unwrap())
        .request_id(own.clone())
        .into_pending()
        .unwrap();
    let after = client.now();
    // Counted from the day the change was made, and kept in the change for every resend.
    let made = credit.created_at();
    assert!(
        made + Duration::from_millis(1) >= before && made <= after,
        "{made:?}"
    );
    assert_eq!(credit.expiration(), Some(client.default_expiry(made)));
    client.send_change(&credit).await.unwrap();
    client.send_change(&credit).await.unwrap();
    assert_eq!(applied(&emulator, &own), 1);
    assert_eq!(client.balance(&alice).await.unwrap().get(), 5);
    // A removal under an id of one's own needs no expiry either.
    client
        .remove_coins(&alice, Coins::new(2).unwrap())
        .request_id(RequestId::new("gift-7").unwrap())
        .await
        .unwrap();
    assert_eq!(client.balance(&alice).await.unwrap().get(), 3);
    // A given expiry still wins.
    let given = liveapi::model::linkv::Expiration::days_from_today(client.now(), 30);
    let change = client
        .add_coins(&alice, Coins::new(1).unwrap())
        .request_id(RequestId::new("order-43-credit").unwrap())
        .expires_at(given)
        .into_pending()
        .unwrap();
    assert_eq!(change.expiration(), Some(given));
}
