//! Golden wire tests: the client, on a manual clock with seeded randomness, talks to a loopback
//! server written in the test. The requests are compared byte for byte with what the vendors'
//! documents ask for, and the answers are the documents' own example bodies, decoded. A field
//! renamed on both sides of the SDK fails here.
//!
//! The signatures in the golden bodies were checked with an independent MD5 when they were
//! frozen; each is verified here with the servers' rule as well.

mod common;

/// The transport of the clients `common` builds.
const TRANSPORT: common::Transport = common::Transport::Hyper;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use common::loopback::{Answer, Loopback};
use liveapi::model::ApiErrorKind;
use liveapi::model::linkv::{
    Coins, DeviceId, Expiration, OpenId, OrderId, Platform, PortraitUri, RequestId, UsdCents,
    UserId, UserName,
};
use liveapi::model::polyv::{CashSettings, Cashes, ChannelId, Enabled, Scope};
use liveapi::{
    Client, Context, ErrorKind, LinkvCredentials, ManualClock, PolyvCredentials, PolyvRateLimit,
    RetryPolicy, SeededEntropy,
};
use proptest::prelude::*;

const KEY: &str = "LM6000101140927991745433";
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const POLYV_SECRET: &str = "fsq2k5weced1h8vui657xtdva66whf0g";

fn client(server: &Loopback) -> Client {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_millis(1_600_000_000_123));
    Client::builder()
        .linkv(
            LinkvCredentials::builder()
                .app_id(KEY)
                .secret(SECRET)
                .alias("myalias")
                .base_url(&server.base_url)
                .build()
                .unwrap(),
        )
        .polyv(
            PolyvCredentials::builder()
                .app_id("frlr1zazn3")
                .secret(POLYV_SECRET)
                .base_url(&server.base_url)
                .build()
                .unwrap(),
        )
        .context(Context::new(
            Arc::new(clock),
            Arc::new(SeededEntropy::new(7)),
        ))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .polyv_rate_limit(PolyvRateLimit::none())
        .build()
        .unwrap()
}

fn open_id() -> OpenId {
    OpenId::new("115213496111983232934").unwrap()
}

/// The `thGetToken` success example of LinkV's API summary, trailing comma and all
/// (`docs/linkv.md#answers`).
const DOC_USER_TOKEN: &str = r#"{
    "data": {
        "token": "asdsaddfa3234234ada2adsf",
        "userId": "534961119",
        "aid": "dsafdsf23wadfaad",
        "openId": "115213496111983232934",
    },
    "msg": "",
    "status": "200"
}"#;

/// The `orderSuccess` and `getUserTokens` success example of LinkV's API summary: a balance,
/// which the wire calls `tokens` (`docs/linkv.md#answers`).
const DOC_BALANCE: &str = r#"{
    "data": {
        "tokens": "123",
    },
    "msg": "",
    "status": "200"
}"#;

/// The `changeGold` success example of LinkV's API summary (`docs/linkv.md#answers`).
const DOC_CHANGED: &str = r#"{
    "msg": "",
    "status": "200"
}"#;

/// The signature error example of LinkV's API summary, in the HTTP 200 answer the real server
/// gives it (`docs/linkv.md#errors`, `docs/linkv.md#how-the-real-server-answers`).
const DOC_SIGN_ERR: &str = r#"{
    "status": "403",
    "msg": "sign err",
    "data": []
}"#;

/// The `update-cash` success example of Polyv's page (`docs/polyv.md#answers`).
const POLYV_OK: &str = r#"{
    "code": 200,
    "status": "success",
    "message": "",
    "data": true
}"#;

