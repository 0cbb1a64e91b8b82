//! Timeouts, deadlines, size limits, retries of server errors, the Polyv rate limit and the
//! bound on connections, against a local server that misbehaves on purpose.

mod support;

use std::time::Duration;

use bytes::Bytes;
use liveapi_request::model::ApiErrorKind;
use liveapi_request::model::linkv::{GetUserTokens, OpenId};
use liveapi_request::model::polyv::{GetDonate, Scope};
use liveapi_request::retry::RetryPolicy;
use liveapi_request::{AttemptError, RateLimit, TransportErrorKind};
use liveapi_request::{LinkvCredentials, PolyvCredentials};
use support::{BALANCE_7, Behavior};

fn linkv(server: &support::TestServer) -> LinkvCredentials {
    support::linkv_creds(&format!("http://{}", server.addr))
}

fn balance() -> GetUserTokens {
    GetUserTokens::new(OpenId::new("42").unwrap())
}

fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

#[tokio::test]
async fn a_silent_server_times_out_each_attempt_and_every_attempt_is_made() {
    let server = support::start(Behavior::Hang, None).await;
    let caller = support::caller()
        .attempt_timeout(Duration::from_millis(150))
        .retry_policy(quick_retries(3))
        .build()
        .unwrap();
    let err = caller
        .execute(&balance(), &linkv(&server))
        .await
        .unwrap_err();
    assert_eq!(support::transport_kind(&err), TransportErrorKind::Timeout);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn the_deadline_ends_the_call_whatever_the_attempt_timeout() {
    let server = support::start(Behavior::Hang, None).await;
    let caller = support::caller()
        .attempt_timeout(Duration::from_secs(3600))
        .deadline(Duration::from_millis(200))
        .retry_policy(quick_retries(10))
        .build()
        .unwrap();
    let err = caller
        .execute(&balance(), &linkv(&server))
        .await
        .unwrap_err();
    assert_eq!(support::transport_kind(&err), TransportErrorKind::Timeout);
    assert_eq!(
        server.requests(),
        1,
        "no time was left for a second attempt"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_fails_without_retrying() {
    let body = Bytes::from(vec![b' '; 64 * 1024]);
    let server = support::start(Behavior::Respond(200, body), None).await;
    let caller = support::caller()
        .max_body_bytes(1024)
        .retry_policy(quick_retries(4))
        .build()
        .unwrap();
    let err = caller
        .execute(&balance(), &linkv(&server))
        .await
        .unwrap_err();
    assert_eq!(
        support::transport_kind(&err),
        TransportErrorKind::BodyTooLarge
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn an_html_502_is_retried_and_then_reported_with_its_body() {
    let page = Bytes::from_static(b"<html><h1>502 Bad Gateway</h1></html>");
    let server = support::start(Behavior::Respond(502, page), None).await;
    let caller = support::caller()
        .retry_policy(quick_retries(3))
        .build()
        .unwrap();
    let err = caller
        .execute(&balance(), &linkv(&server))
        .await
        .unwrap_err();
    match err.into_last() {
        AttemptError::Api { error, .. } => {
            assert_eq!(error.kind(), ApiErrorKind::UnreadableAnswer);
            assert_eq!(error.http_status(), 502);
            assert!(error.body().unwrap().text().contains("Bad Gateway"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bind and drop: nothing listens on the port afterwards.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let creds = support::linkv_creds(&format!("http://127.0.0.1:{port}"));
    let caller = support::caller()
        .retry_policy(quick_retries(2))
        .build()
        .unwrap();
    let err = caller.execute(&balance(), &creds).await.unwrap_err();
    assert_eq!(support::transport_kind(&err), TransportErrorKind::Connect);
}

#[tokio::test]
async fn polyv_calls_wait_for_the_client_side_limit_and_give_up_at_the_deadline() {
    let ok = Bytes::from_static(br#"{"code":200,"status":"success","message":"","data":{}}"#);
    let server = support::start(Behavior::Respond(200, ok), None).await;
    let creds = PolyvCredentials::builder()
        .app_id("app")
        .secret("secret")
        .base_url(format!("http://{}", server.addr))
        .build()
        .unwrap();
    let caller = support::caller()
        .polyv_rate_limit(RateLimit::new(2, Duration::from_secs(3600)))
        .deadline(Duration::from_secs(5))
        .build()
        .unwrap();
    let get = GetDonate::new(Scope::Account);
    caller.execute(&get, &creds).await.unwrap();
    caller.execute(&get, &creds).await.unwrap();
    let err = caller.execute(&get, &creds).await.unwrap_err();
    assert_eq!(support::transport_kind(&err), TransportErrorKind::Throttled);
    assert_eq!(server.requests(), 2, "the third call was never sent");

    // LinkV calls do not count against Polyv's limit.
    let linkv_server = support::start(
        Behavior::Respond(200, Bytes::from_static(BALANCE_7.as_bytes())),
        None,
    )
    .await;
    let coins = caller
        .execute(&balance(), &linkv(&linkv_server))
        .await
        .unwrap();
    assert_eq!(coins.coins.get(), 7);
}

#[tokio::test]
async fn concurrent_calls_share_a_bounded_number_of_connections() {
    let server = support::start(
        Behavior::Respond(200, Bytes::from_static(BALANCE_7.as_bytes())),
        None,
    )
    .await;
    let caller = support::caller().max_in_flight(3).build().unwrap();
    let creds = linkv(&server);
    let calls = (0..60).map(|_| {
        let (caller, creds) = (caller.clone(), creds.clone());
        tokio::spawn(async move { caller.execute(&balance(), &creds).await })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(call.await.unwrap().unwrap().coins.get(), 7);
    }
    assert_eq!(server.requests(), 60);
    assert!(
        server.connections() <= 3,
        "{} connections for at most 3 calls in flight",
        server.connections()
    );
}

#[cfg(not(feature = "rustls"))]
#[tokio::test]
async fn an_https_url_without_tls_fails_clearly() {
    let creds = support::linkv_creds("https://127.0.0.1:9");
    let caller = support::caller().build().unwrap();
    let err = caller.execute(&balance(), &creds).await.unwrap_err();
    assert_eq!(support::transport_kind(&err), TransportErrorKind::NoTls);
    assert!(err.to_string().contains("no TLS"), "{err}");
}
