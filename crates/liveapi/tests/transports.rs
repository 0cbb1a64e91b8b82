//! The client over each transport: hyper (the default), `reqwest`, a `tower` service with a
//! layer of the caller's own, and a closure. Each gets the same engine: retries through
//! injected faults with the same request id, the deadline, and the Polyv rate limit.
#![cfg(all(feature = "reqwest", feature = "tower"))]

mod common;

/// The transport of the clients `common` builds.
const TRANSPORT: common::Transport = common::Transport::Hyper;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use liveapi::model::linkv::{Coins, OrderId, Platform, UsdCents};
use liveapi::model::polyv::{CashSettings, Cashes, ChannelId, Scope};
use liveapi::transport::{
    AsyncHttpSend, HyperTransport, ReqwestTransport, TowerTransport, TransportError,
};
use liveapi::{Client, ClientBuilder, RateLimit};
use liveapi_emulator::{Emulator, FaultKind, FaultWeights, Faults, RunningEmulator};

/// The transports under test, by name.
const TRANSPORTS: [&str; 4] = ["hyper", "reqwest", "tower", "closure"];

/// A client of `emulator` sending through the transport named `name`, and a counter of the
/// requests that passed through the caller's own layer (tower and closure only).
fn over(emulator: &RunningEmulator, name: &str) -> (ClientBuilder, Arc<AtomicUsize>) {
    let builder = common::client_builder(emulator);
    let seen = Arc::new(AtomicUsize::new(0));
    let builder = match name {
        "hyper" => builder,
        "reqwest" => builder.transport(ReqwestTransport::new(common::reqwest_client())),
        "tower" => {
            let inner = HyperTransport::builder().build().unwrap();
            let counter = seen.clone();
            // A layer of the caller's own under the engine: it sees every attempt.
            let service = tower::ServiceBuilder::new()
                .map_request(move |request: http::Request<Bytes>| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    request
                })
                .service_fn(move |request| {
                    let inner = inner.clone();
                    async move { inner.send(request).await }
                });
            builder.transport(TowerTransport::new(service))
        }
        "closure" => {
            let inner = HyperTransport::builder().build().unwrap();
            let counter = seen.clone();
            builder.transport(move |request: http::Request<Bytes>| {
                counter.fetch_add(1, Ordering::SeqCst);
                let inner = inner.clone();
                async move { inner.send(request).await }
            })
        }
        other => panic!("no transport {other}"),
    };
    (builder, seen)
}

#[tokio::test]
async fn every_call_over_every_transport() {
    for name in TRANSPORTS {
        let emulator = common::emulator(Emulator::builder()).await;
        let (builder, _) = over(&emulator, name);
        let client = builder.build().unwrap();
        let alice = common::user(&client, "alice").await;
        let after = client
            .complete_order(
                &alice,
                OrderId::new("order-1").unwrap(),
                Coins::new(100).unwrap(),
                UsdCents::new(199),
                Platform::Ios,
            )
            .await
            .unwrap();
        assert_eq!(after.get(), 100, "{name}");
        client
            .remove_coins(&alice, Coins::new(30).unwrap())
            .await
            .unwrap();
        assert_eq!(client.balance(&alice).await.unwrap().get(), 70, "{name}");

        let channel = ChannelId::new(1_000_001).unwrap();
        let cashes = Cashes::parse(["0.88", "6.66", "8.88", "18.88", "66.66", "88.88"]).unwrap();
        client
            .set_cash_tips(channel, CashSettings::new(cashes, "0.5".parse().unwrap()))
            .await
            .unwrap();
        let settings = client.donate_settings(Scope::from(channel)).await.unwrap();
        assert_eq!(settings.cashes.len(), 6, "{name}");
    }
}

