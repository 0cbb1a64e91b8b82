//! Polyv donate calls over real sockets: settings per channel and account-wide, and every
//! documented error message.

mod common;

use std::time::Duration;

use common::*;
use liveapi_emulator::{ClockStart, Emulator, IpRateLimit};
use liveapi_model::ApiErrorKind;
use liveapi_model::polyv::{
    CashSettings, Cashes, Cents, ChannelId, DonateGood, DonateGoods, Enabled, GetDonate, GoodImage,
    GoodName, GoodSettings, Scope, UpdateCash, UpdateGoods,
};
use liveapi_request::PolyvCredentials;
use liveapi_sign::polyv::SignatureMethod;

const CASH: &str = "/live/v3/channel/donate/update-cash";
const GOOD: &str = "/live/v3/channel/donate/update-good";
const GET: &str = "/live/v3/channel/donate/get";
const T0: u64 = 1_700_000_000;

fn channel(id: u64) -> Scope {
    Scope::Channel(ChannelId::new(id).unwrap())
}

fn cash_settings(amounts: [&str; 6], min: &str) -> CashSettings {
    CashSettings::new(Cashes::parse(amounts).unwrap(), min.parse().unwrap())
}

/// Sends `body` to `path` with a signed query (plus `extra`), as of the emulator's clock.
async fn raw(
    emu: &liveapi_emulator::RunningEmulator,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> Reply {
    let app = emu.polyv_app();
    let query = signed_polyv_query(extra, &app.app_id, &app.secret, emu.clock().now());
    send(
        emu.addr(),
        method,
        &format!("{path}?{query}"),
        &[],
        body.as_bytes(),
    )
    .await
    .reply()
}

#[tokio::test]
async fn channel_settings_round_trip_through_the_sdk_types() {
    let emu = start().await;
    let creds = polyv_creds(&emu);
    let settings = cash_settings(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"], "0.02")
        .with_enabled(Enabled::Yes);
    call(&emu, &UpdateCash::new(channel(1_000_001), settings), &creds)
        .await
        .unwrap();
    let got = call(&emu, &GetDonate::new(channel(1_000_001)), &creds)
        .await
        .unwrap();
    assert_eq!(got.global_setting_enabled, Some(Enabled::No));
    assert_eq!(got.cash_enabled, Some(Enabled::Yes));
    let cents: Vec<u32> = got.cashes.iter().map(|c| c.get()).collect();
    assert_eq!(cents, [88, 666, 888, 1811, 6660, 8880]);
    assert_eq!(got.cash_min, Some(Cents::new(2)));

    // Amounts are written as JSON numbers.
    let reply = raw(&emu, "GET", GET, &[("channelId", "1000001")], "").await;
    let data = &reply.json()["data"];
    assert_eq!(data["cashes"][0], serde_json::json!(0.88));
    assert_eq!(data["cashMin"], serde_json::json!(0.02));
    assert_eq!(data["globalSettingEnabled"], "N");
    assert_eq!(
        emu.donate_settings(&emu.polyv_app().app_id, Some(1_000_001)),
        Some(got)
    );
}

#[tokio::test]
async fn channels_fall_back_to_account_settings_then_defaults() {
    let emu = start().await;
    let creds = polyv_creds(&emu);
    let fresh = call(&emu, &GetDonate::new(channel(1_000_002)), &creds)
        .await
        .unwrap();
    assert_eq!(fresh.global_setting_enabled, Some(Enabled::Yes));
    // Both switches start on: "不传默认开启", on when not sent (docs/polyv.md#calls).
    assert_eq!(fresh.cash_enabled, Some(Enabled::Yes));
    assert_eq!(fresh.good_enabled, Some(Enabled::Yes));
    assert_eq!(fresh.cashes.len(), 6);
    assert!(!fresh.goods.is_empty());

    let account = cash_settings(["1", "2", "3", "4", "5", "6"], "0.5");
    call(&emu, &UpdateCash::new(Scope::Account, account), &creds)
        .await
        .unwrap();
    let inherited = call(&emu, &GetDonate::new(channel(1_000_002)), &creds)
        .await
        .unwrap();
    assert_eq!(inherited.global_setting_enabled, Some(Enabled::Yes));
    assert_eq!(inherited.cash_min, Some(Cents::new(50)));
    assert_eq!(inherited.cash_enabled, Some(Enabled::Yes));

    let whole = call(&emu, &GetDonate::new(Scope::Account), &creds)
        .await
        .unwrap();
    assert_eq!(whole.global_setting_enabled, None);
    assert_eq!(whole.cashes[5], Cents::new(600));
}

#[tokio::test]
async fn gifts_are_set_and_read_back() {
    let emu = start().await;
    let creds = polyv_creds(&emu);
    let goods = DonateGoods::new(vec![
        DonateGood::new(
            GoodName::new("鲜花").unwrap(),
            GoodImage::new("//cdn.example.com/f.png").unwrap(),
            "0".parse().unwrap(),
        ),
        DonateGood::new(
            GoodName::new("火箭").unwrap(),
            GoodImage::new("//cdn.example.com/r.png").unwrap(),
            "88.8".parse().unwrap(),
        )
        .with_enabled(Enabled::No),
    ])
    .unwrap();
    let settings = GoodSettings::new(goods).with_enabled(Enabled::No);
    call(
        &emu,
        &UpdateGoods::new(channel(1_000_001), settings),
        &creds,
    )
    .await
    .unwrap();
    let got = call(&emu, &GetDonate::new(channel(1_000_001)), &creds)
        .await
        .unwrap();
    assert_eq!(got.good_enabled, Some(Enabled::No));
    assert_eq!(got.goods.len(), 2);
    assert_eq!(got.goods[1].name(), "火箭");
    assert_eq!(got.goods[1].price, Some(Cents::new(8_880)));
    assert_eq!(got.goods[1].enabled, Some(Enabled::No));
}

#[tokio::test]
async fn the_documented_success_and_error_envelopes() {
    let emu = start().await;
    let body = r#"{"cashes":[0.88,6.66,8.88,18.11,66.60,88.80],"cashMin":0.02,"enabled":"Y"}"#;
    let reply = raw(&emu, "POST", CASH, &[("channelId", "1000001")], body).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"code": 200, "status": "success", "message": "", "data": true})
    );
    let reply = raw(&emu, "POST", CASH, &[("channelId", "10001")], body).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.json(),
        serde_json::json!({"code": 403, "status": "error", "message": "illegal channel id: 10001", "data": ""})
    );
    let err = liveapi_model::polyv::decode::<()>(reply.status, &reply.body).unwrap_err();
    assert!(
        err.kind() == ApiErrorKind::IllegalChannel && err.channel() == Some("10001"),
        "{err:?}"
    );
}

