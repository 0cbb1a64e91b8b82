//! Every Polyv method of the client, end to end against the emulator on loopback.

use crate::common;

use liveapi::ErrorKind;
use liveapi::model::polyv::{
    CashSettings, Cashes, ChannelId, DonateGood, DonateGoods, Enabled, GoodImage, GoodName,
    GoodSettings, Scope,
};

fn cash(amounts: [&str; 6], min: &str) -> CashSettings {
    CashSettings::new(Cashes::parse(amounts).unwrap(), min.parse().unwrap())
}

fn channel(id: u64) -> ChannelId {
    ChannelId::new(id).unwrap()
}

#[tokio::test]
async fn a_channels_cash_tips_are_set_and_read_back() {
    let (_emulator, client) = common::setup().await;
    let settings = cash(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"], "0.02")
        .with_enabled(Enabled::Yes);
    client
        .set_cash_tips(channel(1_000_001), settings)
        .await
        .unwrap();

    let read = client.donate_settings(channel(1_000_001)).await.unwrap();
    let cents: Vec<u32> = read.cashes.iter().map(|c| c.get()).collect();
    assert_eq!(cents, [88, 666, 888, 1811, 6660, 8880]);
    assert_eq!(read.cash_min.map(|c| c.get()), Some(2));
    assert_eq!(read.cash_enabled, Some(Enabled::Yes));
    assert_eq!(read.global_setting_enabled, Some(Enabled::No));

    // The other channel still follows the account.
    let other = client.donate_settings(channel(1_000_002)).await.unwrap();
    assert_eq!(other.global_setting_enabled, Some(Enabled::Yes));
}

#[tokio::test]
async fn account_wide_settings_reach_channels_without_their_own() {
    let (_emulator, client) = common::setup().await;
    client
        .set_cash_tips(Scope::Account, cash(["1", "2", "3", "4", "5", "6"], "0.5"))
        .await
        .unwrap();
    let account = client.donate_settings(Scope::Account).await.unwrap();
    assert_eq!(account.cash_min.map(|c| c.get()), Some(50));
    let follows = client.donate_settings(channel(1_000_002)).await.unwrap();
    assert_eq!(follows.cashes.first().map(|c| c.get()), Some(100));
}

#[tokio::test]
async fn gift_tips_are_set_and_read_back() {
    let (_emulator, client) = common::setup().await;
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
    client
        .set_gift_tips(channel(1_000_002), GoodSettings::new(goods))
        .await
        .unwrap();
    let read = client.donate_settings(channel(1_000_002)).await.unwrap();
    let names: Vec<&str> = read.goods.iter().map(|g| g.name()).collect();
    assert_eq!(names, ["鲜花", "火箭"]);
}

#[tokio::test]
async fn an_unknown_channel_is_a_typed_refusal() {
    let (emulator, client) = common::setup().await;
    let err = client.donate_settings(channel(42)).await.unwrap_err();
    match err.kind() {
        ErrorKind::Api(e) if e.kind() == liveapi::model::ApiErrorKind::IllegalChannel => {
            assert_eq!(e.channel(), Some("42"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(emulator.requests().len(), 1);
}

#[tokio::test]
async fn a_wrong_polyv_secret_is_an_auth_error() {
    let (emulator, _) = common::setup().await;
    let client = common::client_builder(&emulator)
        .polyv(
            liveapi::PolyvCredentials::builder()
                .app_id(&emulator.polyv_app().app_id)
                .secret("wrong")
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = client.donate_settings(Scope::Account).await.unwrap_err();
    assert!(err.is_auth(), "{err}");
}
