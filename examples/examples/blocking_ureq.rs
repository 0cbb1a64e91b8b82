//! Driving `liveapi-request` with a different HTTP stack: blocking `ureq`, no async runtime in
//! the calling code.
//!
//! ```sh
//! cargo run --example blocking_ureq
//! ```
//!
//! `liveapi-request` builds signed `http::Request<Bytes>` values and reads
//! `http::Response<Bytes>` back; any closure from one to the other is a transport. Retries are
//! the crate's pure policy: each attempt is re-signed and keeps the request id.
//!
//! The emulator stands in for the servers here. It is async, so it runs on a Tokio runtime of
//! its own; the calls below are plain blocking code.

use std::time::Duration;

use bytes::Bytes;
use liveapi_emulator::Emulator;
use liveapi_request::model::linkv::{
    ChangeGold, Coins, Expiration, GetUserTokens, PortraitUri, ThGetToken, UserId, UserName,
};
use liveapi_request::model::polyv::{GetDonate, Scope};
use liveapi_request::retry::RetryPolicy;
use liveapi_request::{Context, LinkvCredentials, PolyvCredentials, call_with_retries};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    let emulator = runtime.block_on(Emulator::builder().start())?;
    let linkv = emulator.linkv_app();
    let creds = LinkvCredentials::new(
        &linkv.app_key,
        linkv.app_secret.as_str(),
        &linkv.alias,
        &emulator.base_url(),
    )?;

    // The transport: ureq with a timeout, HTTP errors as responses (the SDK reads them), TLS
    // verification on (ureq's default), and a cap on the body size.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut transport =
        |request: http::Request<Bytes>| -> Result<http::Response<Bytes>, ureq::Error> {
            let response = agent.run(request.map(|body| body.to_vec()))?;
            let (parts, mut body) = response.into_parts();
            let bytes = body.with_config().limit(1 << 20).read_to_vec()?;
            Ok(http::Response::from_parts(parts, Bytes::from(bytes)))
        };

    let context = Context::default(); // system clock, OS CSPRNG
    let policy = RetryPolicy::default();
    let user = call_with_retries(
        &ThGetToken::register(
            UserId::new("bob")?,
            UserName::new("Bob")?,
            PortraitUri::new("https://cdn.example.com/bob.png")?,
        ),
        &creds,
        &context,
        &mut transport,
        &policy,
        std::thread::sleep,
    )?;
    println!("registered bob: open id {}", user.open_id);

    // The request id is made once, before any attempt, and travels with every retry.
    let change = ChangeGold::add(
        user.open_id.clone(),
        context.entropy().request_id()?,
        Coins::new(50)?,
        Expiration::after_days(context.now(), 91),
    )?;
    call_with_retries(
        &change,
        &creds,
        &context,
        &mut transport,
        &policy,
        std::thread::sleep,
    )?;
    let balance = call_with_retries(
        &GetUserTokens::new(user.open_id),
        &creds,
        &context,
        &mut transport,
        &policy,
        std::thread::sleep,
    )?;
    println!(
        "credited 50 coins with request id {}: balance {balance}",
        change.request_id()
    );

    let polyv = emulator.polyv_app();
    let polyv_creds = PolyvCredentials::new(&polyv.app_id, polyv.secret.as_str())?
        .with_base_url(&emulator.base_url())?;
    let settings = call_with_retries(
        &GetDonate::new(Scope::Account),
        &polyv_creds,
        &context,
        &mut transport,
        &policy,
        std::thread::sleep,
    )?;
    println!(
        "Polyv account-wide minimum cash tip: {:?}",
        settings.cash_min.map(|c| c.to_string())
    );

    runtime.block_on(emulator.shutdown())?;
    Ok(())
}