/// Checks what a LinkV request must be: a form POST to `path` whose body is exactly `body`,
/// and whose signature the server's rule accepts.
fn assert_linkv(received: &common::loopback::Received, path: &str, body: &str) {
    assert_eq!(received.request_line, format!("POST {path} HTTP/1.1"));
    assert_eq!(
        received.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(received.body_text(), body);
    let now = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    assert_eq!(
        liveapi::sign::linkv::verify(
            received.params(),
            SECRET,
            now,
            liveapi::sign::linkv::DEFAULT_WINDOW
        ),
        Ok(())
    );
}

#[tokio::test]
async fn register_user_sends_the_documented_form_and_reads_the_documented_answer() {
    let server = Loopback::start(vec![Answer::linkv(DOC_USER_TOKEN)]).await;
    let user = client(&server)
        .register_user(
            UserId::new("alice").unwrap(),
            UserName::new("Ann Lee").unwrap(),
            PortraitUri::new("https://cdn.example.com/a.png").unwrap(),
        )
        .aid(DeviceId::new("dsafdsf23wadfaad").unwrap())
        .await
        .unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_linkv(
        &received[0],
        "/open/v0/thGetToken",
        "aid=dsafdsf23wadfaad&app_id=LM6000101140927991745433&name=Ann+Lee&nonce_str=dNybqnRl1600000000co86d8OE&portraitUri=https%3A%2F%2Fcdn.example.com%2Fa.png&userId=alice&sign=7ac96bfbf922f75646e10cda3c03d60f",
    );
    assert_eq!(user.token.as_str(), "asdsaddfa3234234ada2adsf");
    assert_eq!(user.open_id.as_str(), "115213496111983232934");
    assert_eq!(user.user_id.as_deref(), Some("534961119"));
    assert_eq!(user.aid.as_deref(), Some("dsafdsf23wadfaad"));
}

#[tokio::test]
async fn coin_calls_send_the_documented_forms() {
    let server = Loopback::start(vec![
        Answer::linkv(DOC_BALANCE),
        Answer::linkv(DOC_BALANCE),
        Answer::linkv(DOC_CHANGED),
        Answer::linkv(DOC_CHANGED),
        Answer::linkv(DOC_BALANCE),
    ])
    .await;
    let client = client(&server);
    let expiry = Expiration::at_unix_seconds(1_607_862_400);
    let rid = |s: &str| RequestId::new(s).unwrap();

    let after = client
        .complete_order(
            &open_id(),
            OrderId::new("ORD-2020-0001").unwrap(),
            Coins::new(100).unwrap(),
            UsdCents::new(199),
            Platform::Ios,
        )
        .request_id(rid("6000101140927991745433-Ab3dE5gH7"))
        .expires_at(expiry)
        .await
        .unwrap();
    assert_eq!(after.get(), 123);

    let after = client
        .refund_order(
            &open_id(),
            OrderId::new("ORD-2020-0001-R").unwrap(),
            Coins::new(100).unwrap(),
            UsdCents::new(199),
            Platform::Ios,
        )
        .request_id(rid("6000101140927991745433-Rf0nD1ng2"))
        .expires_at(expiry)
        .await
        .unwrap();
    assert_eq!(after.get(), 123);

    client
        .add_coins(&open_id(), Coins::new(5).unwrap())
        .request_id(rid("6000101140927991745433-Cr3d1t000"))
        .expires_at(expiry)
        .reason(liveapi::model::linkv::ChangeReason::new("welcome gift").unwrap())
        .await
        .unwrap();
    client
        .remove_coins(&open_id(), Coins::new(3).unwrap())
        .request_id(rid("6000101140927991745433-Sp3nd0000"))
        .expires_at(expiry)
        .await
        .unwrap();
    assert_eq!(client.balance(&open_id()).await.unwrap().get(), 123);

    let received = server.received();
    assert_eq!(received.len(), 5);
    assert_linkv(
        &received[0],
        "/open/finanv0/orderSuccess",
        "app_id=LM6000101140927991745433&channel=myalias&expriation=1607862400&money=199&nonce_str=dNybqnRl1600000000co86d8OE&order_id=ORD-2020-0001&platform=ios&request_id=6000101140927991745433-Ab3dE5gH7&type=1&uid=115213496111983232934&value=100&sign=c978461d25009bb77da9cc461a435a5f",
    );
    assert_linkv(
        &received[1],
        "/open/finanv0/orderSuccess",
        "app_id=LM6000101140927991745433&channel=myalias&expriation=1607862400&money=199&nonce_str=gheso7Z11600000000RuERKEgB&order_id=ORD-2020-0001-R&platform=ios&request_id=6000101140927991745433-Rf0nD1ng2&type=2&uid=115213496111983232934&value=100&sign=ba60828afd703bf6fac0cc4097df55cf",
    );
    assert_linkv(
        &received[2],
        "/open/finanv0/changeGold",
        "app_id=LM6000101140927991745433&expriation=1607862400&nonce_str=jpSd8Ggi1600000000rV7M4mJr&reason=welcome+gift&request_id=6000101140927991745433-Cr3d1t000&type=1&uid=115213496111983232934&value=5&sign=2155b997401463910b682aba8cea3161",
    );
    assert_linkv(
        &received[3],
        "/open/finanv0/changeGold",
        "app_id=LM6000101140927991745433&expriation=1607862400&nonce_str=Q3HMlWDx1600000000wmBnkdPl&request_id=6000101140927991745433-Sp3nd0000&type=2&uid=115213496111983232934&value=3&sign=cfa1930f5a88461a6af0c5ac25a7f69b",
    );
    assert_linkv(
        &received[4],
        "/open/finanv0/getUserTokens",
        "app_id=LM6000101140927991745433&nonce_str=zcZuAfun1600000000Nm1gMsQV&uid=115213496111983232934&sign=81a665ae91e57c1696d06cf4d4c3f045",
    );
}

#[tokio::test]
async fn a_balance_keeps_is_migrate() {
    let server = Loopback::start(vec![Answer::linkv(
        r#"{"status":"200","msg":"","data":{"tokens":"42","isMigrate":1}}"#,
    )])
    .await;
    let balance = client(&server)
        .execute(liveapi::model::linkv::GetUserTokens::new(open_id()))
        .await
        .unwrap();
    assert_eq!(
        (balance.coins.get(), balance.is_migrated()),
        (42, Some(true))
    );
}

#[tokio::test]
async fn an_error_in_an_http_200_answer_is_classified_by_its_status_and_not_retried() {
    let server = Loopback::start(vec![Answer::linkv(DOC_SIGN_ERR)]).await;
    let err = client(&server).balance(&open_id()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadSignature && e.message() == "sign err"),
        "{err}"
    );
    assert!(err.is_auth() && !err.is_retryable());
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_status_500_in_an_http_200_answer_is_retried_with_the_same_request_id() {
    let server = Loopback::start(vec![
        Answer::linkv(r#"{"status":"500","msg":"system err","data":[]}"#),
        Answer::linkv(DOC_CHANGED),
    ])
    .await;
    client(&server)
        .add_coins(&open_id(), Coins::new(5).unwrap())
        .request_id(RequestId::new("6000101140927991745433-Ab3dE5gH7").unwrap())
        .expires_at(Expiration::at_unix_seconds(1_607_862_400))
        .await
        .unwrap();
    let received = server.received();
    assert_eq!(received.len(), 2);
    let ids: Vec<_> = received.iter().map(|r| r.param("request_id")).collect();
    assert_eq!(ids[0].as_deref(), Some("6000101140927991745433-Ab3dE5gH7"));
    assert_eq!(ids[0], ids[1]);
    // Re-signed: a fresh nonce and so a fresh sign.
    assert_ne!(
        received[0].param("nonce_str"),
        received[1].param("nonce_str")
    );
    assert_ne!(received[0].param("sign"), received[1].param("sign"));
}

/// Values the server issues are decoded, not judged: an open id in a format no document
/// gives is the user's id; an answer without one cannot be read, and is not sent again (each
/// resend of `thGetToken` would issue another token).
#[tokio::test]
async fn issued_values_are_decoded_not_judged() {
    let server = Loopback::start(vec![Answer::linkv(
        r#"{"status":"200","msg":"","data":{"token":"t+/=","openId":"oid:7f/3 a","userId":"alice"}}"#,
    )])
    .await;
    let user = client(&server)
        .login_user(UserId::new("alice").unwrap())
        .await
        .unwrap();
    assert_eq!(user.open_id.as_str(), "oid:7f/3 a");
    assert_eq!(server.received().len(), 1);

    let server = Loopback::start(vec![Answer::linkv(
        r#"{"status":"200","msg":"","data":{"token":"a-live-token-123"}}"#,
    )])
    .await;
    let err = client(&server)
        .login_user(UserId::new("alice").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::UnreadableData),
        "{err}"
    );
    // It took effect (a token was issued): not retried, and never mistaken for a refusal.
    assert!(!err.is_retryable() && err.outcome_unknown());
    assert!(!format!("{err} {err:?}").contains("a-live-token-123"));
    assert_eq!(
        server.received().len(),
        1,
        "a token answer was asked for again"
    );
}

fn assert_polyv(received: &common::loopback::Received, target: &str, body: &str) {
    assert_eq!(received.request_line.split(' ').nth(1), Some(target));
    assert_eq!(received.body_text(), body);
    let now = UNIX_EPOCH + Duration::from_millis(1_600_000_000_123);
    let query = target.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        liveapi::sign::polyv::verify(
            params,
            POLYV_SECRET,
            now,
            liveapi::sign::polyv::DEFAULT_WINDOW
        ),
        Ok(())
    );
}

