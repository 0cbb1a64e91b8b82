//! Building and signing an `http::Request` for every operation, and decoding its answer.
//!
//! The clock is fixed and the nonces come from [`SeededEntropy`], so each iteration does the
//! same work as a real call minus the operating system's randomness: collect the parameters,
//! sign them, form-encode the body or query, assemble the request. `parse` decodes a typical
//! success body through [`Operation::parse`].
//!
//! ```sh
//! cargo bench -p liveapi-request --bench build -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use liveapi_model::linkv::{
    ChangeGold, Coins, Expiration, GetUserTokens, OpenId, OrderId, OrderSuccess, Platform,
    PortraitUri, RequestId, Sex, ThGetToken, UsdCents, UserId, UserName,
};
use liveapi_model::polyv::{
    CashSettings, Cashes, ChannelId, DonateGood, DonateGoods, Enabled, GetDonate, GoodImage,
    GoodName, GoodSettings, UpdateCash, UpdateGoods,
};
use liveapi_request::{LinkvCredentials, Operation, PolyvCredentials, SeededEntropy};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_600_000_000_123)
}

fn linkv_creds() -> LinkvCredentials {
    LinkvCredentials::builder()
        .app_id("LM6000101140927991745433")
        .secret("0123456789abcdef0123456789abcdef")
        .alias("myalias")
        .base_url("https://live.example.com")
        .build()
        .expect("valid credentials")
}

fn polyv_creds() -> PolyvCredentials {
    PolyvCredentials::builder()
        .app_id("frlr1zazn3")
        .secret("fsq2k5weced1h8vui657xtdva66whf0g")
        .build()
        .expect("valid credentials")
}

fn uid() -> OpenId {
    OpenId::new("1291371456374120449").expect("valid open id")
}

fn rid() -> RequestId {
    RequestId::new("6000101140927991745433-Ab3dE5gH7").expect("valid request id")
}

fn channel() -> ChannelId {
    ChannelId::new(2_149_710).expect("valid channel")
}

fn response(body: &'static str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Bytes::from_static(body.as_bytes()))
        .expect("valid response")
}

/// LinkV's documented success answers.
const TOKEN_BODY: &str = r#"{"data":{"token":"asdsaddfa3234234ada2adsf","userId":"534961119","aid":"dsafdsf23wadfaad","openId":"115213496111983232934"},"msg":"","status":"200"}"#;
const BALANCE_BODY: &str = r#"{"data":{"tokens":"123"},"msg":"","status":"200"}"#;
const CHANGED_BODY: &str = r#"{"msg":"","status":"200"}"#;
/// Polyv's documented success answers.
const UPDATED_BODY: &str = r#"{"code":200,"status":"success","message":"","data":true}"#;
const DONATE_BODY: &str = r#"{"code":200,"status":"success","message":"","data":{"globalSettingEnabled":"N","donateCashEnabled":"Y","donateGoodEnabled":"Y","donateTips":"感谢打赏","cashMin":0.01,"cashes":[0.88,6.66,8.88,18.11,66.60,88.80],"donatePointEnabled":"N","pointUnit":"点","goods":[{"goodName":"鲜花","goodImg":"//livestatic.videocc.net/uploaded/images/webapp/channel/donate/01-flower.png","goodPrice":0.00,"goodEnabled":"Y"},{"goodName":"咖啡","goodImg":"//livestatic.videocc.net/uploaded/images/webapp/channel/donate/02-coffee.png","goodPrice":5.00,"goodEnabled":"Y"}]}}"#;

/// Benchmarks `build` (sign included) and `parse` of one operation, after checking once that
/// both succeed.
fn bench<O: Operation>(
    c: &mut Criterion,
    operation: &O,
    credentials: &O::Credentials,
    body: &'static str,
) {
    let entropy = SeededEntropy::new(42);
    operation
        .build(credentials, now(), &entropy)
        .expect("the request builds");
    let answer = response(body);
    if operation.parse(&answer).is_err() {
        panic!("{} does not decode its success body", O::NAME);
    }

    let mut group = c.benchmark_group(O::NAME);
    group.bench_function("build", |b| {
        b.iter(|| black_box(operation).build(black_box(credentials), black_box(now()), &entropy))
    });
    group.bench_function("parse", |b| {
        b.iter(|| black_box(operation).parse(black_box(&answer)))
    });
    group.finish();
}

fn linkv(c: &mut Criterion) {
    let creds = linkv_creds();
    let expiration = Expiration::after_days(now(), 91);
    let register = ThGetToken::register(
        UserId::new("test-go-tob").expect("valid user id"),
        UserName::new("Ann").expect("valid name"),
        PortraitUri::new("http://x.example.com/a.png").expect("valid uri"),
    )
    .with_sex(Sex::Female);
    bench(c, &register, &creds, TOKEN_BODY);
    let order = OrderSuccess::credit(
        uid(),
        rid(),
        OrderId::new("ORD-2020-0001").expect("valid order id"),
        Coins::new(100).expect("valid coins"),
        UsdCents::new(199),
        Platform::Ios,
        expiration,
    )
    .expect("a valid order");
    bench(c, &order, &creds, BALANCE_BODY);
    let change = ChangeGold::add(
        uid(),
        rid(),
        Coins::new(10).expect("valid coins"),
        expiration,
    )
    .expect("a valid change");
    bench(c, &change, &creds, CHANGED_BODY);
    bench(c, &GetUserTokens::new(uid()), &creds, BALANCE_BODY);
}

fn polyv(c: &mut Criterion) {
    let creds = polyv_creds();
    let cash = CashSettings::new(
        Cashes::parse(["0.88", "6.66", "8.88", "18.11", "66.60", "88.80"]).expect("six amounts"),
        "0.02".parse().expect("an amount"),
    )
    .with_enabled(Enabled::Yes);
    bench(c, &UpdateCash::new(channel(), cash), &creds, UPDATED_BODY);
    let goods = GoodSettings::new(
        DonateGoods::new(vec![DonateGood::new(
            GoodName::new("鲜花").expect("valid name"),
            GoodImage::new("//cdn.example.com/flower.png").expect("valid image"),
            "0".parse().expect("a price"),
        )])
        .expect("valid goods"),
    );
    bench(c, &UpdateGoods::new(channel(), goods), &creds, UPDATED_BODY);
    bench(c, &GetDonate::new(channel()), &creds, DONATE_BODY);
}

criterion_group!(benches, linkv, polyv);
criterion_main!(benches);
