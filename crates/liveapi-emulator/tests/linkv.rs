//! LinkV over real sockets: every call, every documented error, decoded by the SDK's own types.

mod common;

use std::time::Duration;

use common::*;
use liveapi_emulator::{ClockStart, Emulator};
use liveapi_model::ApiErrorKind;
use liveapi_model::linkv::{ChangeGold, Coins, GetUserTokens, OpenId, ThGetToken, UserId};
use liveapi_request::LinkvCredentials;

const T0: u64 = 1_700_000_000;

#[tokio::test]
async fn register_then_login_gives_a_stable_open_id_and_fresh_tokens() {
    let emu = start().await;
    let creds = linkv_creds(&emu);
    let first = call(&emu, &register_op("user-1"), &creds).await.unwrap();
    assert_eq!(first.open_id.as_str().len(), 19);
    assert!(first.open_id.as_str().bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(first.user_id.as_deref(), Some("user-1"));

    let login = ThGetToken::login(UserId::new("user-1").unwrap());
    let second = call(&emu, &login, &creds).await.unwrap();
    assert_eq!(second.open_id, first.open_id);
    assert_ne!(second.token, first.token);
    assert_eq!(
        emu.open_id(&emu.linkv_app().app_key, "user-1").as_deref(),
        Some(first.open_id.as_str())
    );

    // Another emulator gives the same user the same open id.
    let other = start().await;
    let again = call(&other, &register_op("user-1"), &linkv_creds(&other))
        .await
        .unwrap();
    assert_eq!(again.open_id, first.open_id);
}

#[tokio::test]
async fn first_registration_needs_name_and_portrait() {
    let emu = start().await;
    let login = ThGetToken::login(UserId::new("nobody").unwrap());
    let err = call(&emu, &login, &linkv_creds(&emu)).await.unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::BadParameter, "{err}");
    assert!(err.message().contains("name and portraitUri"), "{err}");
}

#[tokio::test]
async fn the_wire_format_has_string_status_and_string_tokens() {
    let emu = start().await;
    let uid = register(&emu, "wire").await;
    let creds = linkv_creds(&emu);
    let order = order_op(&emu, &uid, request_id(1), "ORD-1", 100);
    let reply = send_request(emu.addr(), &build(&emu, &order, &creds))
        .await
        .reply();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "200", "msg": "", "data": {"tokens": "100"}})
    );

    let change = credit_op(&emu, &uid, request_id(2), 5);
    let reply = send_request(emu.addr(), &build(&emu, &change, &creds))
        .await
        .reply();
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "200", "msg": ""})
    );
    assert_eq!(balance(&emu, &uid).await, 105);
}

#[tokio::test]
async fn parameters_are_read_from_the_query_string_too() {
    let emu = start().await;
    let uid = register(&emu, "query").await;
    call(
        &emu,
        &credit_op(&emu, &uid, request_id(1), 42),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
    let app = emu.linkv_app();
    let form = signed_linkv_form(
        &[("uid", uid.as_str())],
        &app.app_key,
        &app.app_secret,
        emu.clock().now(),
    );
    for method in ["GET", "POST"] {
        let reply = send(
            emu.addr(),
            method,
            &format!("/open/finanv0/getUserTokens?{form}"),
            &[],
            b"",
        )
        .await
        .reply();
        assert_eq!(reply.json()["data"]["tokens"], "42", "{method}");
    }
}

#[tokio::test]
async fn removals_never_go_below_zero_and_change_nothing_when_refused() {
    let emu = start().await;
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "spender").await;
    call(&emu, &credit_op(&emu, &uid, request_id(1), 10), &creds)
        .await
        .unwrap();
    let err = call(&emu, &spend_op(&emu, &uid, request_id(2), 11), &creds)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ApiErrorKind::BadParameter, "insufficient balance")
    );
    assert_eq!(balance(&emu, &uid).await, 10);
    call(&emu, &spend_op(&emu, &uid, request_id(3), 10), &creds)
        .await
        .unwrap();
    assert_eq!(balance(&emu, &uid).await, 0);
    assert_eq!(emu.journal().len(), 2);
}

