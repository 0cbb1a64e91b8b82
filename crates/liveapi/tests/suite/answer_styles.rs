//! The client against the emulator in both of its LinkV answer styles: errors in HTTP 200
//! answers with `text/html` (the real server's, the default) and errors with the matching HTTP
//! status and JSON. Every error is typed by the body's `status`, the same in both.

use crate::common;

use std::time::Duration;

use liveapi::model::ApiErrorKind;
use liveapi::model::linkv::{Coins, OrderId, Platform, UsdCents};
use liveapi::{ErrorKind, LinkvCredentials};
use liveapi_emulator::{ClockStart, Emulator, EmulatorBuilder};

fn coins(n: u64) -> Coins {
    Coins::new(n).unwrap()
}

fn styles() -> [(&'static str, EmulatorBuilder); 2] {
    [
        ("HTTP 200 errors, text/html", Emulator::builder()),
        (
            "HTTP status errors, JSON",
            Emulator::builder()
                .linkv_error_http_status(true)
                .linkv_json_content_type(true),
        ),
    ]
}

#[tokio::test]
async fn every_error_is_typed_by_its_status_in_both_styles() {
    for (style, builder) in styles() {
        let emulator = common::emulator(builder.seed(3)).await;
        let client = common::client_builder(&emulator).build().unwrap();
        let alice = common::user(&client, "alice").await;
        client
            .complete_order(
                &alice,
                OrderId::new("order-1").unwrap(),
                coins(10),
                UsdCents::new(99),
                Platform::Ios,
            )
            .await
            .unwrap();

        // 400: a ledger refusal, not retried, nothing unknown about it.
        let before = emulator.requests().len();
        let err = client.remove_coins(&alice, coins(11)).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadParameter),
            "{style}: {err}"
        );
        assert!(err.is_invalid_input() && !err.is_retryable() && !err.outcome_unknown());
        assert_eq!(emulator.requests().len(), before + 1, "{style}");

        // 403: the documented `sign err`.
        let app = emulator.linkv_app();
        let wrong = common::client_builder(&emulator)
            .linkv(
                LinkvCredentials::builder()
                    .app_id(&app.app_key)
                    .secret("wrong")
                    .alias(&app.alias)
                    .base_url(emulator.base_url())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let err = wrong.balance(&alice).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadSignature && e.message() == "sign err"),
            "{style}: {err}"
        );
        assert!(err.is_auth() && !err.is_retryable());

        // An order completed twice.
        let err = client
            .complete_order(
                &alice,
                OrderId::new("order-1").unwrap(),
                coins(10),
                UsdCents::new(99),
                Platform::Ios,
            )
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{style}: {err}");
        assert_eq!(client.balance(&alice).await.unwrap().get(), 10, "{style}");
        emulator.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_stale_nonce_is_recognised_by_the_servers_date_in_both_styles() {
    for (style, builder) in styles() {
        // The emulator's clock ten minutes ahead of the client's: every nonce is stale.
        let emulator =
            common::emulator(builder.clock(ClockStart::Ahead(Duration::from_secs(600)))).await;
        let client = common::client_builder(&emulator)
            .retry_policy(liveapi::RetryPolicy::default().with_max_attempts(1))
            .build()
            .unwrap();
        let err = client
            .login_user(liveapi::model::linkv::UserId::new("alice").unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Clock(clock)
                if clock.refusal().kind() == ApiErrorKind::BadParameter),
            "{style}: {err}"
        );
        emulator.shutdown().await.unwrap();
    }
}
