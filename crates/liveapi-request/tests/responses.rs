//! Reading answers through `Operation::parse`, whatever the headers say.

use bytes::Bytes;
use liveapi_model::linkv::{GetUserTokens, LinkvError, OpenId};
use liveapi_model::polyv::{GetDonate, PolyvError, Scope, UpdateCash};
use liveapi_request::Operation;

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
    match &err {
        LinkvError::UnexpectedResponse {
            http_status, body, ..
        } => {
            assert_eq!(*http_status, 502);
            assert!(body.text().contains("502 Bad Gateway"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    let err = GetDonate::new(Scope::Account)
        .parse(&response(503, "text/html", page))
        .unwrap_err();
    assert!(matches!(
        err,
        PolyvError::UnexpectedResponse {
            http_status: 503,
            ..
        }
    ));
}

#[test]
fn an_error_envelope_with_http_200_is_an_error() {
    let answer = response(
        200,
        "application/json",
        r#"{"status":"403","msg":"sign err","data":[]}"#,
    );
    let err = balance().parse(&answer).unwrap_err();
    assert!(matches!(err, LinkvError::BadSignature { .. }));
    assert!(!err.is_retryable());
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
    assert!(update.parse(&limited).unwrap_err().is_rate_limited());
}
