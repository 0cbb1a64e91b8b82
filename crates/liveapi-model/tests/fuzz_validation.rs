//! Fuzzing the builders' validation on stable Rust: arbitrary text into every validated type,
//! arbitrary parameter sets into every request reader, arbitrary bytes into the JSON body
//! readers. Nothing panics, and whatever is accepted obeys the documented limits.
//!
//! 256 cases per property in the suite; `PROPTEST_CASES=100000 cargo test --release -p
//! liveapi-model --test fuzz_validation` is a longer session.

use std::collections::BTreeMap;

use liveapi_model::ParamSource;
use liveapi_model::linkv::*;
use liveapi_model::polyv::*;
use proptest::prelude::*;

/// Text that tends to break validators: the edges of each charset, lengths around each limit,
/// control characters, multi-byte characters, digits with signs and points.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,70}",
        "[A-Za-z0-9+=_-]{0,70}",
        "[A-Za-z0-9+=_ -]{60,70}",
        "[0-9]{0,25}",
        "-?[0-9]{0,6}(\\.[0-9]{0,4})?",
        "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}",
        "[\u{0}-\u{1f}\u{7f}a ]{0,8}",
        "[鲜花火箭😀]{0,8}",
        ".{120,130}",
        ".{1020,1030}",
    ]
}

fn keys() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "userId",
            "aid",
            "name",
            "portraitUri",
            "email",
            "countryCode",
            "birthday",
            "sex",
            "uid",
            "request_id",
            "type",
            "value",
            "order_id",
            "expriation",
            "money",
            "platform",
            "reason",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,10}",
    ]
}

fn params() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(keys(), text(), 0..14)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn validated_strings_obey_their_limits(s in text()) {
        if let Ok(id) = UserId::new(s.as_str()) {
            prop_assert!(!id.as_str().is_empty() && id.as_str().len() <= 64);
            prop_assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric() || "+=-_".contains(c)));
        }
        if let Ok(name) = UserName::new(s.as_str()) {
            prop_assert!(!name.as_str().is_empty() && name.as_str().len() <= 128);
        }
        if let Ok(uri) = PortraitUri::new(s.as_str()) {
            prop_assert!(uri.as_str().len() <= 1024);
        }
        if let Ok(id) = RequestId::new(s.as_str()) {
            prop_assert!((1..=64).contains(&id.as_str().len()));
            prop_assert!(id.as_str().bytes().all(|b| (b' '..=b'~').contains(&b)));
        }
        if let Ok(code) = CountryCode::new(s.as_str()) {
            prop_assert_eq!(code.as_str(), s.to_ascii_uppercase());
            prop_assert!(code.as_str().len() == 2 && code.as_str().bytes().all(|b| b.is_ascii_uppercase()));
        }
        if let Ok(email) = Email::new(s.as_str()) {
            prop_assert!(email.as_str().len() <= 254 && !email.as_str().chars().any(char::is_control));
        }
        for issued in [OpenId::new(s.as_str()).map(String::from), OrderId::new(s.as_str()).map(String::from)] {
            // Issued values: anything but empty, up to the bound, kept exactly.
            prop_assert_eq!(issued.is_ok(), !s.is_empty() && s.len() <= 4096);
        }
        for input in [DeviceId::new(s.as_str()).map(String::from), ChangeReason::new(s.as_str()).map(String::from)] {
            prop_assert_eq!(input.is_ok(), !s.is_empty() && s.len() <= 1024);
        }
        if let Ok(b) = Birthday::new(s.as_str()) {
            prop_assert_eq!(b.as_str().len(), 10);
        }
        if let Ok(name) = GoodName::new(s.as_str()) {
            prop_assert!(name.as_str().chars().count() <= 5);
        }
        if let Ok(img) = GoodImage::new(s.as_str()) {
            prop_assert!(img.as_str().chars().count() <= 120);
        }
        let _ = (s.parse::<Sex>(), s.parse::<Platform>(), s.parse::<ChangeType>(), s.parse::<Enabled>());
        if let Ok(c) = s.parse::<Coins>() {
            prop_assert!(c.get() <= i64::MAX as u64);
        }
        if let Ok(a) = s.parse::<Amount>() {
            prop_assert!((1..=999_999).contains(&a.cents().get()));
        }
        if let Ok(p) = s.parse::<GoodPrice>() {
            prop_assert!(p.cents().get() <= 999_999);
        }
        let _ = (s.parse::<Expiration>(), s.parse::<UsdCents>(), s.parse::<ChannelId>());
    }

    #[test]
    fn request_readers_never_panic_and_accept_only_complete_requests(params in params()) {
        let _ = ThGetToken::from_params(&params);
        let _ = GetUserTokens::from_params(&params);
        if let Ok(change) = ChangeGold::from_params(&params) {
            prop_assert!(change.value().get() > 0);
            prop_assert!(params.param("request_id").is_some());
            // A credit always has its expiry; a removal may come without (as Go and Python send it).
            prop_assert_eq!(change.expiration().is_some(), params.param("expriation").is_some());
            if change.change_type() == ChangeType::Add {
                prop_assert!(change.expiration().is_some());
            }
        }
        if let Ok(order) = OrderSuccess::from_params(&params) {
            prop_assert!(order.value().get() > 0);
            prop_assert!(params.param("order_id").is_some() && params.param("platform").is_some());
        }
    }

    #[test]
    fn body_readers_never_panic(body in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        r#"\{"(cashes|cashMin|enabled|goods)":[\[\]0-9\.,"a-zYN\{\} -]{0,80}\}"#.prop_map(String::into_bytes),
    ]) {
        if let Ok(cash) = CashSettings::from_json(&body) {
            prop_assert!(cash.cashes().is_some() || cash.cash_min().is_some() || cash.enabled().is_some());
            if let Some(cashes) = cash.cashes() {
                prop_assert_eq!(cashes.amounts().len(), 6);
            }
        }
        if let Ok(goods) = GoodSettings::from_json(&body) {
            prop_assert!((1..=9).contains(&goods.goods().as_slice().len()));
        }
    }
}