#[tokio::test]
async fn polyv_calls_sign_the_query_and_send_only_what_is_set() {
    let server = Loopback::start(vec![
        Answer::json(POLYV_OK),
        // Success with other data than `true` is success.
        Answer::json(r#"{"code":200,"status":"success","message":"","data":"success"}"#),
        Answer::json(
            r#"{"code":200,"status":"success","message":"","data":{"globalSettingEnabled":"N","donateCashEnabled":"N","donateGoodEnabled":"Y","donatePointEnabled":"Y","pointUnit":"积分","cashes":[0.88,6.66,8.88,18.11,66.6,88.8],"cashMin":0.02,"goods":[]}}"#,
        ),
        // The parameter error example of Polyv's page (`docs/polyv.md#errors`).
        Answer::json(r#"{"code":400,"status":"error","message":"param validate error","data":400}"#),
    ])
    .await;
    let client = client(&server);
    let channel = ChannelId::new(2_149_710).unwrap();
    let cashes = Cashes::parse(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"]).unwrap();
    client
        .set_cash_tips(channel, CashSettings::new(cashes, "0.02".parse().unwrap()))
        .await
        .unwrap();
    client
        .set_cash_tips(channel, CashSettings::switch(Enabled::No))
        .await
        .unwrap();
    let settings = client.donate_settings(channel).await.unwrap();
    assert_eq!(settings.cash_enabled, Some(Enabled::No));
    assert_eq!(settings.point_enabled, Some(Enabled::Yes));
    assert_eq!(settings.point_unit(), Some("积分"));
    assert_eq!(settings.cashes[3].get(), 1811);
    let err = client
        .set_cash_tips(Scope::Account, CashSettings::switch(Enabled::Yes))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::BadParameter && e.code() == Some(400)),
        "{err}"
    );

    let received = server.received();
    assert_eq!(received.len(), 4);
    assert_polyv(
        &received[0],
        "/live/v3/channel/donate/update-cash?appId=frlr1zazn3&channelId=2149710&timestamp=1600000000123&sign=CBC59E2899C56882DD9425C1A3315B86",
        r#"{"cashes":[0.88,6.66,8.88,18.11,66.6,88.8],"cashMin":0.02}"#,
    );
    assert_polyv(
        &received[1],
        "/live/v3/channel/donate/update-cash?appId=frlr1zazn3&channelId=2149710&timestamp=1600000000123&sign=CBC59E2899C56882DD9425C1A3315B86",
        r#"{"enabled":"N"}"#,
    );
    assert_polyv(
        &received[2],
        "/live/v3/channel/donate/get?appId=frlr1zazn3&channelId=2149710&timestamp=1600000000123&sign=CBC59E2899C56882DD9425C1A3315B86",
        "",
    );
    assert_polyv(
        &received[3],
        "/live/v3/channel/donate/update-cash?appId=frlr1zazn3&timestamp=1600000000123&sign=862AAEE292054028F012EEA68C1B75EA",
        r#"{"enabled":"Y"}"#,
    );
    assert!(received[2].request_line.starts_with("GET "));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever text the server issues as an open id or a token, `thGetToken` is asked once:
    /// it decodes exactly, or it is a typed error that is not retried.
    #[test]
    fn any_issued_open_id_or_token_costs_one_request(
        open_id in prop_oneof![any::<String>(), "[ -~]{0,30}", Just(String::new())],
        token in prop_oneof![any::<String>(), "\\PC{4090,4100}"],
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let body = serde_json::json!({
                "status": "200", "msg": "",
                "data": {"token": token, "openId": open_id, "userId": "alice"},
            });
            let server = Loopback::start(vec![Answer::linkv(&body.to_string())]).await;
            let result = client(&server).login_user(UserId::new("alice").unwrap()).await;
            assert_eq!(server.received().len(), 1, "{result:?}");
            match result {
                Ok(user) => {
                    assert_eq!(user.open_id.as_str(), open_id);
                    assert_eq!(user.token.as_str(), token);
                }
                Err(err) => {
                    assert!(!err.is_retryable(), "{err}");
                    assert!(matches!(err.kind(), ErrorKind::Api(e) if e.kind() == ApiErrorKind::UnreadableData), "{err}");
                }
            }
        });
    }
}
