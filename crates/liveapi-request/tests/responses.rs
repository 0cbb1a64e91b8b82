//! Reading answers through `Operation::parse`, whatever the headers say.

use bytes::Bytes;
use liveapi_model::ApiErrorKind;
use liveapi_model::linkv::{GetUserTokens, OpenId};
use liveapi_model::polyv::{GetDonate, Scope, UpdateCash};
use liveapi_request::{Operation, meaning};

fn response(status: u16, content_type: &str, body: &'static str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

fn balance() -> GetUserTokens {
    GetUserTokens::new(OpenId::new("42").unwrap())
}

#[test]
fn json_is_read_whatever_the_content_type() {
    for content_type in [
        "text/html",
        "text/plain;charset=gbk",
        "application/octet-stream",
        "",
    ] {
        let answer = response(
            200,
            content_type,
            r#"{"status":"200","data":{"tokens":"12"}}"#,
        );
        assert_eq!(balance().parse(&answer).unwrap().coins.get(), 12);
    }
}

#[test]
fn an_html_502_is_a_retryable_typed_error() {
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let err = balance()
        .parse(&response(502, "text/html", page))
        .unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::UnreadableAnswer);
    assert_eq!(err.http_status(), 502);
    assert!(err.body().unwrap().text().contains("502 Bad Gateway"));
    assert!(meaning::of_answer(&err, None).is_retryable());
    let err = GetDonate::new(Scope::Account)
        .parse(&response(503, "text/html", page))
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.http_status()),
        (ApiErrorKind::UnreadableAnswer, 503)
    );
}

#[test]
fn an_error_envelope_with_http_200_is_an_error() {
    let answer = response(
        200,
        "application/json",
        r#"{"status":"403","msg":"sign err","data":[]}"#,
    );
    let err = balance().parse(&answer).unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::BadSignature);
    assert!(!meaning::of_answer(&err, None).is_retryable());
}

#[test]
fn polyv_update_answers() {
    let update = UpdateCash::new(
        Scope::Account,
        liveapi_model::polyv::CashSettings::new(
            liveapi_model::polyv::Cashes::parse(["1", "2", "3", "4", "5", "6"]).unwrap(),
            "1".parse().unwrap(),
        ),
    );
    let ok = response(
        200,
        "application/json",
        r#"{"code":200,"status":"success","message":"","data":true}"#,
    );
    update.parse(&ok).unwrap();
    let limited = response(
        200,
        "application/json",
        r#"{"code":400,"status":"error","message":"qps exceeds number of calls","data":""}"#,
    );
    let err = update.parse(&limited).unwrap_err();
    assert_eq!(
        meaning::of_answer(&err, None).class(),
        meaning::Class::RateLimited
    );
}
