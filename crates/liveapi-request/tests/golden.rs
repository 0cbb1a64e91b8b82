//! Golden requests: every operation, built with a fixed clock and seeded randomness, byte for
//! byte (method, URI, headers, body). The signatures were cross-checked with an independent
//! MD5/SHA-256 implementation when these were frozen, and every request is also verified
//! here with the sign rules, as the servers would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use liveapi_model::linkv::*;
use liveapi_model::polyv::*;
use liveapi_request::{LinkvCredentials, Operation, PolyvCredentials, SeededEntropy};
use liveapi_sign::{linkv, polyv};

const LINKV_SECRET: &str = "0123456789abcdef0123456789abcdef";
const POLYV_SECRET: &str = "fsq2k5weced1h8vui657xtdva66whf0g";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_600_000_000_123)
}

fn linkv_creds() -> LinkvCredentials {
    LinkvCredentials::builder()
        .app_id("LM6000101140927991745433")
        .secret(LINKV_SECRET)
        .alias("myalias")
        .base_url("https://live.example.com/gw")
        .build()
        .unwrap()
}

fn polyv_creds() -> PolyvCredentials {
    PolyvCredentials::builder()
        .app_id("frlr1zazn3")
        .secret(POLYV_SECRET)
        .build()
        .unwrap()
}

fn uid() -> OpenId {
    OpenId::new("1291371456374120449").unwrap()
}

fn rid() -> RequestId {
    RequestId::new("6000101140927991745433-Ab3dE5gH7").unwrap()
}

