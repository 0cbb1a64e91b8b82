//! Properties of every build and parse: whatever valid values go in, the request verifies under
//! the vendor's sign rules and sends no empty value; whatever bytes come back, parsing answers
//! a value or a typed error and never panics.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use liveapi_model::linkv::*;
use liveapi_model::polyv::*;
use liveapi_request::{LinkvCredentials, Operation, PolyvCredentials, SeededEntropy};
use liveapi_sign::{linkv, polyv};
use proptest::prelude::*;

const LINKV_SECRET: &str = "0123456789abcdef0123456789abcdef";
const POLYV_SECRET: &str = "fsq2k5weced1h8vui657xtdva66whf0g";

fn linkv_creds() -> LinkvCredentials {
    LinkvCredentials::builder()
        .app_id("app_key")
        .secret(LINKV_SECRET)
        .alias("alias")
        .base_url("http://127.0.0.1:8080/base")
        .build()
        .unwrap()
}

fn polyv_creds() -> PolyvCredentials {
    PolyvCredentials::builder()
        .app_id("app_id")
        .secret(POLYV_SECRET)
        .base_url("http://127.0.0.1:8080")
        .build()
        .unwrap()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// The server's view: the form (or query) verifies, and nothing empty was sent.
fn assert_linkv_accepts(request: &http::Request<Bytes>, now: SystemTime) {
    let params = form(request.body());
    assert!(params.iter().all(|(_, v)| !v.is_empty()), "{params:?}");
    assert_eq!(
        linkv::verify(params, LINKV_SECRET, now, linkv::DEFAULT_WINDOW),
        Ok(())
    );
}

fn assert_polyv_accepts(request: &http::Request<Bytes>, now: SystemTime) {
    let query = form(request.uri().query().unwrap_or_default().as_bytes());
    assert!(query.iter().all(|(_, v)| !v.is_empty()), "{query:?}");
    assert_eq!(
        polyv::verify(query, POLYV_SECRET, now, polyv::DEFAULT_WINDOW),
        Ok(())
    );
}

prop_compose! {
    fn user_id()(s in "[A-Za-z0-9+=_-]{1,64}") -> UserId { UserId::new(s).unwrap() }
}
prop_compose! {
    fn open_id()(s in "[A-Za-z0-9_-]{1,64}") -> OpenId { OpenId::new(s).unwrap() }
}
prop_compose! {
    fn request_id()(s in "[A-Za-z0-9_-]{32}") -> RequestId { RequestId::new(s).unwrap() }
}
prop_compose! {
    // Any printable text, including what needs escaping in a form: & = + % and spaces.
    fn name()(s in "[a-zA-Z0-9 &=+%?#/\u{4e00}-\u{4e2f}\u{1F600}]{1,40}") -> Option<UserName> {
        UserName::new(s).ok()
    }
}

fn now_secs() -> impl Strategy<Value = u64> {
    1_000_000_000u64..9_999_999_000
}

proptest! {
    // 256 cases by default; PROPTEST_CASES sets more for a longer fuzzing session.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_th_get_token_verifies(user in user_id(), name in name(), secs in now_secs(), seed: u64) {
        let mut request = ThGetToken::login(user);
        if let Some(name) = name {
            request = ThGetToken::register(
                request.user_id().clone(),
                name,
                PortraitUri::new("https://cdn.example.com/a%20b.png?x=1&y=2").unwrap(),
            );
        }
        let built = request.build(&linkv_creds(), at(secs), &SeededEntropy::new(seed)).unwrap();
        assert_linkv_accepts(&built, at(secs));
    }

    #[test]
    fn every_coin_change_verifies_and_keeps_its_request_id(
        uid in open_id(), rid in request_id(), coins in 1u64..1_000_000_000,
        remove: bool, secs in now_secs(), seed: u64,
    ) {
        let exp = Expiration::after_days(at(secs), 91);
        let coins = Coins::new(coins).unwrap();
        let change = if remove {
            ChangeGold::remove(uid, rid.clone(), coins, exp)
        } else {
            ChangeGold::add(uid, rid.clone(), coins, exp)
        }.unwrap();
        let first = change.build(&linkv_creds(), at(secs), &SeededEntropy::new(seed)).unwrap();
        let retry = change.build(&linkv_creds(), at(secs + 1), &SeededEntropy::new(seed ^ 1)).unwrap();
        assert_linkv_accepts(&first, at(secs));
        assert_linkv_accepts(&retry, at(secs + 1));
        let id = |r: &http::Request<Bytes>| form(r.body()).into_iter().find(|(k, _)| k == "request_id").map(|(_, v)| v);
        prop_assert_eq!(id(&first), Some(rid.as_str().to_owned()));
        prop_assert_eq!(id(&first), id(&retry));
        prop_assert_ne!(first.body(), retry.body(), "a retry is signed afresh");
    }

    #[test]
    fn every_polyv_call_verifies(channel in proptest::option::of(1u64..10_000_000_000), millis in 1_000_000_000_000u64..9_999_999_999_000) {
        let now = UNIX_EPOCH + Duration::from_millis(millis);
        let scope = Scope::from(channel.map(|c| ChannelId::new(c).unwrap()));
        let cash = CashSettings::new(
            Cashes::parse(["0.01", "1", "2.5", "10", "99.99", "9999.99"]).unwrap(),
            "0.01".parse().unwrap(),
        );
        let entropy = SeededEntropy::new(0);
        for built in [
            UpdateCash::new(scope, cash).build(&polyv_creds(), now, &entropy).unwrap(),
            GetDonate::new(scope).build(&polyv_creds(), now, &entropy).unwrap(),
        ] {
            assert_polyv_accepts(&built, now);
            let body = String::from_utf8(built.body().to_vec()).unwrap();
            prop_assert!(!body.contains("channelId"), "the channel never travels in the body");
        }
    }

    #[test]
    fn parsing_any_answer_never_panics(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let response = http::Response::builder().status(status).body(Bytes::from(body)).unwrap();
        let uid = OpenId::new("1").unwrap();
        let rid = RequestId::new("0123456789abcdef0123456789abcdef").unwrap();
        let exp = Expiration::at_unix_seconds(2_000_000_000);
        let _ = GetUserTokens::new(uid.clone()).parse(&response);
        let _ = ThGetToken::login(UserId::new("u").unwrap()).parse(&response);
        let _ = ChangeGold::add(uid.clone(), rid.clone(), Coins::new(1).unwrap(), exp).unwrap().parse(&response);
        let _ = OrderSuccess::credit(uid, rid, OrderId::new("o").unwrap(), Coins::new(1).unwrap(), UsdCents::new(1), Platform::H5, exp).unwrap().parse(&response);
        let _ = GetDonate::new(Scope::Account).parse(&response);
    }

    #[test]
    fn json_shaped_answers_never_panic(
        status in prop_oneof![Just("200".to_owned()), Just("\"200\"".to_owned()), any::<i64>().prop_map(|n| n.to_string())],
        tokens in prop_oneof![Just("\"12\"".to_owned()), Just("-1".to_owned()), Just("1e400".to_owned()), Just("99999999999999999999999".to_owned()), Just("null".to_owned()), Just("[]".to_owned()), any::<i64>().prop_map(|n| n.to_string())],
    ) {
        let body = format!(r#"{{"status":{status},"msg":"","data":{{"tokens":{tokens}}}}}"#);
        let response = http::Response::new(Bytes::from(body));
        if let Ok(coins) = GetUserTokens::new(OpenId::new("1").unwrap()).parse(&response) {
            prop_assert!(coins.coins.get() <= i64::MAX as u64);
        }
    }
}