#[tokio::test]
async fn app_and_signature_errors() {
    let emu = Emulator::builder()
        .clock(ClockStart::FrozenAt(at(T0)))
        .start()
        .await
        .unwrap();
    let app = emu.polyv_app().clone();
    let now = emu.clock().now();
    let ts = liveapi_sign::polyv::timestamp(now).unwrap().to_string();
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("timestamp={ts}&sign=ABC"),
            400,
            "appId is required.",
        ),
        (
            signed_polyv_query(&[], "nobody", "secret", now),
            400,
            "application not found.",
        ),
        (
            signed_polyv_query(&[], &app.app_id, &app.secret, at(T0 - 181)),
            400,
            "invalid timestamp.",
        ),
        (
            signed_polyv_query(&[], &app.app_id, &app.secret, at(T0 + 181)),
            400,
            "invalid timestamp.",
        ),
        (
            format!("appId={}&sign=ABC", app.app_id),
            400,
            "invalid timestamp.",
        ),
        (
            format!("appId={}&timestamp={}&sign=ABC", app.app_id, T0),
            400,
            "invalid timestamp.",
        ),
        (
            signed_polyv_query(&[], &app.app_id, "wrong secret", now),
            403,
            "invalid signature.",
        ),
        (
            format!("appId={}&timestamp={ts}", app.app_id),
            403,
            "invalid signature.",
        ),
        (
            format!(
                "{}&timestamp={ts}",
                signed_polyv_query(&[], &app.app_id, &app.secret, now)
            ),
            400,
            "param validate error",
        ),
        (
            signed_polyv_query(&[("channelId", "null")], &app.app_id, &app.secret, now),
            400,
            "param validate error",
        ),
        (
            signed_polyv_query(&[("channelId", "0")], &app.app_id, &app.secret, now),
            403,
            "illegal channel id: 0",
        ),
        (
            signed_polyv_query(
                &[("channelId", "99999999999999999999999")],
                &app.app_id,
                &app.secret,
                now,
            ),
            403,
            "illegal channel id: 99999999999999999999999",
        ),
        (
            signed_polyv_query(&[], &app.app_id, &app.secret, at(T0 - 180)),
            200,
            "",
        ),
    ];
    for (query, status, message) in cases {
        let reply = send(emu.addr(), "GET", &format!("{GET}?{query}"), &[], b"")
            .await
            .reply();
        assert_eq!(
            (reply.status, reply.message().as_str()),
            (status, message),
            "{query}"
        );
        let code = reply.json()["code"].as_u64();
        assert_eq!(code, Some(u64::from(status)));
        if status != 200 {
            assert_eq!(reply.json()["status"], "error");
        }
    }

    let stale = PolyvCredentials::builder()
        .app_id(&app.app_id)
        .secret(app.secret.as_str())
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let op = GetDonate::new(Scope::Account);
    let request =
        liveapi_request::Operation::build(&op, &stale, at(T0 - 600), &liveapi_request::OsEntropy)
            .unwrap();
    let reply = send_request(emu.addr(), &request).await.reply();
    let err = liveapi_model::polyv::decode::<liveapi_model::polyv::DonateSettings>(
        reply.status,
        &reply.body,
    )
    .unwrap_err();
    assert!(err.kind() == ApiErrorKind::ExpiredTimestamp, "{err:?}");
    let wrong = PolyvCredentials::builder()
        .app_id(&app.app_id)
        .secret("nope")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    assert_eq!(
        call(&emu, &op, &wrong).await.unwrap_err().kind(),
        ApiErrorKind::BadSignature
    );
    let unknown = PolyvCredentials::builder()
        .app_id("nobody")
        .secret("nope")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    assert_eq!(
        call(&emu, &op, &unknown).await.unwrap_err().kind(),
        ApiErrorKind::UnknownApp
    );
}

