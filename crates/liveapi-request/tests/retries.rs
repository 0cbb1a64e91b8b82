//! The blocking retry loop re-signs every attempt, keeps the request id, stops on refusals.
//!
//! The transport here is a closure that plays back answers a real server gives (a proxy's
//! HTML 502, a dropped connection, a LinkV envelope); end-to-end retries against the emulator
//! are tested in the `liveapi` crate.

use std::cell::RefCell;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use liveapi_model::linkv::{ChangeGold, Coins, Expiration, LinkvError, OpenId, RequestId};
use liveapi_request::retry::RetryPolicy;
use liveapi_request::{
    CallError, Context, LinkvCredentials, ManualClock, SeededEntropy, call_with_retries,
};
use std::sync::Arc;

fn change() -> ChangeGold {
    ChangeGold::add(
        OpenId::new("42").unwrap(),
        RequestId::new("0123456789abcdef0123456789abcdef").unwrap(),
        Coins::new(5).unwrap(),
        Expiration::at_unix_seconds(1_800_000_000),
    )
    .unwrap()
}

fn creds() -> LinkvCredentials {
    LinkvCredentials::new("app", "secret", "alias", "http://127.0.0.1:9").unwrap()
}

fn context() -> Context {
    Context::new(
        Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )),
        Arc::new(SeededEntropy::new(3)),
    )
}

enum Answer {
    Status(u16, &'static str),
    Drop,
}

#[derive(Debug, thiserror::Error)]
#[error("connection reset")]
struct Reset;

fn play(
    answers: Vec<Answer>,
    sent: &RefCell<Vec<Vec<(String, String)>>>,
) -> impl FnMut(http::Request<Bytes>) -> Result<http::Response<Bytes>, Reset> + '_ {
    let mut answers = answers.into_iter();
    move |request| {
        sent.borrow_mut().push(
            form_urlencoded::parse(request.body())
                .into_owned()
                .collect(),
        );
        match answers.next().expect("no more answers") {
            Answer::Drop => Err(Reset),
            Answer::Status(status, body) => Ok(http::Response::builder()
                .status(status)
                .body(Bytes::from_static(body.as_bytes()))
                .unwrap()),
        }
    }
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> &'a str {
    &params.iter().find(|(k, _)| k == key).unwrap().1
}

#[test]
fn transient_failures_are_retried_with_fresh_signatures() {
    let sent = RefCell::new(Vec::new());
    let mut transport = play(
        vec![
            Answer::Status(502, "<html>Bad Gateway</html>"),
            Answer::Drop,
            Answer::Status(200, r#"{"status":"500","msg":"system err"}"#),
            Answer::Status(200, r#"{"status":"200","msg":""}"#),
        ],
        &sent,
    );
    let mut pauses = Vec::new();
    let policy = RetryPolicy::default().with_max_attempts(4);
    call_with_retries(
        &change(),
        &creds(),
        &context(),
        &mut transport,
        &policy,
        |d| pauses.push(d),
    )
    .unwrap();

    drop(transport);
    let sent = sent.into_inner();
    assert_eq!(sent.len(), 4);
    assert_eq!(pauses.len(), 3);
    let nonces: std::collections::HashSet<_> = sent.iter().map(|p| param(p, "nonce_str")).collect();
    assert_eq!(nonces.len(), 4, "every attempt has its own nonce");
    assert!(
        sent.iter()
            .all(|p| param(p, "request_id") == "0123456789abcdef0123456789abcdef")
    );
}

#[test]
fn a_refusal_is_not_retried() {
    let sent = RefCell::new(Vec::new());
    let mut transport = play(
        vec![Answer::Status(200, r#"{"status":"403","msg":"sign err"}"#)],
        &sent,
    );
    let err = call_with_retries(
        &change(),
        &creds(),
        &context(),
        &mut transport,
        &RetryPolicy::default(),
        |_| panic!("must not pause"),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        CallError::Api(LinkvError::BadSignature { .. })
    ));
    assert_eq!(sent.borrow().len(), 1);
}

#[test]
fn retries_stop_at_the_limit_with_the_last_error() {
    let sent = RefCell::new(Vec::new());
    let mut transport = play((0..3).map(|_| Answer::Drop).collect(), &sent);
    let policy = RetryPolicy::default().with_max_attempts(3);
    let err = call_with_retries(
        &change(),
        &creds(),
        &context(),
        &mut transport,
        &policy,
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, CallError::Transport(Reset)));
    assert_eq!(sent.borrow().len(), 3);
}
