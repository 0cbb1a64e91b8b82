//! Responses no server should send, but proxies, bugs and attackers do: each is a typed error,
//! never a panic and never a wrong value.

use liveapi_model::linkv::{self, Balance, Coins, UserToken};
use liveapi_model::polyv::{self, DonateSettings};
use liveapi_model::{ApiErrorKind, Vendor};
use proptest::prelude::*;

fn linkv_unexpected<T: linkv::LinkvResponse + std::fmt::Debug>(status: u16, body: &[u8]) -> String {
    match linkv::decode::<T>(status, body) {
        Err(e) if e.kind() == ApiErrorKind::UnreadableAnswer => {
            assert_eq!(
                (e.vendor(), e.http_status(), e.code()),
                (Vendor::Linkv, status, None)
            );
            assert!(e.body().is_some_and(|kept| kept.len() == body.len()));
            e.reason().unwrap_or_default().to_owned()
        }
        other => panic!(
            "expected UnexpectedResponse for {:?}, got {:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)]),
            other.map_err(|e| e.to_string().chars().take(200).collect::<String>())
        ),
    }
}

fn polyv_unexpected<T: polyv::PolyvResponse + std::fmt::Debug>(status: u16, body: &[u8]) -> String {
    match polyv::decode::<T>(status, body) {
        Err(e) if e.kind() == ApiErrorKind::UnreadableAnswer => {
            assert_eq!((e.vendor(), e.http_status()), (Vendor::Polyv, status));
            e.reason().unwrap_or_default().to_owned()
        }
        other => panic!(
            "expected UnexpectedResponse for {:?}, got {:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)]),
            other.map_err(|e| e.to_string().chars().take(200).collect::<String>())
        ),
    }
}