#[tokio::test]
async fn every_transport_gets_retries_with_the_same_request_id() {
    for name in TRANSPORTS {
        // Half of the coin calls fail: a 502 page, a reset before or after applying.
        let faults = Faults::new(0.5)
            .with_weights(
                FaultWeights::none()
                    .with(FaultKind::Http502, 1)
                    .with(FaultKind::ResetBeforeApply, 1)
                    .with(FaultKind::ResetAfterApply, 1),
            )
            .only_path("/open/finanv0/changeGold");
        let emulator = common::emulator(Emulator::builder().seed(7).faults(faults)).await;
        let (builder, seen) = over(&emulator, name);
        let client = builder.build().unwrap();
        let alice = common::user(&client, "alice").await;
        let before = seen.load(Ordering::SeqCst);
        for _ in 0..10 {
            client
                .add_coins(&alice, Coins::new(1).unwrap())
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(client.balance(&alice).await.unwrap().get(), 10, "{name}");
        let journal = emulator.journal();
        let mut ids: Vec<&str> = journal.iter().map(|c| c.request_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 10, "{name}: each change applied once");
        assert!(emulator.fault_stats().total() > 0, "{name}");
        if name == "tower" || name == "closure" {
            // Every attempt, retries included, passed through the caller's layer.
            let attempts = seen.load(Ordering::SeqCst) - before;
            assert!(attempts > 11, "{name}: {attempts} attempts for 11 calls");
        }
    }
}

#[tokio::test]
async fn every_transport_gets_the_deadline_and_the_polyv_limit() {
    for name in TRANSPORTS {
        let faults = Faults::new(1.0)
            .only_kind(FaultKind::Latency)
            .with_latency(Duration::from_secs(5), Duration::from_secs(5))
            .only_path("/open/finanv0/getUserTokens");
        let emulator = common::emulator(Emulator::builder().faults(faults)).await;
        let (builder, _) = over(&emulator, name);
        let client: Client = builder
            .attempt_timeout(Duration::from_millis(200))
            .deadline(Duration::from_millis(500))
            .polyv_rate_limit(RateLimit::new(2, Duration::from_secs(3600)).unwrap())
            .build()
            .unwrap();
        let alice = common::user(&client, "alice").await;
        let started = tokio::time::Instant::now();
        let err = client.balance(&alice).await.unwrap_err();
        assert!(err.is_timeout(), "{name}: {err}");
        assert!(started.elapsed() < Duration::from_secs(3), "{name}");

        let get = || client.donate_settings(Scope::Account);
        get().await.unwrap();
        get().await.unwrap();
        let err = get().await.unwrap_err();
        assert!(err.is_rate_limited(), "{name}: {err}");
    }
}

#[tokio::test]
async fn a_transport_error_keeps_its_kind_through_a_tower_service() {
    let emulator = common::emulator(Emulator::builder()).await;
    let service = tower::service_fn(|_request: http::Request<Bytes>| async {
        Err::<http::Response<Bytes>, _>(TransportError::new(
            liveapi::transport::TransportErrorKind::Connect,
        ))
    });
    let client = common::client_builder(&emulator)
        .transport(TowerTransport::new(service))
        .retry_policy(liveapi::RetryPolicy::never())
        .build()
        .unwrap();
    let err = client
        .balance(&liveapi::model::linkv::OpenId::new("1").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), liveapi::ErrorKind::Transport(e) if e.kind() == liveapi::transport::TransportErrorKind::Connect),
        "{err:?}"
    );
    assert!(!err.outcome_unknown());
}

#[test]
fn settings_of_the_default_transport_with_another_is_an_error() {
    let err = Client::builder()
        .polyv(
            liveapi::PolyvCredentials::builder()
                .app_id("app")
                .secret("secret")
                .build()
                .unwrap(),
        )
        .max_in_flight(3)
        .transport(ReqwestTransport::new(common::reqwest_client()))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            liveapi::ErrorKind::Config(liveapi::ConfigError::TransportSettingsIgnored)
        ),
        "{err}"
    );
}
