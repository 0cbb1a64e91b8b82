//! Any valid request survives the trip to the wire and back, as a server reads it.

use std::time::{Duration, UNIX_EPOCH};

use liveapi_model::linkv::*;
use liveapi_model::polyv::*;
use proptest::prelude::*;

fn user_id() -> impl Strategy<Value = UserId> {
    "[A-Za-z0-9+=_-]{1,64}".prop_map(|s| UserId::new(s).unwrap())
}

fn open_id() -> impl Strategy<Value = OpenId> {
    "[0-9]{1,21}".prop_map(|s| OpenId::new(s).unwrap())
}

fn request_id() -> impl Strategy<Value = RequestId> {
    prop_oneof![
        (0u64..1 << 48, any::<[u8; 10]>()).prop_map(|(ms, r)| RequestId::from_unix_millis(ms, r)),
        "[ -~]{1,64}".prop_map(|s| RequestId::new(s).unwrap()),
    ]
}

fn coins() -> impl Strategy<Value = Coins> {
    (1..=i64::MAX as u64).prop_map(|c| Coins::new(c).unwrap())
}

fn printable(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[^\\p{{Cc}}]{{1,{max}}}")).unwrap()
}

fn th_get_token() -> impl Strategy<Value = ThGetToken> {
    (
        user_id(),
        prop::option::of(printable(30).prop_filter_map("too long", |s| UserName::new(s).ok())),
        prop::option::of("[!-~]{1,60}".prop_map(|s| PortraitUri::new(s).unwrap())),
        prop::option::of(prop_oneof![
            Just(Sex::Male),
            Just(Sex::Female),
            Just(Sex::Unknown)
        ]),
        prop::option::of(
            (1900u16..2100, 1u8..=12, 1u8..=28)
                .prop_map(|(y, m, d)| Birthday::from_ymd(y, m, d).unwrap()),
        ),
    )
        .prop_map(|(user, name, portrait, sex, birthday)| {
            let mut req = ThGetToken::login(user);
            if let (Some(n), Some(p)) = (name, portrait) {
                req = ThGetToken::register(req.user_id().clone(), n, p);
            }
            if let Some(s) = sex {
                req = req.with_sex(s);
            }
            if let Some(b) = birthday {
                req = req.with_birthday(b);
            }
            req
        })
}

fn as_wire(params: Params) -> Vec<(String, String)> {
    params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn amount() -> impl Strategy<Value = Amount> {
    (1u32..=999_999).prop_map(|c| Amount::from_cents(c).unwrap())
}

proptest! {
    #[test]
    fn linkv_requests_round_trip(
        token in th_get_token(),
        uid in open_id(),
        rid in request_id(),
        value in coins(),
        money in any::<u32>(),
        secs in 0u64..=i64::MAX as u64,
        reason in prop::option::of(printable(40)),
    ) {
        prop_assert_eq!(ThGetToken::from_params(&as_wire(token.params())), Ok(token));

        let exp = Expiration::at_unix_seconds(secs);
        let order = OrderSuccess::credit(uid.clone(), rid.clone(), OrderId::new("ORD-1").unwrap(),
            value, UsdCents::new(money), Platform::Android, exp).unwrap();
        prop_assert_eq!(OrderSuccess::from_params(&as_wire(order.params())), Ok(order));

        let mut change = ChangeGold::remove(uid.clone(), rid, value, exp).unwrap();
        if let Some(r) = reason.and_then(|r| ChangeReason::new(r).ok()) {
            change = change.with_reason(r);
        }
        prop_assert_eq!(ChangeGold::from_params(&as_wire(change.params())), Ok(change));

        let balance = GetUserTokens::new(uid);
        prop_assert_eq!(GetUserTokens::from_params(&as_wire(balance.params())), Ok(balance));
    }

    #[test]
    fn any_pending_change_is_stored_and_read_back_as_itself(
        uid in open_id(),
        rid in request_id(),
        value in coins(),
        money in any::<u32>(),
        secs in 0u64..=i64::MAX as u64,
        created_ms in 0u64..1 << 48,
        remove in any::<bool>(),
        order in any::<bool>(),
        order_id in printable(40),
        platform in prop_oneof![Just(Platform::H5), Just(Platform::Ios), Just(Platform::Android)],
        reason in prop::option::of(printable(40)),
    ) {
        let exp = Expiration::at_unix_seconds(secs);
        let change_type = if remove { ChangeType::Remove } else { ChangeType::Add };
        let request = if order {
            CoinRequest::Order(OrderSuccess::new(uid, rid, change_type,
                OrderId::new(order_id).unwrap(), value, UsdCents::new(money), platform, exp).unwrap())
        } else {
            let mut change = ChangeGold::new(uid, rid, change_type, value, exp).unwrap();
            if let Some(r) = reason.and_then(|r| ChangeReason::new(r).ok()) {
                change = change.with_reason(r);
            }
            CoinRequest::ChangeGold(change)
        };
        let pending = PendingChange::new(request, UNIX_EPOCH + Duration::from_millis(created_ms));
        let stored = serde_json::to_string(&pending).unwrap();
        let back: PendingChange = serde_json::from_str(&stored).unwrap();
        prop_assert_eq!(back.params(), pending.params());
        prop_assert_eq!(back.created_at(), pending.created_at());
        prop_assert_eq!(&back, &pending);
        // What it sends is what a server reads back.
        let wire = as_wire(back.params());
        match back.request() {
            CoinRequest::Order(o) => prop_assert_eq!(&OrderSuccess::from_params(&wire).unwrap(), o),
            CoinRequest::ChangeGold(c) => prop_assert_eq!(&ChangeGold::from_params(&wire).unwrap(), c),
        }
    }

    #[test]
    fn params_are_never_empty(token in th_get_token()) {
        prop_assert!(token.params().iter().all(|(_, v)| !v.is_empty()));
    }

    #[test]
    fn polyv_bodies_round_trip(
        cashes in prop::array::uniform6(amount()),
        min in amount(),
        enabled in prop::option::of(any::<bool>()),
        prices in prop::collection::vec(0u32..=999_999, 1..=9),
    ) {
        let mut cash = CashSettings::new(Cashes::new(cashes), min);
        if let Some(on) = enabled {
            cash = cash.with_enabled(Enabled::from(on));
        }
        let json = serde_json::to_vec(&cash).unwrap();
        prop_assert_eq!(CashSettings::from_json(&json), Ok(cash));

        let goods = prices.iter().map(|&p| DonateGood::new(
            GoodName::new("礼物").unwrap(),
            GoodImage::new("//cdn/x.png").unwrap(),
            GoodPrice::from_cents(p).unwrap(),
        )).collect();
        let goods = GoodSettings::new(DonateGoods::new(goods).unwrap());
        let json = serde_json::to_vec(&goods).unwrap();
        prop_assert_eq!(GoodSettings::from_json(&json), Ok(goods));
    }

    #[test]
    fn expiration_after_days_is_exact(secs in 0u64..4_000_000_000, days in 0u32..10_000) {
        let exp = Expiration::after_days(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(999), days);
        prop_assert_eq!(exp.unix_seconds(), secs + u64::from(days) * 86_400);
    }
}