#[tokio::test]
async fn a_repeated_request_id_answers_the_first_result() {
    let emu = start().await;
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "repeat").await;
    let order = order_op(&emu, &uid, request_id(1), "ORD-A", 100);
    assert_eq!(call(&emu, &order, &creds).await.unwrap().get(), 100);
    call(&emu, &credit_op(&emu, &uid, request_id(2), 5), &creds)
        .await
        .unwrap();
    // Re-signed with a fresh nonce: still the first answer, nothing applied.
    assert_eq!(call(&emu, &order, &creds).await.unwrap().get(), 100);
    assert_eq!(balance(&emu, &uid).await, 105);
    assert_eq!(emu.journal().len(), 2);

    let other = order_op(&emu, &uid, request_id(1), "ORD-A", 99);
    let err = call(&emu, &other, &creds).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.code(), err.message()),
        (
            ApiErrorKind::BadParameter,
            Some(400),
            "request_id already used with different parameters"
        )
    );
    // The same request_id on another call is a different request too.
    let err = call(&emu, &credit_op(&emu, &uid, request_id(1), 100), &creds)
        .await
        .unwrap_err();
    assert!(err.kind() == ApiErrorKind::BadParameter);
    assert_eq!(balance(&emu, &uid).await, 105);
}

#[tokio::test]
async fn an_order_completes_once() {
    let emu = start().await;
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "orders").await;
    call(
        &emu,
        &order_op(&emu, &uid, request_id(1), "ORD-X", 10),
        &creds,
    )
    .await
    .unwrap();
    let err = call(
        &emu,
        &order_op(&emu, &uid, request_id(2), "ORD-X", 10),
        &creds,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ApiErrorKind::BadParameter, "order_id already completed")
    );
    assert_eq!(balance(&emu, &uid).await, 10);
}

#[tokio::test]
async fn order_success_must_name_the_app_alias_as_channel() {
    let emu = start().await;
    let uid = register(&emu, "channel").await;
    let app = emu.linkv_app();
    let exp = days(&emu, 10).to_string();
    let rid = request_id(1);
    let params = |channel: Option<&'static str>| {
        let mut p = vec![
            ("uid", uid.as_str()),
            ("request_id", rid.as_str()),
            ("type", "1"),
            ("value", "10"),
            ("order_id", "ORD-C"),
            ("expriation", exp.as_str()),
            ("money", "100"),
            ("platform", "h5"),
        ];
        if let Some(c) = channel {
            p.push(("channel", c));
        }
        p
    };
    for (channel, message) in [
        (
            Some("other"),
            "param err: channel does not match the app alias",
        ),
        (None, "param err: channel is required"),
    ] {
        let form = signed_linkv_form(
            &params(channel),
            &app.app_key,
            &app.app_secret,
            emu.clock().now(),
        );
        let reply = send(
            emu.addr(),
            "POST",
            "/open/finanv0/orderSuccess",
            &[],
            form.as_bytes(),
        )
        .await
        .reply();
        assert_eq!((reply.status, reply.api_status()), (200, 400));
        assert_eq!(reply.message(), message);
    }
    // Credentials with the right alias succeed.
    call(
        &emu,
        &order_op(&emu, &uid, request_id(1), "ORD-C", 10),
        &linkv_creds(&emu),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn unknown_users_are_refused() {
    let emu = start().await;
    let creds = linkv_creds(&emu);
    let ghost = OpenId::new("1234567890123456789").unwrap();
    let err = call(&emu, &GetUserTokens::new(ghost.clone()), &creds)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ApiErrorKind::BadParameter, "uid not found")
    );
    let err = call(&emu, &credit_op(&emu, &ghost, request_id(1), 1), &creds)
        .await
        .unwrap_err();
    assert!(err.kind() == ApiErrorKind::BadParameter);
    assert!(emu.journal().is_empty());
}

#[tokio::test]
async fn a_wrong_signature_is_sign_err() {
    let emu = start().await;
    let uid = register(&emu, "signer").await;
    let app = emu.linkv_app();
    let wrong = LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret("not-the-secret")
        .alias(&app.alias)
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let request = build(&emu, &GetUserTokens::new(uid), &wrong);
    let reply = send_request(emu.addr(), &request).await.reply();
    // The documented error example (docs/linkv.md#errors), in an HTTP 200 answer as the real
    // server sends it.
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "403", "msg": "sign err", "data": []})
    );
    let err = liveapi_model::linkv::decode::<Coins>(reply.status, &reply.body).unwrap_err();
    assert!(err.kind() == ApiErrorKind::BadSignature);

    // A missing or malformed sign is a signature error as well.
    let form = signed_linkv_form(
        &[("uid", "1")],
        &app.app_key,
        &app.app_secret,
        emu.clock().now(),
    );
    let unsigned: String = form
        .split('&')
        .filter(|p| !p.starts_with("sign="))
        .collect::<Vec<_>>()
        .join("&");
    for body in [unsigned.clone(), format!("{unsigned}&sign=xyz")] {
        let reply = send(
            emu.addr(),
            "POST",
            "/open/finanv0/getUserTokens",
            &[],
            body.as_bytes(),
        )
        .await
        .reply();
        assert_eq!(
            (reply.api_status(), reply.message().as_str()),
            (403, "sign err")
        );
    }
}

