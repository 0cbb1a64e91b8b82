//! Every input the vendors' documentation forbids is refused when the value is built, with an
//! error that names the field.

use liveapi_model::linkv::*;
use liveapi_model::polyv::*;
use liveapi_model::{Rule, ValidationError};

fn field_of<T: std::fmt::Debug>(result: Result<T, ValidationError>) -> &'static str {
    result.expect_err("should be refused").field()
}

#[test]
fn linkv_user_id() {
    assert!(UserId::new("a".repeat(64)).is_ok());
    assert!(UserId::new("Az09+=-_").is_ok());
    assert_eq!(field_of(UserId::new("a".repeat(65))), "userId");
    assert_eq!(field_of(UserId::new("")), "userId");
    for bad in ["a b", "a/b", "a.b", "用户", "a@b", "a\0b", "a&b"] {
        let err = UserId::new(bad).unwrap_err();
        assert!(matches!(err.rule(), Rule::Charset { .. }), "{bad}: {err}");
    }
}

#[test]
fn linkv_profile_fields() {
    assert!(UserName::new("n".repeat(128)).is_ok());
    assert_eq!(field_of(UserName::new("n".repeat(129))), "name");
    assert_eq!(field_of(UserName::new("")), "name");
    assert!(PortraitUri::new("u".repeat(1024)).is_ok());
    assert_eq!(field_of(PortraitUri::new("u".repeat(1025))), "portraitUri");
    // Only the documented byte limits: any text, spaces and line breaks included.
    assert!(UserName::new("Ann\nSmith\t").is_ok());
    assert!(PortraitUri::new("https://cdn.example.com/a b.png").is_ok());
    // No shape check on e-mail: what a user typed is sent, up to 254 bytes.
    assert!(Email::new("@example.com").is_ok());
    assert!(Email::new(format!("{}@b.c", "a".repeat(250))).is_ok());
    assert_eq!(
        field_of(Email::new(format!("{}@b.cd", "a".repeat(250)))),
        "email"
    );
    assert_eq!(field_of(Email::new("a\u{7}@b.c")), "email");
    assert_eq!(field_of(Email::new("")), "email");
    // Any case, put in capitals; two letters.
    assert_eq!(CountryCode::new("cN").unwrap().as_str(), "CN");
    for bad in ["U", "USA", "1A", "", "É1"] {
        assert_eq!(field_of(CountryCode::new(bad)), "countryCode", "{bad}");
    }
    for bad in [
        "2010-01-32",
        "2010-13-01",
        "2010-00-10",
        "0000-01-01",
        "10-01-01",
        "2010/01/01",
        "2010-01-01 ",
    ] {
        assert_eq!(field_of(Birthday::new(bad)), "birthday", "{bad}");
    }
    assert_eq!(field_of("2".parse::<Sex>()), "sex");
}

#[test]
fn linkv_coin_fields() {
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    let uid = OpenId::new("1291371456374120449").unwrap();
    let rid = RequestId::new("0123456789abcdef0123456789abcdef").unwrap();
    let exp = Expiration::after_days(now, 91);
    assert_eq!(
        field_of(ChangeGold::add(uid.clone(), rid.clone(), Coins::ZERO, exp)),
        "value"
    );
    assert_eq!(field_of(Coins::new(u64::MAX)), "value");
    assert_eq!(field_of("1.5".parse::<Coins>()), "value");
    assert_eq!(field_of("-1".parse::<Coins>()), "value");
    assert_eq!(
        "1600086400.0".parse::<Expiration>().unwrap().unix_seconds(),
        1_600_086_400
    );
    for bad in [
        "1600086400.5",
        "1600086400.",
        ".0",
        "1.6e9",
        "-1",
        " 1",
        "1 ",
    ] {
        assert_eq!(field_of(bad.parse::<Expiration>()), "expriation", "{bad}");
    }
    assert_eq!(field_of("3".parse::<ChangeType>()), "type");
    assert_eq!(field_of("web".parse::<Platform>()), "platform");
    // Any printable ASCII up to 64 characters: the production SDKs' 31- and 32-character ids.
    for good in [
        "6000101140927991745433-Ab3dE5gH7",
        "6000101140927991745433-Ab3dE5gH",
        "0123456789abcdef0123456789abcde!",
        " ~",
        &"x".repeat(64),
    ] {
        assert!(RequestId::new(good).is_ok(), "{good}");
    }
    for bad in ["", "x\ty", "日本", &"x".repeat(65)] {
        assert_eq!(field_of(RequestId::new(bad)), "request_id", "{bad}");
    }
    assert_eq!(field_of(OrderId::new("")), "order_id");
    assert!(OrderId::new("ORD 1/2").is_ok());
    assert_eq!(field_of(ChangeReason::new("r".repeat(1025))), "reason");
    assert!(ChangeReason::new("two\nlines").is_ok());
}