/// A success whose `data` cannot be read: a typed error of its own (the call took effect), with
/// the body kept unless the answer carries a token.
fn linkv_unreadable<T: linkv::LinkvResponse + std::fmt::Debug>(body: &[u8]) -> String {
    match linkv::decode::<T>(200, body) {
        Err(e) if e.kind() == ApiErrorKind::UnreadableData => {
            assert_eq!(e.body().map(|kept| kept.len()), Some(body.len()));
            e.reason().unwrap_or_default().to_owned()
        }
        other => panic!(
            "expected UnexpectedData for {:?}, got {other:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    }
}

fn polyv_unreadable<T: polyv::PolyvResponse + std::fmt::Debug>(body: &[u8]) -> String {
    match polyv::decode::<T>(200, body) {
        Err(e) if e.kind() == ApiErrorKind::UnreadableData => e.to_string(),
        other => panic!(
            "expected UnexpectedData for {:?}, got {other:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    }
}

const HTML_502: &[u8] =
    b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";

#[test]
fn not_json_at_all() {
    for body in [
        &b""[..],
        b"   ",
        HTML_502,
        b"\xff\xfe\x00garbage",
        b"null",
        b"[]",
        b"\"ok\"",
        b"200",
    ] {
        linkv_unexpected::<Coins>(502, body);
        linkv_unexpected::<UserToken>(200, body);
        linkv_unexpected::<()>(200, body);
        polyv_unexpected::<()>(503, body);
        polyv_unexpected::<DonateSettings>(200, body);
    }
}

#[test]
fn html_error_pages_are_unreadable_answers_that_keep_the_body() {
    let err = linkv::decode::<Coins>(502, HTML_502).unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::UnreadableAnswer);
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
    let err = polyv::decode::<()>(502, HTML_502).unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::UnreadableAnswer);
}

#[test]
fn truncated_json() {
    let full = br#"{"data":{"tokens":"123"},"msg":"","status":"200"}"#;
    for cut in 1..full.len() {
        let result = linkv::decode::<Coins>(200, &full[..cut]);
        assert!(
            matches!(&result, Err(e) if e.kind() == ApiErrorKind::UnreadableAnswer),
            "cut at {cut}: {result:?}"
        );
    }
    let full = br#"{"code":200,"status":"success","message":"","data":true}"#;
    for cut in 1..full.len() {
        assert!(
            polyv::decode::<()>(200, &full[..cut]).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn numbers_where_strings_belong_are_read_as_text() {
    let body = br#"{"status":200,"msg":0,"data":{"token":12345,"openId":115213496111983232934,"userId":7}}"#;
    let token: UserToken = linkv::decode(200, body).unwrap();
    // A 21-digit id survives exactly: it is read from the JSON text, not through a float.
    assert_eq!(token.open_id.as_str(), "115213496111983232934");
    assert_eq!(token.token.as_str(), "12345");
}

#[test]
fn strings_where_numbers_belong() {
    let body = br#"{"status":"200","data":{"tokens":"0042"}}"#;
    assert_eq!(linkv::decode::<Coins>(200, body).unwrap().get(), 42);
    for tokens in [
        r#""12a""#, r#""""#, r#""1.5""#, r#""+1""#, "1.5", "true", "{}", "[]", "null",
    ] {
        let body = format!(r#"{{"status":"200","data":{{"tokens":{tokens}}}}}"#);
        linkv_unreadable::<Coins>(body.as_bytes());
    }
    let body = br#"{"code":"abc","status":"success","data":true}"#;
    polyv_unexpected::<()>(200, body);
}

#[test]
fn huge_numbers() {
    for tokens in [
        "9223372036854775808",
        "18446744073709551616",
        "1e400",
        r#""99999999999999999999999""#,
    ] {
        let body = format!(r#"{{"status":"200","data":{{"tokens":{tokens}}}}}"#);
        linkv_unreadable::<Coins>(body.as_bytes());
    }
    let body = br#"{"status":"200","data":{"tokens":9223372036854775807}}"#;
    assert_eq!(linkv::decode::<Coins>(200, body).unwrap(), Coins::MAX);
    let body = br#"{"status":1e400,"data":{}}"#;
    linkv_unexpected::<()>(200, body);
    let body = br#"{"code":200,"data":{"cashes":[1e30]}}"#;
    polyv_unreadable::<DonateSettings>(body);
}

#[test]
fn negative_balances() {
    for tokens in ["-1", r#""-5""#, "-9223372036854775808"] {
        let body = format!(r#"{{"status":"200","data":{{"tokens":{tokens}}}}}"#);
        let reason = linkv_unreadable::<Coins>(body.as_bytes());
        assert!(reason.contains("negative"), "{reason}");
    }
    let body = br#"{"code":200,"data":{"cashMin":-0.5}}"#;
    polyv_unreadable::<DonateSettings>(body);
}

#[test]
fn deeply_nested_json() {
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let body = format!(r#"{{"status":"200","data":{{"tokens":{nested}}}}}"#);
    linkv_unreadable::<Coins>(body.as_bytes());
    let body = format!(r#"{{"code":200,"data":{nested}}}"#);
    polyv_unreadable::<DonateSettings>(body.as_bytes());
    // In an informative field the nesting is skipped over without recursion, and ignored.
    let body = format!(r#"{{"code":200,"status":"success","message":{nested},"data":true}}"#);
    assert_eq!(polyv::decode::<()>(200, body.as_bytes()), Ok(()));
}

#[test]
fn success_without_the_data_the_call_returns() {
    for data in [
        "",
        r#","data":[]"#,
        r#","data":null"#,
        r#","data":"""#,
        r#","data":{}"#,
    ] {
        let body = format!(r#"{{"status":"200","msg":""{data}}}"#);
        linkv_unreadable::<Coins>(body.as_bytes());
        linkv_unreadable::<Balance>(body.as_bytes());
        linkv_unreadable::<UserToken>(body.as_bytes());
        // changeGold returns nothing, so any data will do.
        linkv::decode::<()>(200, body.as_bytes()).unwrap();
    }
    polyv_unreadable::<()>(br#"{"code":200,"status":"success","data":false}"#);
    polyv_unreadable::<DonateSettings>(br#"{"code":200,"status":"success","data":""}"#);
    // The updates answer `true` in the docs; other data with a code of 200 is success too.
    for data in ["true", r#""success""#, "1", r#""""#, "null", "{}"] {
        let body = format!(r#"{{"code":200,"status":"success","message":"","data":{data}}}"#);
        assert_eq!(polyv::decode::<()>(200, body.as_bytes()), Ok(()), "{data}");
    }
    assert_eq!(
        polyv::decode::<()>(200, br#"{"code":200,"status":"success"}"#),
        Ok(())
    );
}

#[test]
fn both_balance_field_names_and_unknown_fields() {
    let body = br#"{"status":200,"isMigrate":true,"extra":{"x":[1,2]},"data":{"livemeTokens":"9","isMigrate":1}}"#;
    assert_eq!(linkv::decode::<Coins>(200, body).unwrap().get(), 9);
    let body = br#"{"status":200,"data":{"tokens":3,"livemeTokens":"9"}}"#;
    assert_eq!(linkv::decode::<Coins>(200, body).unwrap().get(), 3);
}

#[test]
fn error_statuses_as_numbers_strings_and_unknown_values() {
    let err = linkv::decode::<()>(200, br#"{"status":500,"msg":"system err"}"#).unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (ApiErrorKind::ServerError, Some(500))
    );
    let err = linkv::decode::<()>(200, br#"{"status":"400","msg":"param err: uid"}"#).unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::BadParameter);
    assert_eq!(err.message(), "param err: uid");
    let err = linkv::decode::<()>(200, br#"{"status":"418","msg":{"odd":1}}"#).unwrap_err();
    assert_eq!(
        (err.kind(), err.code(), err.message()),
        (ApiErrorKind::Unrecognised, Some(418), "")
    );
    let err = polyv::decode::<()>(
        500,
        br#"{"code":500,"status":"fail","message":"boom","data":""}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.kind(), err.http_status()),
        (ApiErrorKind::ServerError, 500)
    );
    let err = polyv::decode::<()>(
        200,
        br#"{"code":200,"status":"error","message":"qps exceeds number of calls"}"#,
    );
    assert!(
        err.is_err(),
        "a status of `error` contradicts the code: not success"
    );
    let err = polyv::decode::<()>(
        200,
        br#"{"code":429,"status":"error","message":"qps exceeds number of calls","data":""}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::RateLimited);
}

#[test]
fn kept_bodies_are_bounded() {
    let body = format!("<html>{}</html>", "x".repeat(1 << 20));
    let err = linkv::decode::<Coins>(500, body.as_bytes()).unwrap_err();
    assert!(err.to_string().len() < 2048, "{}", err.to_string().len());
}

proptest! {
    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256), status in 100u16..600) {
        let _ = linkv::decode::<Coins>(status, &body);
        let _ = linkv::decode::<UserToken>(status, &body);
        let _ = linkv::decode::<()>(status, &body);
        let _ = polyv::decode::<()>(status, &body);
        let _ = polyv::decode::<DonateSettings>(status, &body);
    }

    #[test]
    fn random_json_like_text_never_panics(body in r#"[\{\}\[\]":,0-9a-zA-Z\-\.eE ]{0,200}"#) {
        let _ = linkv::decode::<Coins>(200, body.as_bytes());
        let _ = linkv::decode::<UserToken>(200, body.as_bytes());
        let _ = polyv::decode::<DonateSettings>(200, body.as_bytes());
    }

    #[test]
    fn random_envelopes_never_panic(
        status in prop_oneof![Just("200".to_owned()), "[0-9]{1,4}", Just("\"200\"".to_owned())],
        data in r#"[\{\}\[\]":,0-9a-zA-Z\-\.]{0,80}"#,
    ) {
        let body = format!(r#"{{"status":{status},"code":{status},"data":{data}}}"#);
        let _ = linkv::decode::<Coins>(200, body.as_bytes());
        let _ = linkv::decode::<UserToken>(200, body.as_bytes());
        let _ = polyv::decode::<DonateSettings>(200, body.as_bytes());
        let _ = polyv::decode::<()>(200, body.as_bytes());
    }
}

#[test]
fn a_token_answer_that_cannot_be_read_keeps_no_token_in_the_error() {
    for (body, retryable) in [
        // An empty open id.
        (
            &br#"{"status":"200","data":{"token":"LIVE-TOKEN-SECRET-123","openId":""}}"#[..],
            false,
        ),
        // The open id missing.
        (
            br#"{"status":"200","data":{"token":"LIVE-TOKEN-SECRET-123"}}"#,
            false,
        ),
        // Cut off in the middle: whether it was applied is unknown.
        (
            br#"{"status":"200","data":{"token":"LIVE-TOKEN-SECRET-123","op"#,
            true,
        ),
        // A token of the wrong type: the error names the field, not its value.
        (
            br#"{"status":"200","data":{"token":{"v":"LIVE-TOKEN-SECRET-123"},"openId":"1"}}"#,
            false,
        ),
        (
            br#"{"status":"200","data":{"token":["LIVE-TOKEN-SECRET-123"],"openId":"1"}}"#,
            false,
        ),
        // An open id of the wrong type next to the token.
        (
            br#"{"status":"200","data":{"token":"LIVE-TOKEN-SECRET-123","openId":{"LIVE-TOKEN-SECRET":1}}}"#,
            false,
        ),
        // `data` that is not an object at all.
        (
            br#"{"status":"200","data":"LIVE-TOKEN-SECRET-123"}"#,
            false,
        ),
        (
            br#"{"status":"200","data":{"token":"LIVE-TOKEN-SECRET-123","openId":"1","aid":{"x":"LIVE-TOKEN-SECRET"}}"#,
            true,
        ),
    ] {
        let err = linkv::decode::<UserToken>(200, body).unwrap_err();
        let text = format!("{err} {err:?}");
        let expected = if retryable {
            ApiErrorKind::UnreadableAnswer
        } else {
            ApiErrorKind::UnreadableData
        };
        assert_eq!(err.kind(), expected, "{text}");
        assert!(!text.contains("LIVE-TOKEN-SECRET"), "{text}");
        assert!(text.contains("withheld"), "{text}");
    }
    // An open id of a format this crate has never seen is the server's to choose.
    let token: UserToken = linkv::decode(
        200,
        br#"{"status":"200","data":{"token":"t","openId":"has space/and+more"}}"#,
    )
    .unwrap();
    assert_eq!(token.open_id.as_str(), "has space/and+more");
    // Answers without a secret keep their body for debugging.
    let err =
        linkv::decode::<Coins>(200, br#"{"status":"200","data":{"tokens":"x"}}"#).unwrap_err();
    assert!(err.to_string().contains(r#"\"tokens\":\"x\""#), "{err}");
}

/// Text a server might issue as an id or a token: anything at all, digits, and lengths around
/// the bound.
fn issued_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        ".{0,40}",
        "[0-9]{1,30}",
        "[ -~]{0,80}",
        "\\PC{4090,4100}",
        Just(String::new()),
    ]
}

proptest! {
    /// Values the server issues are decoded, not judged: whatever text comes as `openId`,
    /// `token` or `userId` either decodes exactly or is a typed error that is never retried
    /// (a retried `thGetToken` would issue another token each time).
    #[test]
    fn issued_ids_and_tokens_decode_or_fail_without_retry(
        open_id in issued_text(),
        token in issued_text(),
        user_id in issued_text(),
        open_id_as_number in any::<bool>(),
    ) {
        let open_id_json = if open_id_as_number && !open_id.is_empty() && open_id.bytes().all(|b| b.is_ascii_digit()) && !open_id.starts_with('0') {
            open_id.clone()
        } else {
            serde_json::to_string(&open_id).unwrap()
        };
        let body = format!(
            r#"{{"status":"200","msg":"","data":{{"token":{},"openId":{open_id_json},"userId":{},"aid":""}}}}"#,
            serde_json::to_string(&token).unwrap(),
            serde_json::to_string(&user_id).unwrap(),
        );
        match linkv::decode::<UserToken>(200, body.as_bytes()) {
            Ok(answer) => {
                prop_assert_eq!(answer.open_id.as_str(), open_id.as_str());
                prop_assert_eq!(answer.token.as_str(), token.as_str());
                prop_assert_eq!(answer.user_id.as_deref(), Some(user_id.as_str()));
            }
            Err(err) => {
                prop_assert_eq!(err.kind(), ApiErrorKind::UnreadableData, "{}", err);
                let out_of_bounds = |t: &str| t.is_empty() || t.len() > 4096;
                prop_assert!(out_of_bounds(&open_id) || out_of_bounds(&token));
                // The token never shows in the error.
                let text = format!("{err} {err:?}");
                prop_assert!(token.len() < 8 || !text.contains(&token));
            }
        }
    }

    /// The same for a balance answer's informative `isMigrate`, and for order ids sent back.
    #[test]
    fn is_migrate_of_any_kind_never_breaks_a_balance(flag in prop_oneof![
        Just("true".to_owned()), Just("false".to_owned()), Just("null".to_owned()),
        "-?[1-9][0-9]{0,4}", Just("0".to_owned()), any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("{\"x\":1}".to_owned()), Just("[1]".to_owned()),
    ]) {
        let body = format!(r#"{{"status":"200","data":{{"tokens":"5","isMigrate":{flag}}}}}"#);
        let balance: Balance = linkv::decode(200, body.as_bytes()).unwrap();
        prop_assert_eq!(balance.coins.get(), 5);
    }
}