#[tokio::test]
async fn unknown_and_missing_app_ids() {
    let emu = start().await;
    let other = LinkvCredentials::builder()
        .app_id("who_is_this")
        .secret("secret")
        .alias("demo")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let uid = OpenId::new("1").unwrap();
    let err = call(&emu, &GetUserTokens::new(uid), &other)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.code(), err.message()),
        (ApiErrorKind::BadSignature, Some(403), "app_id not found")
    );
    let reply = send(
        emu.addr(),
        "POST",
        "/open/finanv0/getUserTokens",
        &[],
        b"uid=1",
    )
    .await
    .reply();
    assert_eq!(reply.api_status(), 400);
    assert_eq!(reply.message(), "param err: app_id is required");
}

#[tokio::test]
async fn a_nonce_more_than_five_minutes_off_is_expired() {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(T0)))
        .start()
        .await
        .unwrap();
    let app = emu.linkv_app();
    let form_at =
        |secs| signed_linkv_form(&[("uid", "1")], &app.app_key, &app.app_secret, at(secs));
    for (signed_at, expect) in [
        (T0 - 301, "nonce_str expired"),
        (T0 + 301, "nonce_str expired"),
        (T0 - 300, "uid not found"),
        (T0 + 300, "uid not found"),
    ] {
        let reply = send(
            emu.addr(),
            "POST",
            "/open/finanv0/getUserTokens",
            &[],
            form_at(signed_at).as_bytes(),
        )
        .await
        .reply();
        assert_eq!(reply.message(), expect, "signed at {signed_at}");
        assert_eq!(reply.api_status(), 400);
    }
    let reply = send(
        emu.addr(),
        "POST",
        "/open/finanv0/getUserTokens",
        &[],
        form_at(T0 - 301).as_bytes(),
    )
    .await
    .reply();
    let err = liveapi_model::linkv::decode::<Coins>(reply.status, &reply.body).unwrap_err();
    assert!(err.kind() == ApiErrorKind::BadParameter && err.message() == "nonce_str expired");

    // Moving the emulator's clock makes the same request stale.
    emu.clock().advance(Duration::from_secs(301));
    let reply = send(
        emu.addr(),
        "POST",
        "/open/finanv0/getUserTokens",
        &[],
        form_at(T0).as_bytes(),
    )
    .await
    .reply();
    assert_eq!(reply.message(), "nonce_str expired");
}

#[tokio::test]
async fn malformed_requests_get_param_errors() {
    let emu = start().await;
    let app = emu.linkv_app();
    let now = emu.clock().now();
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "app_id={}&uid=1&sign=0123456789abcdef0123456789abcdef",
                app.app_key
            ),
            "param err: nonce_str is required",
        ),
        (
            {
                let secret = &app.app_secret;
                let params = [
                    ("app_id", app.app_key.as_str()),
                    ("nonce_str", "short"),
                    ("uid", "1"),
                ];
                let sign = liveapi_sign::linkv::sign(params, secret).unwrap();
                format!("app_id={}&nonce_str=short&uid=1&sign={sign}", app.app_key)
            },
            "param err: nonce_str must be 8 letters or digits, 10 digits of unix seconds, 8 letters or digits",
        ),
        (
            format!(
                "{}&uid=2",
                signed_linkv_form(&[("uid", "1")], &app.app_key, &app.app_secret, now)
            ),
            "param err: uid is given more than once",
        ),
        (
            signed_linkv_form(
                &[
                    ("userId", &"x".repeat(65)),
                    ("name", "A"),
                    ("portraitUri", "u"),
                ],
                &app.app_key,
                &app.app_secret,
                now,
            ),
            "param err: userId: must be at most 64 bytes",
        ),
    ];
    for (i, (body, message)) in cases.iter().enumerate() {
        let path = if i == 3 {
            "/open/v0/thGetToken"
        } else {
            "/open/finanv0/getUserTokens"
        };
        let reply = send(emu.addr(), "POST", path, &[], body.as_bytes())
            .await
            .reply();
        assert_eq!(
            (reply.api_status(), reply.message().as_str()),
            (400, *message),
            "case {i}"
        );
        assert_eq!(reply.json()["status"], "400");
        assert_eq!(reply.json()["data"], serde_json::json!([]));
    }
}

