//! Every LinkV method of the client, end to end against the emulator on loopback.

use crate::common;

use std::collections::HashMap;

use liveapi::ErrorKind;
use liveapi::model::ApiErrorKind;
use liveapi::model::linkv::{
    ChangeReason, Coins, DeviceId, Expiration, OpenId, OrderId, Platform, RequestId, UsdCents,
    UserId,
};
use liveapi_emulator::Emulator;

fn coins(n: u64) -> Coins {
    Coins::new(n).unwrap()
}

#[tokio::test]
async fn register_login_and_a_stable_open_id() {
    let (emulator, client) = common::setup().await;
    let first = common::user(&client, "alice").await;
    let again = client
        .login_user(UserId::new("alice").unwrap())
        .await
        .unwrap();
    assert_eq!(again.open_id, first);
    assert!(!again.token.as_str().is_empty());
    assert_eq!(
        emulator
            .open_id(&emulator.linkv_app().app_key, "alice")
            .as_deref(),
        Some(first.as_str())
    );
    // A user LinkV has never seen cannot just log in.
    let err = client
        .login_user(UserId::new("nobody").unwrap())
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
}

#[tokio::test]
async fn orders_changes_and_balances() {
    let (emulator, client) = common::setup().await;
    let alice = common::user(&client, "alice").await;

    let after = client
        .complete_order(
            &alice,
            OrderId::new("order-1").unwrap(),
            coins(100),
            UsdCents::new(199),
            Platform::Ios,
        )
        .await
        .unwrap();
    assert_eq!(after.get(), 100);
    client
        .add_coins(&alice, coins(25))
        .reason(ChangeReason::new("welcome gift").unwrap())
        .await
        .unwrap();
    client.remove_coins(&alice, coins(40)).await.unwrap();
    assert_eq!(client.balance(&alice).await.unwrap().get(), 85);
    assert_eq!(
        emulator.balance(&emulator.linkv_app().app_key, alice.as_str()),
        Some(85)
    );

    // Refusals are typed, change nothing and are not retried.
    let before = emulator.requests().len();
    let err = client.remove_coins(&alice, coins(1_000)).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadParameter && e.message().contains("insufficient")),
        "{err}"
    );
    assert!(!err.is_retryable() && !err.outcome_unknown());
    assert_eq!(
        emulator.requests().len(),
        before + 1,
        "a refusal is not retried"
    );

    let err = client
        .complete_order(
            &alice,
            OrderId::new("order-1").unwrap(),
            coins(100),
            UsdCents::new(199),
            Platform::Ios,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already completed"), "{err}");

    let stranger = OpenId::new("1234567890").unwrap();
    assert!(
        client
            .balance(&stranger)
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    assert_eq!(client.balance(&alice).await.unwrap().get(), 85);
}

#[tokio::test]
async fn the_same_request_id_is_applied_once() {
    let (emulator, client) = common::setup().await;
    let alice = common::user(&client, "alice").await;
    let id = client.new_request_id().unwrap();

    for _ in 0..3 {
        client
            .add_coins(&alice, coins(10))
            .request_id(id.clone())
            .await
            .unwrap();
    }
    assert_eq!(client.balance(&alice).await.unwrap().get(), 10);

    // The same id with other parameters is refused, not applied.
    let err = client
        .add_coins(&alice, coins(11))
        .request_id(id.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("different parameters"), "{err}");

    // An order resent with its request id answers the balance of the first time.
    let order_id = client.new_request_id().unwrap();
    let order = || {
        client
            .complete_order(
                &alice,
                OrderId::new("order-7").unwrap(),
                coins(5),
                UsdCents::new(99),
                Platform::Android,
            )
            .request_id(order_id.clone())
    };
    assert_eq!(order().await.unwrap().get(), 15);
    assert_eq!(order().await.unwrap().get(), 15);

    let journal = emulator.journal();
    assert_eq!(
        journal
            .iter()
            .filter(|c| c.request_id == id.as_str())
            .count(),
        1
    );
    assert_eq!(
        journal
            .iter()
            .filter(|c| c.request_id == order_id.as_str())
            .count(),
        1
    );
}

#[tokio::test]
async fn concurrent_duplicates_apply_once() {
    let (emulator, client) = common::setup().await;
    let alice = common::user(&client, "alice").await;
    let id = client.new_request_id().unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (client, alice, id) = (client.clone(), alice.clone(), id.clone());
            tokio::spawn(async move { client.add_coins(&alice, coins(3)).request_id(id).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(client.balance(&alice).await.unwrap().get(), 3);
    assert_eq!(emulator.journal().len(), 1);
}

#[tokio::test]
async fn coins_expire_by_the_server_clock() {
    let (emulator, client) = common::setup().await;
    let alice = common::user(&client, "alice").await;
    let soon = Expiration::after_days(client.now(), 1);
    client
        .add_coins(&alice, coins(7))
        .expires_at(soon)
        .await
        .unwrap();
    client.add_coins(&alice, coins(5)).await.unwrap(); // 91 days
    assert_eq!(client.balance(&alice).await.unwrap().get(), 12);

    // Two days later by the server's clock; the client signs with the same offset so that its
    // nonces stay fresh.
    emulator
        .clock()
        .advance(std::time::Duration::from_secs(2 * 86_400));
    let later = common::client_builder(&emulator)
        .context(liveapi::Context::new(
            std::sync::Arc::new(liveapi::ManualClock::new(emulator.clock().now())),
            std::sync::Arc::new(liveapi::request::OsEntropy),
        ))
        .build()
        .unwrap();
    assert_eq!(later.balance(&alice).await.unwrap().get(), 5);
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_and_is_not_retried() {
    let emulator = common::emulator(Emulator::builder()).await;
    let app = emulator.linkv_app();
    let client = common::client_builder(&emulator)
        .linkv(
            liveapi::LinkvCredentials::builder()
                .app_id(&app.app_key)
                .secret("not-the-secret")
                .alias(&app.alias)
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = client
        .balance(&OpenId::new("1").unwrap())
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert!(matches!(
        err.kind(),
        ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadSignature
    ));
    assert_eq!(emulator.requests().len(), 1);
    assert!(!format!("{err} {err:?}").contains("not-the-secret"));
}

#[tokio::test]
async fn a_client_clock_far_off_is_a_clock_error_at_once() {
    let emulator = common::emulator(Emulator::builder()).await;
    let behind = emulator.clock().now() - std::time::Duration::from_secs(600);
    // The server's `Date` shows the clocks ten minutes apart: a fresh signature would be
    // refused too, so there is no retry.
    let client = common::client_builder(&emulator)
        .context(liveapi::Context::new(
            std::sync::Arc::new(liveapi::ManualClock::new(behind)),
            std::sync::Arc::new(liveapi::request::OsEntropy),
        ))
        .build()
        .unwrap();
    let err = client
        .balance(&OpenId::new("1").unwrap())
        .await
        .unwrap_err();
    let ErrorKind::Clock(clock) = err.kind() else {
        panic!("not a clock error: {err:?}");
    };
    assert_eq!(clock.refusal().code(), Some(400));
    assert_eq!(err.attempts(), 1);
    assert_eq!(emulator.requests().len(), 1);
    assert!(!err.outcome_unknown() && !err.is_retryable());
    // The emulator's answers carry a `Date`: the offset is measured, to the second.
    let offset = err.clock_offset().expect("a measured offset");
    assert!(!offset.is_ahead(), "{offset}");
    let secs = offset.magnitude().as_secs();
    assert!((598..=602).contains(&secs), "{offset}");
    assert!(err.to_string().contains("behind the server's"), "{err}");
}

#[tokio::test]
async fn a_client_without_linkv_says_so() {
    let emulator = common::emulator(Emulator::builder()).await;
    let polyv = emulator.polyv_app();
    let client = liveapi::Client::builder()
        .polyv(
            liveapi::PolyvCredentials::builder()
                .app_id(&polyv.app_id)
                .secret(polyv.secret.as_str())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = client
        .balance(&OpenId::new("1").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Config(liveapi::ConfigError::NotConfigured(
            liveapi::request::Vendor::Linkv
        ))
    ));
    assert_eq!(
        err.to_string(),
        "LinkV credentials are not configured on this client: give them with \
         ClientBuilder::linkv or set LIVEAPI_LINKV_APP_ID, LIVEAPI_LINKV_SECRET and \
         LIVEAPI_LINKV_BASE_URL"
    );
}

#[test]
fn configuration_from_the_environment() {
    let vars = HashMap::from([
        ("LIVEAPI_LINKV_APP_ID", "k"),
        ("LIVEAPI_LINKV_SECRET", "s3cr3t"),
        ("LIVEAPI_LINKV_ALIAS", "a"),
        ("LIVEAPI_LINKV_BASE_URL", "http://127.0.0.1:1"),
        ("LIVEAPI_MAX_ATTEMPTS", "2"),
    ]);
    let lookup = |name: &str| vars.get(name).map(|v| (*v).to_owned());
    let client = liveapi::Client::builder()
        .from_env_with(lookup)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.linkv_credentials().unwrap().alias(), Some("a"));
    assert_eq!(client.engine().retry_policy().max_attempts(), 2);
    assert!(!format!("{client:?}").contains("s3cr3t"));

    let partial = |name: &str| (name == "LIVEAPI_LINKV_APP_ID").then(|| "k".to_owned());
    let err = liveapi::Client::builder()
        .from_env_with(partial)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("LIVEAPI_LINKV_SECRET") && text.contains("LIVEAPI_LINKV_BASE_URL"),
        "{text}"
    );

    let bad = |name: &str| (name == "LIVEAPI_DEADLINE_MS").then(|| "soon".to_owned());
    assert!(
        liveapi::Client::builder()
            .from_env_with(bad)
            .unwrap_err()
            .to_string()
            .contains("LIVEAPI_DEADLINE_MS")
    );
    let none = |_: &str| None;
    assert!(matches!(
        liveapi::Client::builder()
            .from_env_with(none)
            .unwrap()
            .build(),
        Err(e) if e.is_config()
    ));
}

#[test]
fn zero_coins_are_refused_before_sending() {
    let client = liveapi::Client::builder()
        .linkv(
            liveapi::LinkvCredentials::builder()
                .app_id("k")
                .secret("s")
                .alias("a")
                .base_url("http://127.0.0.1:1")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = client
        .add_coins(&OpenId::new("1").unwrap(), Coins::ZERO)
        .request_id(RequestId::new("0123456789abcdef0123456789abcdef").unwrap())
        .expires_at(Expiration::at_unix_seconds(1_900_000_000))
        .into_pending()
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid(_)), "{err}");
}

#[tokio::test]
async fn a_device_id_goes_with_registration_and_login() {
    let (emulator, client) = common::setup().await;
    let user = client
        .register_user(
            UserId::new("dave").unwrap(),
            liveapi::model::linkv::UserName::new("Dave").unwrap(),
            liveapi::model::linkv::PortraitUri::new("https://cdn.example.com/d.png").unwrap(),
        )
        .aid(DeviceId::new("phone 1").unwrap())
        .await
        .unwrap();
    assert_eq!(user.aid.as_deref(), Some("phone 1"));
    let again = client
        .login_user(UserId::new("dave").unwrap())
        .aid(DeviceId::new("tablet-2").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (again.open_id, again.aid.as_deref()),
        (user.open_id, Some("tablet-2"))
    );
    let state = emulator.state_json();
    let users = &state["linkv"][&emulator.linkv_app().app_key]["users"];
    assert_eq!(users[0]["aid"], "tablet-2");
    // Without one, none is sent.
    let request = client
        .login_user(UserId::new("dave").unwrap())
        .into_operation();
    assert_eq!(request.aid(), None);
}

#[tokio::test]
async fn a_refund_takes_the_coins_back_once() {
    let (emulator, client) = common::setup().await;
    let alice = common::user(&client, "alice").await;
    client
        .complete_order(
            &alice,
            OrderId::new("order-1").unwrap(),
            coins(100),
            UsdCents::new(199),
            Platform::Ios,
        )
        .await
        .unwrap();
    let id = client.new_request_id().unwrap();
    let refund = || {
        client
            .refund_order(
                &alice,
                OrderId::new("order-1-refund").unwrap(),
                coins(60),
                UsdCents::new(199),
                Platform::Ios,
            )
            .request_id(id.clone())
    };
    assert_eq!(refund().await.unwrap().get(), 40);
    // Resent with its request id: answered, not applied again.
    assert_eq!(refund().await.unwrap().get(), 40);
    let journal = emulator.journal();
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[1].change, liveapi_emulator::ChangeKind::Remove);
    assert_eq!(journal[1].endpoint, "orderSuccess");
    // A refund beyond the balance is refused.
    let err = client
        .refund_order(
            &alice,
            OrderId::new("order-2-refund").unwrap(),
            coins(41),
            UsdCents::new(1),
            Platform::H5,
        )
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert_eq!(client.balance(&alice).await.unwrap().get(), 40);
}