#[test]
fn linkv_requests_from_wire_params_name_the_bad_field() {
    let ok = [
        ("uid", "42"),
        ("request_id", "0123456789abcdef0123456789abcdef"),
        ("type", "1"),
        ("value", "10"),
        ("expriation", "1600086400"),
    ];
    assert!(ChangeGold::from_params(&ok[..]).is_ok());
    for (i, (key, _)) in ok.iter().enumerate() {
        let mut missing = ok.to_vec();
        missing.remove(i);
        let err = ChangeGold::from_params(&missing).unwrap_err();
        assert_eq!((err.field(), err.rule()), (*key, &Rule::Missing));
        // An empty value counts as missing, as the signing rules treat it.
        let mut empty = ok.to_vec();
        empty[i].1 = "";
        assert_eq!(ChangeGold::from_params(&empty).unwrap_err().field(), *key);
    }
    let err = ThGetToken::from_params(&[("userId", "x".repeat(65))][..]).unwrap_err();
    assert_eq!(err.field(), "userId");
}

#[test]
fn polyv_amounts() {
    for good in ["0.01", "9999.99", "0.1", "66.60", "1"] {
        assert!(good.parse::<Amount>().is_ok(), "{good}");
    }
    for bad in [
        "0", "0.00", "10000", "9999.991", "0.005", "-1", "abc", "", "NaN", "1e5",
    ] {
        assert!(bad.parse::<Amount>().is_err(), "{bad}");
    }
    assert!(Amount::from_cents(0).is_err());
    assert!(Amount::from_cents(1_000_000).is_err());
}

#[test]
fn polyv_cashes_need_exactly_six() {
    for n in [0, 1, 5, 7, 12] {
        let texts = vec!["1"; n];
        let err = Cashes::parse(&texts).unwrap_err();
        assert_eq!(err.field(), "cashes");
        assert!(matches!(err.rule(), Rule::Count { actual, .. } if *actual == n));
    }
    assert_eq!(
        Cashes::parse(["1", "2", "3", "4", "5", "0"])
            .unwrap_err()
            .field(),
        "cashes"
    );
}

#[test]
fn polyv_goods() {
    assert!(GoodName::new("一二三四五").is_ok());
    assert_eq!(field_of(GoodName::new("一二三四五六")), "goodName");
    assert_eq!(field_of(GoodName::new("")), "goodName");
    assert!(GoodImage::new("i".repeat(120)).is_ok());
    assert_eq!(field_of(GoodImage::new("i".repeat(121))), "goodImg");
    let good = DonateGood::new(
        GoodName::new("花").unwrap(),
        GoodImage::new("//x/y.png").unwrap(),
        "1".parse().unwrap(),
    );
    assert!(DonateGoods::new(vec![good.clone(); 9]).is_ok());
    assert_eq!(field_of(DonateGoods::new(vec![good.clone(); 10])), "goods");
    assert_eq!(field_of(DonateGoods::new(vec![])), "goods");
    assert_eq!(field_of("10000".parse::<GoodPrice>()), "goodPrice");
}

#[test]
fn polyv_channel() {
    assert_eq!(field_of(ChannelId::new(0)), "channelId");
    assert_eq!(field_of("".parse::<ChannelId>()), "channelId");
    assert_eq!(field_of("-5".parse::<ChannelId>()), "channelId");
    assert_eq!(
        field_of("99999999999999999999999".parse::<ChannelId>()),
        "channelId"
    );
}