#[tokio::test]
async fn body_validation_messages() {
    let emu = start().await;
    let cases: &[(&str, &str, &str)] = &[
        (CASH, "", "param validate error"),
        (CASH, "   ", "param validate error"),
        (CASH, "{", "json format error"),
        (CASH, "cashes=1", "json format error"),
        (CASH, "[1,2,3]", "param validate error"),
        // Every field is optional, but an update with none of them is the documented
        // "json为空" (docs/polyv.md#errors).
        (CASH, "{}", "param validate error"),
        (CASH, r#"{"channelId":1000001}"#, "param validate error"),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5],"cashMin":0.02}"#,
            "param validate error",
        ),
        (
            CASH,
            r#"{"cashes":"1,2,3,4,5,6","cashMin":0.02}"#,
            "param validate error",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,6],"cashMin":0}"#,
            "number range error",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,10000],"cashMin":1}"#,
            "number range error",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,0.885],"cashMin":1}"#,
            "number range error",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,-1],"cashMin":1}"#,
            "number range error",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,"abc"],"cashMin":1}"#,
            "number range error",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,6],"cashMin":true}"#,
            "number range error",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,6],"cashMin":1,"enabled":"X"}"#,
            "param is not boolean (Y / N)",
        ),
        (
            CASH,
            r#"{"cashes":[1,2,3,4,5,6],"cashMin":1,"enabled":true}"#,
            "param is not boolean (Y / N)",
        ),
        (GOOD, r#"{"goods":[]}"#, "param validate error"),
        (
            GOOD,
            r#"{"goods":[{"goodName":"一二三四五六","goodImg":"//x","goodPrice":1}]}"#,
            "param validate error",
        ),
        (
            GOOD,
            r#"{"goods":[{"goodName":"a","goodImg":"//x","goodPrice":10000}]}"#,
            "number range error",
        ),
        (
            GOOD,
            r#"{"goods":[{"goodName":"a","goodImg":"//x","goodPrice":1,"goodEnabled":"yes"}]}"#,
            "param is not boolean (Y / N)",
        ),
        (
            GOOD,
            r#"{"goods":[{"goodName":"a","goodPrice":1}]}"#,
            "param validate error",
        ),
        (GOOD, "{]", "json format error"),
    ];
    for (path, body, message) in cases {
        let reply = raw(&emu, "POST", path, &[("channelId", "1000001")], body).await;
        assert_eq!(
            (reply.status, reply.message().as_str()),
            (400, *message),
            "{body}"
        );
        let err = liveapi_model::polyv::decode::<()>(reply.status, &reply.body).unwrap_err();
        assert!(err.kind() == ApiErrorKind::BadParameter, "{body}: {err:?}");
    }
    // Nothing was stored.
    let settings = emu
        .donate_settings(&emu.polyv_app().app_id, Some(1_000_001))
        .unwrap();
    assert_eq!(settings.global_setting_enabled, Some(Enabled::Yes));
}

