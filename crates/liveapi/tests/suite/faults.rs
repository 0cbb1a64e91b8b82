//! Retries through every fault the emulator can inject: each change is applied exactly once,
//! and a call that ran out of attempts converges when sent again with its request id.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use liveapi::RetryPolicy;
use liveapi::model::linkv::{Coins, OpenId};
use liveapi_emulator::{Emulator, FaultKind, Faults, RunningEmulator};

fn coins(n: u64) -> Coins {
    Coins::new(n).unwrap()
}

/// How many times each request id was applied.
fn applications(emulator: &RunningEmulator) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for change in emulator.journal() {
        *seen.entry(change.request_id).or_default() += 1;
    }
    seen
}

async fn register(client: &liveapi::Client) -> OpenId {
    common::user(client, "alice").await
}

#[tokio::test]
async fn every_fault_kind_is_retried_and_nothing_is_applied_twice() {
    for kind in FaultKind::ALL {
        let faults = Faults::new(0.4)
            .only_kind(kind)
            .with_latency(Duration::from_millis(1), Duration::from_millis(10));
        let emulator = common::emulator(Emulator::builder().seed(11).faults(faults)).await;
        let client = common::client_builder(&emulator).build().unwrap();
        let alice = register(&client).await;

        let mut ids = Vec::new();
        for value in 1..=15 {
            let id = client.new_request_id().unwrap();
            client
                .add_coins(&alice, coins(value))
                .request_id(id.clone())
                .await
                .unwrap_or_else(|e| panic!("{kind}: +{value} failed: {e}"));
            ids.push(id);
        }
        let order = client
            .complete_order(
                &alice,
                liveapi::model::linkv::OrderId::new("order-1").unwrap(),
                coins(1000),
                liveapi::model::linkv::UsdCents::new(999),
                liveapi::model::linkv::Platform::H5,
            )
            .await
            .unwrap_or_else(|e| panic!("{kind}: order failed: {e}"));
        assert_eq!(order.get(), 1120, "{kind}");
        assert_eq!(client.balance(&alice).await.unwrap().get(), 1120, "{kind}");

        let applied = applications(&emulator);
        assert_eq!(applied.len(), 16, "{kind}: every change applied");
        assert!(applied.values().all(|&n| n == 1), "{kind}: {applied:?}");
        assert!(
            emulator.fault_stats().count(kind) > 0,
            "{kind} was never injected"
        );
        emulator.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_timed_out_change_converges_when_resent_with_its_request_id() {
    // Every request waits 600 ms before it is handled, far past the client's 100 ms.
    let slow = Faults::new(1.0)
        .only_kind(FaultKind::Latency)
        .with_latency(Duration::from_millis(600), Duration::from_millis(600));
    let emulator = common::emulator(Emulator::builder().seed(3)).await;
    let client = common::client_builder(&emulator)
        .attempt_timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::default().with_max_attempts(2))
        .build()
        .unwrap();
    let alice = register(&client).await;
    emulator.set_faults(slow).unwrap();

    let id = client.new_request_id().unwrap();
    let err = client
        .add_coins(&alice, coins(42))
        .request_id(id.clone())
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.outcome_unknown(), "{err}");

    // The server is fast again; the same request id settles what happened.
    emulator.set_faults(Faults::none()).unwrap();
    client
        .add_coins(&alice, coins(42))
        .request_id(id.clone())
        .await
        .unwrap();
    // Let the delayed attempts finish on the server before counting.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(client.balance(&alice).await.unwrap().get(), 42);
    assert_eq!(applications(&emulator).get(id.as_str()), Some(&1));
}

#[tokio::test]
async fn without_retries_a_reset_after_apply_leaves_an_unknown_outcome_that_a_resend_settles() {
    let emulator = common::emulator(Emulator::builder().seed(5)).await;
    let client = common::client_builder(&emulator)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let alice = register(&client).await;
    emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();

    let id = client.new_request_id().unwrap();
    let err = client
        .add_coins(&alice, coins(9))
        .request_id(id.clone())
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    // It was applied although the client never heard so.
    assert_eq!(applications(&emulator).get(id.as_str()), Some(&1));

    emulator.set_faults(Faults::none()).unwrap();
    client
        .add_coins(&alice, coins(9))
        .request_id(id.clone())
        .await
        .unwrap();
    assert_eq!(client.balance(&alice).await.unwrap().get(), 9);
    assert_eq!(applications(&emulator).get(id.as_str()), Some(&1));
}