#[test]
fn polyv_bodies_read_by_a_server() {
    let ok = br#"{"cashes":[0.88,6.66,8.88,18.11,66.60,88.80],"cashMin":0.02,"enabled":"Y"}"#;
    assert!(CashSettings::from_json(ok).is_ok());
    let syntax = [
        &b""[..],
        b"{",
        b"[]",
        b"null",
        b"\"x\"",
        b"{\"cashes\":[1,2,3,4,5,6],}x",
    ];
    for body in syntax {
        assert!(
            matches!(CashSettings::from_json(body), Err(BodyError::Syntax(_))),
            "{body:?}"
        );
    }
    // Every field is optional: the vendor marks none of the three required
    // (docs/polyv.md#validation-rules).
    for partial in [
        &br#"{"cashMin":0.02}"#[..],
        br#"{"cashes":[1,2,3,4,5,6]}"#,
        br#"{"enabled":"N"}"#,
        br#"{"enabled":"N","cashes":null,"channelId":7}"#,
    ] {
        assert!(
            CashSettings::from_json(partial).is_ok(),
            "{}",
            String::from_utf8_lossy(partial)
        );
    }
    let invalid: [(&[u8], &str); 7] = [
        (&br#"{}"#[..], "cashes, cashMin or enabled"),
        (br#"{"cashes":null}"#, "cashes, cashMin or enabled"),
        (br#"{"cashes":[1,2,3,4,5],"cashMin":1}"#, "cashes"),
        (br#"{"cashes":[1,2,3,4,5,10000],"cashMin":1}"#, "cashes"),
        (br#"{"cashes":[1,2,3,4,5,6],"cashMin":0}"#, "cashMin"),
        (
            br#"{"cashes":[1,2,3,4,5,6],"cashMin":1,"enabled":"yes"}"#,
            "enabled",
        ),
        (br#"{"cashes":"1,2,3,4,5,6","cashMin":1}"#, "cashes"),
    ];
    for (body, field) in invalid {
        match CashSettings::from_json(body) {
            Err(BodyError::Invalid(e)) => assert_eq!(e.field(), field, "{e}"),
            other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
        }
    }
    let goods = r#"{"goods":[{"goodName":"一二三四五六","goodImg":"//x","goodPrice":1}]}"#;
    assert!(
        matches!(GoodSettings::from_json(goods.as_bytes()), Err(BodyError::Invalid(e)) if e.field() == "goodName")
    );
    let goods = r#"{"goods":[{"goodName":"花","goodImg":"//x","goodPrice":1,"goodEnabled":"X"}]}"#;
    assert!(
        matches!(GoodSettings::from_json(goods.as_bytes()), Err(BodyError::Invalid(e)) if e.field() == "goodEnabled")
    );
}

#[test]
fn errors_never_echo_the_refused_value() {
    let secretish = "p4ssw0rd-like-personal-data";
    let err = Email::new(format!("{secretish}\n")).unwrap_err();
    assert!(!err.to_string().contains(secretish));
    assert!(!format!("{err:?}").contains(secretish));
    let err = UserName::new(secretish.repeat(5)).unwrap_err();
    assert!(!err.to_string().contains(secretish));
    assert!(!format!("{err:?}").contains(secretish));
}

/// Every value type reads from text the same two ways, `str::parse` and `TryFrom<&str>`, with
/// the same rule.
#[test]
fn every_value_type_reads_from_text_both_ways() {
    use liveapi_model::linkv::{
        ChangeReason, ChangeType, Coins, DeviceId, Expiration, OpenId, OrderId, Platform,
        RequestId, Sex, UsdCents, UserId,
    };
    use liveapi_model::polyv::{Amount, Cents, ChannelId, Enabled, GoodPrice};

    fn both<T>(good: &str, bad: &str)
    where
        T: std::str::FromStr<Err = liveapi_model::ValidationError>
            + for<'a> TryFrom<&'a str, Error = liveapi_model::ValidationError>
            + PartialEq
            + std::fmt::Debug,
    {
        let parsed: T = good.parse().unwrap();
        assert_eq!(T::try_from(good).unwrap(), parsed, "{good}");
        assert!(bad.parse::<T>().is_err(), "{bad}");
        assert!(T::try_from(bad).is_err(), "{bad}");
    }
    both::<UserId>("alice", "a b");
    both::<OpenId>("1291371456374120449", "");
    both::<OrderId>("order-1", "");
    both::<RequestId>("order-42-credit", "é");
    both::<DeviceId>("device-7f3a", "");
    both::<ChangeReason>("gift", "");
    both::<Coins>("100", "-1");
    both::<UsdCents>("199", "1.5");
    both::<Expiration>("1800000000", "soon");
    both::<ChangeType>("1", "3");
    both::<Platform>("ios", "windows");
    both::<Sex>("1", "2");
    both::<ChannelId>("1000001", "0");
    both::<Enabled>("Y", "yes");
    both::<Cents>("0.88", "0.888");
    both::<Amount>("0.88", "0");
    both::<GoodPrice>("0", "10000");
}
