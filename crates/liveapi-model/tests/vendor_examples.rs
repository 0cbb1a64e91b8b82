//! Every response example in the vendors' documentation decodes (`docs/linkv.md#answers`,
//! `docs/polyv.md#answers`), copied here verbatim (trailing commas included: the LinkV
//! examples are hand-written).

use liveapi_model::linkv::{self, Coins, UserToken};
use liveapi_model::polyv;
use liveapi_model::{ApiErrorKind, Vendor};

#[test]
fn linkv_th_get_token_success() {
    let body = br#"{
    "data": {
        "token": "asdsaddfa3234234ada2adsf",
        "userId": "534961119",
        "aid": "dsafdsf23wadfaad",
        "openId": "115213496111983232934",
    },
    "msg": "",
    "status": "200"
}"#;
    let token: UserToken = linkv::decode(200, body).unwrap();
    assert_eq!(token.token.as_str(), "asdsaddfa3234234ada2adsf");
    assert_eq!(token.open_id.as_str(), "115213496111983232934");
    assert_eq!(token.user_id.as_deref(), Some("534961119"));
    assert_eq!(token.aid.as_deref(), Some("dsafdsf23wadfaad"));
}

#[test]
fn linkv_sign_errors_with_and_without_data() {
    let with_data = br#"{
    "status": "403",
    "msg": "sign err",
    "data": []
}"#;
    let without_data = br#"{
    "status": "403",
    "msg": "sign err"
}"#;
    for body in [&with_data[..], &without_data[..]] {
        let err = linkv::decode::<UserToken>(200, body).unwrap_err();
        assert_eq!(
            (err.vendor(), err.kind(), err.code(), err.message()),
            (
                Vendor::Linkv,
                ApiErrorKind::BadSignature,
                Some(403),
                "sign err"
            )
        );
        assert!(linkv::decode::<Coins>(200, body).is_err());
        assert!(linkv::decode::<()>(200, body).is_err());
    }
}

#[test]
fn linkv_balance_success_examples() {
    // orderSuccess and getUserTokens share this example.
    let body = br#"{
    "data": {
        "tokens": "123",
    },
    "msg": "",
    "status": "200"
}"#;
    assert_eq!(linkv::decode::<Coins>(200, body).unwrap().get(), 123);
}

#[test]
fn linkv_change_gold_success() {
    let body = br#"{
    "msg": "",
    "status": "200"
}"#;
    linkv::decode::<()>(200, body).unwrap();
}

#[test]
fn polyv_update_cash_success() {
    let body = br#"{
    "code": 200,
    "status": "success",
    "message": "",
    "data": true
}"#;
    polyv::decode::<()>(200, body).unwrap();
}

#[test]
fn polyv_update_cash_errors() {
    let cases: [(&[u8], ApiErrorKind); 7] = [
        (
            br#"{"code": 400, "status": "error", "message": "param validate error", "data": 400}"#,
            ApiErrorKind::BadParameter,
        ),
        (
            br#"{"code": 400, "status": "error", "message": "appId is required.", "data": ""}"#,
            ApiErrorKind::BadParameter,
        ),
        (
            br#"{"code": 400, "status": "error", "message": "application not found.", "data": ""}"#,
            ApiErrorKind::UnknownApp,
        ),
        (
            br#"{"code": 400, "status": "error", "message": "invalid timestamp.", "data": ""}"#,
            ApiErrorKind::ExpiredTimestamp,
        ),
        (
            br#"{"code": 403, "status": "error", "message": "invalid signature.", "data": ""}"#,
            ApiErrorKind::BadSignature,
        ),
        (
            br#"{"code": 403, "status": "error", "message": "illegal channel id: 10001", "data": ""}"#,
            ApiErrorKind::IllegalChannel,
        ),
        (
            br#"{"code": 400, "status": "error", "message": "number range error", "data": ""}"#,
            ApiErrorKind::BadParameter,
        ),
    ];
    for (body, expected) in cases {
        for http_status in [200, 400, 403] {
            let err = polyv::decode::<()>(http_status, body).unwrap_err();
            assert_eq!(err.kind(), expected, "{err:?}");
            assert_eq!(err.http_status(), http_status);
            if expected == ApiErrorKind::IllegalChannel {
                assert_eq!(err.channel(), Some("10001"));
            }
        }
    }
}

#[test]
fn polyv_donate_get_success_from_the_docs() {
    let body = r#"{"code":200,"status":"success","message":"","data":{
        "globalSettingEnabled":"N","donateCashEnabled":"Y","donateGoodEnabled":"Y",
        "donateTips":"感谢打赏","cashMin":0.01,"cashes":[0.88,6.66,8.88,18.11,66.60,88.80],
        "donatePointEnabled":"N","pointUnit":"点",
        "goods":[
          {"goodName":"鲜花","goodImg":"//livestatic.videocc.net/uploaded/images/webapp/channel/donate/01-flower.png","goodPrice":0.00,"goodEnabled":"Y"},
          {"goodName":"咖啡","goodImg":"//livestatic.videocc.net/uploaded/images/webapp/channel/donate/02-coffee.png","goodPrice":5.00,"goodEnabled":"Y"}
        ]}}"#;
    let settings: polyv::DonateSettings = polyv::decode(200, body.as_bytes()).unwrap();
    assert_eq!(settings.global_setting_enabled, Some(polyv::Enabled::No));
    assert_eq!(
        settings.cashes.iter().map(|c| c.get()).collect::<Vec<_>>(),
        [88, 666, 888, 1811, 6660, 8880]
    );
    assert_eq!(settings.cash_min.map(|c| c.get()), Some(1));
    assert_eq!(settings.goods[0].name(), "鲜花");
    assert_eq!(settings.goods[0].price.map(|c| c.get()), Some(0));
    assert_eq!(settings.goods[1].price.map(|c| c.get()), Some(500));
    assert_eq!(settings.tips(), Some("感谢打赏"));
}
