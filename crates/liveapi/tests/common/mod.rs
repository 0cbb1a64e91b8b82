//! An emulator on loopback and a client configured for its demo apps; a scripted loopback
//! server for the wire tests.

#[allow(dead_code)] // Only the wire tests answer from a script.
pub(crate) mod loopback;

use std::time::Duration;

use liveapi::model::linkv::{OpenId, PortraitUri, UserId, UserName};
use liveapi::{Client, ClientBuilder, LinkvCredentials, PolyvCredentials, RetryPolicy};
use liveapi_emulator::{Emulator, EmulatorBuilder, RunningEmulator};

pub(crate) async fn emulator(builder: EmulatorBuilder) -> RunningEmulator {
    builder.start().await.expect("the emulator starts")
}

/// A builder for a client of `emulator`'s demo apps, with quick retries.
pub(crate) fn client_builder(emulator: &RunningEmulator) -> ClientBuilder {
    let linkv = emulator.linkv_app();
    let polyv = emulator.polyv_app();
    Client::builder()
        .linkv(
            LinkvCredentials::builder()
                .app_id(&linkv.app_key)
                .secret(linkv.app_secret.as_str())
                .alias(&linkv.alias)
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .polyv(
            PolyvCredentials::new(&polyv.app_id, polyv.secret.as_str())
                .unwrap()
                .with_base_url(&emulator.base_url())
                .unwrap(),
        )
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(10)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(20)),
        )
        .attempt_timeout(Duration::from_secs(5))
}

#[allow(dead_code)] // Not every test file starts a default emulator.
pub(crate) async fn setup() -> (RunningEmulator, Client) {
    let emulator = emulator(Emulator::builder().seed(1)).await;
    let client = client_builder(&emulator).build().unwrap();
    (emulator, client)
}

/// Registers `name` and answers their open id.
#[allow(dead_code)] // Not every test file registers users.
pub(crate) async fn user(client: &Client, name: &str) -> OpenId {
    client
        .register_user(
            UserId::new(name).unwrap(),
            UserName::new(name).unwrap(),
            PortraitUri::new(format!("https://cdn.example.com/{name}.png")).unwrap(),
        )
        .await
        .unwrap()
        .open_id
}