#[tokio::test]
async fn credits_must_expire_in_the_future_and_fit_in_i64() {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(T0)))
        .start()
        .await
        .unwrap();
    let creds = linkv_creds(&emu);
    let uid = register(&emu, "limits").await;
    let past = ChangeGold::add(
        uid.clone(),
        request_id(1),
        Coins::new(1).unwrap(),
        liveapi_model::linkv::Expiration::at_unix_seconds(T0),
    )
    .unwrap();
    let err = call(&emu, &past, &creds).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (
            ApiErrorKind::BadParameter,
            "param err: expriation must be in the future"
        )
    );
    let max = ChangeGold::add(uid.clone(), request_id(2), Coins::MAX, days(&emu, 1)).unwrap();
    call(&emu, &max, &creds).await.unwrap();
    let err = call(&emu, &credit_op(&emu, &uid, request_id(3), 1), &creds)
        .await
        .unwrap_err();
    assert!(err.kind() == ApiErrorKind::BadParameter);
    assert_eq!(balance(&emu, &uid).await, Coins::MAX.get());
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let emu = start().await;
    let reply = send(emu.addr(), "POST", "/open/v0/nothing", &[], b"")
        .await
        .reply();
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (404, "no such endpoint")
    );
    let reply = send(
        emu.addr(),
        "DELETE",
        "/open/finanv0/getUserTokens",
        &[],
        b"",
    )
    .await
    .reply();
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (405, "method not allowed")
    );
    let reply = send(emu.addr(), "GET", "/elsewhere", &[], b"")
        .await
        .reply();
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json(), serde_json::json!({"error": "not found"}));
}

/// The real server answers errors with HTTP 200 and `text/html`
/// (`docs/linkv.md#how-the-real-server-answers`); the options give the matching HTTP status and
/// JSON instead. The body is the same in every style, and the SDK reads the same error from each.
#[tokio::test]
async fn both_answer_styles_carry_the_same_envelopes() {
    for (error_http_status, json) in [(false, false), (true, false), (false, true), (true, true)] {
        let emu = Emulator::builder()
            .linkv_error_http_status(error_http_status)
            .linkv_json_content_type(json)
            .start()
            .await
            .unwrap();
        let style = format!("error_http_status={error_http_status} json={json}");
        let content_type = if json {
            "application/json;charset=UTF-8"
        } else {
            "text/html; charset=UTF-8"
        };
        let uid = register(&emu, "styled").await;
        let creds = linkv_creds(&emu);
        let ok = send_request(
            emu.addr(),
            &build(&emu, &GetUserTokens::new(uid.clone()), &creds),
        )
        .await
        .reply();
        assert_eq!(ok.status, 200, "{style}");
        assert_eq!(ok.header("content-type"), Some(content_type), "{style}");

        let app = emu.linkv_app();
        let wrong = LinkvCredentials::builder()
            .app_id(&app.app_key)
            .secret("wrong")
            .alias(&app.alias)
            .base_url(emu.base_url())
            .build()
            .unwrap();
        let cases = [
            (build(&emu, &GetUserTokens::new(uid.clone()), &wrong), 403),
            (
                build(&emu, &spend_op(&emu, &uid, request_id(1), 1), &creds),
                400,
            ),
        ];
        for (request, status) in cases {
            let reply = send_request(emu.addr(), &request).await.reply();
            let http = if error_http_status { status } else { 200 };
            assert_eq!(
                (reply.status, reply.api_status()),
                (http, status),
                "{style}"
            );
            assert_eq!(reply.header("content-type"), Some(content_type), "{style}");
            assert_eq!(reply.json()["data"], serde_json::json!([]), "{style}");
            let err = liveapi_model::linkv::decode::<()>(reply.status, &reply.body).unwrap_err();
            match status {
                403 => assert!(err.kind() == ApiErrorKind::BadSignature, "{style}"),
                _ => assert!(err.kind() == ApiErrorKind::BadParameter, "{style}"),
            }
        }
        // Routing errors keep their HTTP status in every style.
        let reply = send(emu.addr(), "POST", "/open/v0/nothing", &[], b"")
            .await
            .reply();
        assert_eq!((reply.status, reply.api_status()), (404, 404), "{style}");
    }
}