/// The documented `update-cash` fields are all optional (`docs/polyv.md#calls`): each can be
/// changed alone, and an update without `enabled` never switches tips on or off.
#[tokio::test]
async fn update_cash_changes_only_what_it_gives() {
    let emu = start().await;
    let creds = polyv_creds(&emu);
    let get = |scope| {
        let (emu, creds) = (&emu, &creds);
        async move { call(emu, &GetDonate::new(scope), creds).await.unwrap() }
    };
    let ch = channel(1_000_001);
    call(
        &emu,
        &UpdateCash::new(ch, cash_settings(["1", "2", "3", "4", "5", "6"], "0.5")),
        &creds,
    )
    .await
    .unwrap();
    // Switching tips off and nothing else.
    call(
        &emu,
        &UpdateCash::new(ch, CashSettings::switch(Enabled::No)),
        &creds,
    )
    .await
    .unwrap();
    let off = get(ch).await;
    assert_eq!(off.cash_enabled, Some(Enabled::No));
    assert_eq!(off.cashes[5], Cents::new(600));
    assert_eq!(off.cash_min, Some(Cents::new(50)));
    // Changing only the smallest amount: the switch stays off.
    let min = CashSettings::from_parts(None, Some("2".parse().unwrap()), None).unwrap();
    call(&emu, &UpdateCash::new(ch, min), &creds).await.unwrap();
    let after = get(ch).await;
    assert_eq!(after.cash_min, Some(Cents::new(200)));
    assert_eq!(after.cash_enabled, Some(Enabled::No));
    assert_eq!(after.cashes[5], Cents::new(600));
    // New amounts without the switch: still off.
    call(
        &emu,
        &UpdateCash::new(ch, cash_settings(["7", "8", "9", "10", "11", "12"], "1")),
        &creds,
    )
    .await
    .unwrap();
    assert_eq!(get(ch).await.cash_enabled, Some(Enabled::No));
    // Raw bodies of one field, as any client may send them.
    for body in [r#"{"enabled":"Y"}"#, r#"{"cashMin":0.03}"#] {
        let reply = raw(&emu, "POST", CASH, &[("channelId", "1000001")], body).await;
        assert_eq!(reply.json()["data"], true, "{body}");
    }
    let last = get(ch).await;
    assert_eq!(last.cash_enabled, Some(Enabled::Yes));
    assert_eq!(last.cash_min, Some(Cents::new(3)));
    assert_eq!(last.cashes[0], Cents::new(700));
    // The other channel and the account did not move.
    let other = get(channel(1_000_002)).await;
    assert_eq!(other.global_setting_enabled, Some(Enabled::Yes));
    assert_eq!(other.cash_enabled, Some(Enabled::Yes));
}

