//! The whole story of the SDK against the embedded emulator: no network, no real money.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! It starts a local emulator of the LinkV and Polyv servers, then, with the high-level
//! `liveapi::Client`: registers a user, completes a top-up order, spends coins, reads the
//! balance, sends one coin change twice with the same request id (applied once), sets a
//! channel's cash tips and reads them back, and shows a typed error.

use liveapi::model::linkv::{
    ChangeReason, Coins, OrderId, Platform, PortraitUri, UsdCents, UserId, UserName,
};
use liveapi::model::polyv::{CashSettings, Cashes, ChannelId, Enabled};
use liveapi::{Client, ErrorKind, LinkvCredentials, PolyvCredentials};
use liveapi_emulator::Emulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder().start().await?;
    println!(
        "Started the LinkV and Polyv emulator at {}",
        emulator.base_url()
    );

    // The emulator's demo apps; a real deployment reads these from its configuration
    // (`Client::from_env()` knows the LIVEAPI_* variables).
    let linkv = emulator.linkv_app();
    let polyv = emulator.polyv_app();
    let client = Client::builder()
        .linkv(
            LinkvCredentials::builder()
                .app_id(&linkv.app_key)
                .secret(linkv.app_secret.as_str())
                .alias(&linkv.alias)
                .base_url(emulator.base_url())
                .build()?,
        )
        .polyv(
            PolyvCredentials::builder()
                .app_id(&polyv.app_id)
                .secret(polyv.secret.as_str())
                .base_url(emulator.base_url())
                .build()?,
        )
        .build()?;

    // 1. Register a user and get their live token.
    let alice = client
        .register_user(
            UserId::new("alice")?,
            UserName::new("Alice")?,
            PortraitUri::new("https://cdn.example.com/alice.png")?,
        )
        .await?;
    println!("\nRegistered user `alice`: LinkV open id {}", alice.open_id);
    println!(
        "  her live token has {} characters",
        alice.token.as_str().len()
    );

    // 2. She tops up: complete the order, credit 100 coins for US$1.99.
    let balance = client
        .complete_order(
            &alice.open_id,
            OrderId::new("order-0001")?,
            Coins::new(100)?,
            UsdCents::new(199),
            Platform::Ios,
        )
        .await?;
    println!("Completed top-up order order-0001: balance is now {balance} coins");

    // 3. She spends 30 coins on a gift.
    client
        .remove_coins(&alice.open_id, Coins::new(30)?)
        .reason(ChangeReason::new("gift to a streamer")?)
        .await?;
    println!("Spent 30 coins on a gift");

    // 4. Read the balance.
    println!("Balance: {} coins", client.balance(&alice.open_id).await?);

    // 5. A bonus sent twice with the same request id, as a retry after a lost answer would:
    //    the server applies it once.
    let bonus_id = client.new_request_id()?;
    for attempt in 1..=2 {
        client
            .add_coins(&alice.open_id, Coins::new(5)?)
            .request_id(bonus_id.clone())
            .reason(ChangeReason::new("daily bonus")?)
            .await?;
        println!("Sent a 5-coin bonus with request id {bonus_id} (time {attempt})");
    }
    let balance = client.balance(&alice.open_id).await?;
    println!("Balance: {balance} coins: the bonus was applied once");

    // 6. Set the cash tips of Polyv channel 1000001 and read them back.
    let channel = ChannelId::new(1_000_001)?;
    let tips = CashSettings::new(
        Cashes::parse(["0.88", "6.66", "8.88", "18.88", "66.66", "88.88"])?,
        "0.50".parse()?,
    )
    .with_enabled(Enabled::Yes);
    client.set_cash_tips(channel, tips).await?;
    let settings = client.donate_settings(channel).await?;
    let amounts: Vec<String> = settings.cashes.iter().map(ToString::to_string).collect();
    println!(
        "\nChannel {channel} now offers cash tips of {} yuan (at least {} yuan)",
        amounts.join(", "),
        settings
            .cash_min
            .map_or_else(|| "?".to_owned(), |c| c.to_string())
    );

    // 7. A typed error: spending more than she has. Nothing changes, and retrying cannot help.
    let err = match client
        .remove_coins(&alice.open_id, Coins::new(1_000)?)
        .await
    {
        Ok(()) => return Err("spending 1000 coins should have been refused".into()),
        Err(err) => err,
    };
    println!("\nSpending 1000 coins was refused: {err}");
    if let ErrorKind::Api(answer) = err.kind() {
        let status = answer
            .code()
            .map_or_else(|| "none".to_owned(), |c| c.to_string());
        println!(
            "  typed as ErrorKind::Api, kind {:?}, status {status} in an HTTP {} answer, message `{}`",
            answer.kind(),
            answer.http_status(),
            answer.message()
        );
    }
    let meaning = err.meaning();
    println!(
        "  class {}, retryable: {}, outcome unknown: {}; the balance is still {} coins",
        meaning.class().as_str(),
        err.is_retryable(),
        err.outcome_unknown(),
        client.balance(&alice.open_id).await?
    );

    emulator.shutdown().await?;
    println!("\nDone: the emulator has shut down.");
    Ok(())
}
