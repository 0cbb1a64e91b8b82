//! Coin changes through a durable outbox: a change is committed to a store before it is sent,
//! and sent with its own request id until the server's answer settles it, whatever crashes in
//! between. Here the store is a SQLite file in a temporary directory and the server is the
//! embedded emulator: no network, no real money.
//!
//! ```sh
//! cargo run --example outbox
//! ```
//!
//! It opens the outbox, starts its dispatcher, enqueues the 100-coin credit of a paid order
//! under a request id made from the order (so that enqueueing it again, after a crash say,
//! is a no-op), waits until the credit settles and prints it.

use std::time::{Duration, Instant, SystemTime};

use liveapi::model::linkv::{Coins, Expiration, PortraitUri, RequestId, UserId, UserName};
use liveapi::{Client, LinkvCredentials};
use liveapi_emulator::Emulator;
use liveapi_outbox::{Outbox, State};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder().start().await?;
    let app = emulator.linkv_app();
    let client = Client::builder()
        .linkv(
            LinkvCredentials::builder()
                .app_id(&app.app_key)
                .secret(app.app_secret.as_str())
                .alias(&app.alias)
                .base_url(emulator.base_url())
                .build()?,
        )
        .build()?;
    let alice = client
        .register_user(
            UserId::new("alice")?,
            UserName::new("Alice")?,
            PortraitUri::new("https://cdn.example.com/alice.png")?,
        )
        .await?;

    // One SQLite file beside the application; `Outbox::open` takes a `postgres://` URL too.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("coins.outbox");
    let outbox = Outbox::open(path.to_str().ok_or("the temporary path is not UTF-8")?).await?;
    println!("Opened the outbox at {}", path.display());

    // The dispatcher sends whatever the outbox holds, until it is told to stop.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = tokio::spawn({
        let (outbox, client) = (outbox.clone(), client.clone());
        async move {
            outbox
                .run(&client, async {
                    let _ = stopped.await;
                })
                .await
        }
    });

    // The credit of order 42. Its request id comes from the order, and so must its expiry
    // (the server compares a repeated request id's parameters): the start of today plus 30
    // days is the same all day.
    let request_id = RequestId::new("order-42-credit")?;
    let change = client
        .add_coins(&alice.open_id, Coins::new(100)?)
        .request_id(request_id.clone())
        .expires_at(Expiration::days_from_today(SystemTime::now(), 30))
        .into_pending()?;
    // Durable from here on: a crash now loses nothing, the next dispatcher sends it.
    let first = outbox.enqueue(&change).await?;
    let again = outbox.enqueue(&change).await?;
    println!("Enqueued {request_id}: {first:?}, then {again:?}");

    // Wait until the dispatcher has settled it.
    let started = Instant::now();
    let entry = loop {
        match outbox.get(&request_id).await? {
            Some(entry) if entry.is_settled() => break entry,
            _ if started.elapsed() > Duration::from_secs(10) => {
                return Err("the credit did not settle within 10 s".into());
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    print!(
        "{request_id} settled after {} attempt(s): ",
        entry.attempts()
    );
    match entry.state() {
        State::Applied { .. } => println!("applied"),
        State::Refused { refusal, .. } => println!("refused: {}", refusal.message()),
        State::NeedsReconciliation { reason, .. } => {
            println!("needs reconciliation: {}", reason.message());
        }
        other => println!("{}", other.name()),
    }
    println!(
        "Alice's balance: {} coins",
        client.balance(&alice.open_id).await?
    );

    let _ = stop.send(());
    dispatcher.await??;
    emulator.shutdown().await?;
    println!("Done: the dispatcher stopped and the emulator has shut down.");
    Ok(())
}