#[tokio::test]
async fn a_channel_id_in_the_body_changes_the_account_setting() {
    let emu = start().await;
    let body = r#"{"channelId":1000001,"cashes":[1,2,3,4,5,6],"cashMin":0.03}"#;
    let reply = raw(&emu, "POST", CASH, &[], body).await;
    assert_eq!(reply.status, 200);
    let app_id = emu.polyv_app().app_id.clone();
    let channel = emu.donate_settings(&app_id, Some(1_000_001)).unwrap();
    assert_eq!(channel.global_setting_enabled, Some(Enabled::Yes));
    let account = emu.donate_settings(&app_id, None).unwrap();
    assert_eq!(account.cash_min, Some(Cents::new(3)));
}

#[tokio::test]
async fn sha256_signatures_are_accepted() {
    let emu = start().await;
    let app = emu.polyv_app();
    let creds = PolyvCredentials::builder()
        .app_id(&app.app_id)
        .secret(app.secret.as_str())
        .base_url(emu.base_url())
        .signature_method(SignatureMethod::Sha256)
        .build()
        .unwrap();
    let request = build(&emu, &GetDonate::new(channel(1_000_001)), &creds);
    assert!(
        request
            .uri()
            .query()
            .unwrap()
            .contains("signatureMethod=SHA256")
    );
    call(&emu, &GetDonate::new(channel(1_000_001)), &creds)
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_methods_and_paths() {
    let emu = start().await;
    let reply = raw(&emu, "GET", CASH, &[], "").await;
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (405, "method not allowed")
    );
    let reply = raw(&emu, "POST", GET, &[], "").await;
    assert_eq!(reply.status, 200);
    let reply = raw(&emu, "GET", "/live/v3/channel/other", &[], "").await;
    assert_eq!((reply.status, reply.message().as_str()), (404, "not found"));
}

#[tokio::test]
async fn the_rate_limit_answers_qps_exceeded() {
    let emu = Emulator::builder()
        .rate_limit(Some(IpRateLimit::new(3, Duration::from_secs(3_600))))
        .start()
        .await
        .unwrap();
    let creds = polyv_creds(&emu);
    let op = GetDonate::new(Scope::Account);
    for _ in 0..3 {
        call(&emu, &op, &creds).await.unwrap();
    }
    let err = call(&emu, &op, &creds).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.code(), err.message()),
        (
            ApiErrorKind::RateLimited,
            Some(429),
            "qps exceeds number of calls"
        )
    );
    // Blocked for a while, whatever the request.
    let reply = send(emu.addr(), "GET", "/live/v3/channel/donate/get", &[], b"")
        .await
        .reply();
    assert_eq!(reply.status, 429);
    // LinkV is not limited.
    register(&emu, "not-limited").await;
    // The inspection API shows the window and the ban of this client's IP.
    let status = send(emu.addr(), "GET", "/_emulator/rate-limit", &[], b"")
        .await
        .reply()
        .json();
    assert_eq!(status["limit"]["requests"], 3);
    let client = &status["clients"][0];
    assert_eq!(client["ip"], "127.0.0.1");
    assert_eq!(client["banned"], true);
    assert_eq!(client["bans"], 1);
    assert_eq!(client["refused_while_banned"], 1);
    assert_eq!(client["windows"][0]["requests"], 4);
    assert_eq!(client["windows"][0]["over_limit"], 1);

    let unlimited = Emulator::builder().rate_limit(None).start().await.unwrap();
    let creds = polyv_creds(&unlimited);
    for _ in 0..20 {
        call(&unlimited, &op, &creds).await.unwrap();
    }
}