fn headers(request: &http::Request<Bytes>) -> Vec<(String, String)> {
    request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

fn form_headers() -> Vec<(String, String)> {
    [
        ("content-type", "application/x-www-form-urlencoded"),
        (
            "user-agent",
            concat!("liveapi-rs/", env!("CARGO_PKG_VERSION")),
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// Checks a LinkV request against its golden body and verifies it as the server would.
fn check_linkv(request: &http::Request<Bytes>, path: &str, body: &str) {
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(
        request.uri().to_string(),
        format!("https://live.example.com/gw{path}")
    );
    assert_eq!(headers(request), form_headers());
    assert_eq!(std::str::from_utf8(request.body()).unwrap(), body);
    let params: Vec<(String, String)> = form_urlencoded::parse(request.body())
        .into_owned()
        .collect();
    assert!(
        params.iter().all(|(_, v)| !v.is_empty()),
        "an empty value was sent"
    );
    assert_eq!(
        linkv::verify(params, LINKV_SECRET, now(), linkv::DEFAULT_WINDOW),
        Ok(())
    );
}

#[test]
fn th_get_token() {
    let request = ThGetToken::register(
        UserId::new("test-go-tob").unwrap(),
        UserName::new("Ann 😀").unwrap(),
        PortraitUri::new("http://x.example.com/a.png?s=1&t=2").unwrap(),
    )
    .with_sex(Sex::Female)
    .build(&linkv_creds(), now(), &SeededEntropy::new(42))
    .unwrap();
    check_linkv(
        &request,
        "/open/v0/thGetToken",
        "app_id=LM6000101140927991745433&name=Ann+%F0%9F%98%80\
         &nonce_str=ZwxvmydD1600000000D3o2zp1o\
         &portraitUri=http%3A%2F%2Fx.example.com%2Fa.png%3Fs%3D1%26t%3D2&sex=0&userId=test-go-tob\
         &sign=c981e60fa14fff27466b4883221cd337",
    );
}

#[test]
fn order_success_carries_the_alias_as_channel() {
    let exp = Expiration::after_days(now(), 91);
    let request = OrderSuccess::credit(
        uid(),
        rid(),
        OrderId::new("ORD-2020-0001").unwrap(),
        Coins::new(100).unwrap(),
        UsdCents::new(199),
        Platform::Ios,
        exp,
    )
    .unwrap()
    .build(&linkv_creds(), now(), &SeededEntropy::new(43))
    .unwrap();
    let nonce = nonce_of(&request);
    check_linkv(
        &request,
        "/open/finanv0/orderSuccess",
        &format!(
            "app_id=LM6000101140927991745433&channel=myalias&expriation=1607862400&money=199\
             &nonce_str={nonce}&order_id=ORD-2020-0001&platform=ios\
             &request_id=6000101140927991745433-Ab3dE5gH7&type=1&uid=1291371456374120449&value=100\
             &sign={}",
            sign_of(&request)
        ),
    );
}

#[test]
fn change_gold_with_a_reason_that_needs_escaping() {
    let request = ChangeGold::remove(
        uid(),
        rid(),
        Coins::new(10).unwrap(),
        Expiration::after_days(now(), 91),
    )
    .unwrap()
    .with_reason(ChangeReason::new("测试 a=b&c").unwrap())
    .build(&linkv_creds(), now(), &SeededEntropy::new(44))
    .unwrap();
    check_linkv(
        &request,
        "/open/finanv0/changeGold",
        &format!(
            "app_id=LM6000101140927991745433&expriation=1607862400&nonce_str={}\
             &reason=%E6%B5%8B%E8%AF%95+a%3Db%26c&request_id=6000101140927991745433-Ab3dE5gH7\
             &type=2&uid=1291371456374120449&value=10&sign={}",
            nonce_of(&request),
            sign_of(&request)
        ),
    );
}

#[test]
fn get_user_tokens() {
    let request = GetUserTokens::new(uid())
        .build(&linkv_creds(), now(), &SeededEntropy::new(45))
        .unwrap();
    check_linkv(
        &request,
        "/open/finanv0/getUserTokens",
        &format!(
            "app_id=LM6000101140927991745433&nonce_str={}&uid=1291371456374120449&sign={}",
            nonce_of(&request),
            sign_of(&request)
        ),
    );
}

#[test]
fn fixed_seed_fixed_bytes() {
    // The whole body, nonce and sign included, for one seed: a change in nonce generation,
    // ordering or encoding shows up here.
    let request = GetUserTokens::new(uid())
        .build(&linkv_creds(), now(), &SeededEntropy::new(42))
        .unwrap();
    assert_eq!(
        std::str::from_utf8(request.body()).unwrap(),
        "app_id=LM6000101140927991745433&nonce_str=ZwxvmydD1600000000D3o2zp1o\
         &uid=1291371456374120449&sign=ac4339e1b383a869c9c8c7789118d3a5"
    );
}

fn param_of(request: &http::Request<Bytes>, key: &str) -> String {
    form_urlencoded::parse(request.body())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn nonce_of(request: &http::Request<Bytes>) -> String {
    param_of(request, "nonce_str")
}

fn sign_of(request: &http::Request<Bytes>) -> String {
    param_of(request, "sign")
}

fn cash() -> CashSettings {
    CashSettings::new(
        Cashes::parse(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"]).unwrap(),
        "0.02".parse().unwrap(),
    )
    .with_enabled(Enabled::Yes)
}

fn channel() -> ChannelId {
    ChannelId::new(2_149_710).unwrap()
}

/// Checks a Polyv request and verifies its query as the server would.
fn check_polyv(request: &http::Request<Bytes>, method: http::Method, uri: &str, body: &str) {
    assert_eq!(request.method(), method);
    assert_eq!(request.uri().to_string(), uri);
    let query: Vec<(String, String)> =
        form_urlencoded::parse(request.uri().query().unwrap().as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        polyv::verify(query, POLYV_SECRET, now(), polyv::DEFAULT_WINDOW),
        Ok(())
    );
    assert_eq!(std::str::from_utf8(request.body()).unwrap(), body);
    let mut expected = Vec::new();
    if method == http::Method::POST {
        expected.push((
            "content-type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        ));
    }
    expected.push((
        "user-agent".to_owned(),
        concat!("liveapi-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
    ));
    assert_eq!(headers(request), expected);
}

const CASH_BODY: &str =
    r#"{"cashes":[0.88,6.66,8.88,18.11,66.6,88.8],"cashMin":0.02,"enabled":"Y"}"#;

#[test]
fn update_cash_for_a_channel_puts_the_channel_in_the_signed_query() {
    let request = UpdateCash::new(channel(), cash())
        .build(&polyv_creds(), now(), &SeededEntropy::new(1))
        .unwrap();
    check_polyv(
        &request,
        http::Method::POST,
        "https://api.polyv.net/live/v3/channel/donate/update-cash\
         ?appId=frlr1zazn3&channelId=2149710&timestamp=1600000000123\
         &sign=CBC59E2899C56882DD9425C1A3315B86",
        CASH_BODY,
    );
}

#[test]
fn update_cash_account_wide_has_no_channel_anywhere() {
    let request = UpdateCash::new(Scope::Account, cash())
        .build(&polyv_creds(), now(), &SeededEntropy::new(1))
        .unwrap();
    check_polyv(
        &request,
        http::Method::POST,
        "https://api.polyv.net/live/v3/channel/donate/update-cash\
         ?appId=frlr1zazn3&timestamp=1600000000123&sign=862AAEE292054028F012EEA68C1B75EA",
        CASH_BODY,
    );
    assert!(!request.uri().to_string().contains("null"));
}

#[test]
fn update_goods() {
    let goods = GoodSettings::new(
        DonateGoods::new(vec![DonateGood::new(
            GoodName::new("鲜花").unwrap(),
            GoodImage::new("//cdn.example.com/flower.png").unwrap(),
            "0".parse().unwrap(),
        )])
        .unwrap(),
    );
    let request = UpdateGoods::new(channel(), goods)
        .build(&polyv_creds(), now(), &SeededEntropy::new(1))
        .unwrap();
    check_polyv(
        &request,
        http::Method::POST,
        "https://api.polyv.net/live/v3/channel/donate/update-good\
         ?appId=frlr1zazn3&channelId=2149710&timestamp=1600000000123\
         &sign=CBC59E2899C56882DD9425C1A3315B86",
        r#"{"goods":[{"goodName":"鲜花","goodImg":"//cdn.example.com/flower.png","goodPrice":0.0,"goodEnabled":"Y"}]}"#,
    );
}

#[test]
fn donate_get_is_a_get_without_body() {
    let request = GetDonate::new(channel())
        .build(&polyv_creds(), now(), &SeededEntropy::new(1))
        .unwrap();
    check_polyv(
        &request,
        http::Method::GET,
        "https://api.polyv.net/live/v3/channel/donate/get\
         ?appId=frlr1zazn3&channelId=2149710&timestamp=1600000000123\
         &sign=CBC59E2899C56882DD9425C1A3315B86",
        "",
    );
}

#[cfg(feature = "sha256")]
#[test]
fn donate_get_signed_with_sha256() {
    let creds = PolyvCredentials::builder()
        .app_id("frlr1zazn3")
        .secret(POLYV_SECRET)
        .signature_method(liveapi_sign::polyv::SignatureMethod::Sha256)
        .build()
        .unwrap();
    let request = GetDonate::new(channel())
        .build(&creds, now(), &SeededEntropy::new(1))
        .unwrap();
    check_polyv(
        &request,
        http::Method::GET,
        "https://api.polyv.net/live/v3/channel/donate/get\
         ?appId=frlr1zazn3&channelId=2149710&signatureMethod=SHA256&timestamp=1600000000123\
         &sign=724C227818EBFDC58710373C99030DCA9664F1246A8A23DEC6CDD889ABF2BB13",
        "",
    );
}

#[test]
fn a_retry_is_signed_afresh_with_the_same_request_id() {
    let change = ChangeGold::add(
        uid(),
        rid(),
        Coins::new(5).unwrap(),
        Expiration::at_unix_seconds(1_700_000_000),
    )
    .unwrap();
    let entropy = SeededEntropy::new(7);
    let first = change.build(&linkv_creds(), now(), &entropy).unwrap();
    let later = now() + Duration::from_secs(2);
    let retry = change.build(&linkv_creds(), later, &entropy).unwrap();
    assert_ne!(nonce_of(&first), nonce_of(&retry));
    assert_ne!(sign_of(&first), sign_of(&retry));
    for key in ["request_id", "uid", "type", "value", "expriation"] {
        assert_eq!(param_of(&first, key), param_of(&retry, key), "{key}");
    }
    assert_eq!(
        liveapi_request::Operation::request_id(&change).map(RequestId::as_str),
        Some("6000101140927991745433-Ab3dE5gH7")
    );
    let query: Vec<(String, String)> = form_urlencoded::parse(retry.body()).into_owned().collect();
    assert!(linkv::verify(query, LINKV_SECRET, later, linkv::DEFAULT_WINDOW).is_ok());
}
