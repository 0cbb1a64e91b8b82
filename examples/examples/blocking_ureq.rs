//! Driving `liveapi-request` with a different HTTP stack: blocking `ureq`, no async runtime in
//! the calling code.
//!
//! ```sh
//! cargo run --example blocking_ureq
//! ```
//!
//! `liveapi-request` builds signed `http::Request<Bytes>` values and reads
//! `http::Response<Bytes>` back; any closure from one to the other is a transport, and the
//! crate's engine drives it: each attempt is re-signed and keeps the request id, the deadline
//! and `Retry-After` are honoured, and Polyv calls wait for the rate limit.
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
use liveapi_request::{
    Engine, LinkvCredentials, PolyvCredentials, ThreadTimer, TransportError, TransportErrorKind,
};

/// How far a failed `ureq` call got: a connection that could not be made was never sent.
fn transport_error(error: ureq::Error) -> TransportError {
    let kind = match &error {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => TransportErrorKind::Connect,
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        ureq::Error::Tls(_) => TransportErrorKind::Tls,
        _ => TransportErrorKind::Io,
    };
    TransportError::with_source(kind, error)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    let emulator = runtime.block_on(Emulator::builder().start())?;
    let linkv = emulator.linkv_app();
    let creds = LinkvCredentials::builder()
        .app_id(&linkv.app_key)
        .secret(linkv.app_secret.as_str())
        .alias(&linkv.alias)
        .base_url(emulator.base_url())
        .build()?;

    // The transport: ureq with a timeout, HTTP errors as responses (the SDK reads them), TLS
    // verification on (ureq's default), and a cap on the body size.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut transport = |request: http::Request<Bytes>| {
        let response = agent
            .run(request.map(|body| body.to_vec()))
            .map_err(transport_error)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(http::Response::from_parts(parts, Bytes::from(bytes)))
    };

    // The engine: retries re-signed with the same request id, the deadline, Retry-After and
    // the Polyv rate limit, waiting by blocking this thread.
    let engine = Engine::builder(ThreadTimer).build();
    let user = engine.execute_blocking(
        &mut transport,
        &ThGetToken::register(
            UserId::new("bob")?,
            UserName::new("Bob")?,
            PortraitUri::new("https://cdn.example.com/bob.png")?,
        ),
        &creds,
    )?;
    println!("registered bob: open id {}", user.open_id);

    // The request id is made once, before any attempt, and travels with every retry.
    let context = engine.context();
    let change = ChangeGold::add(
        user.open_id.clone(),
        context.request_id()?,
        Coins::new(50)?,
        Expiration::days_from_today(context.now(), 91),
    )?;
    engine.execute_blocking(&mut transport, &change, &creds)?;
    let balance =
        engine.execute_blocking(&mut transport, &GetUserTokens::new(user.open_id), &creds)?;
    println!(
        "credited 50 coins with request id {}: balance {balance}",
        change.request_id()
    );

    let polyv = emulator.polyv_app();
    let polyv_creds = PolyvCredentials::builder()
        .app_id(&polyv.app_id)
        .secret(polyv.secret.as_str())
        .base_url(emulator.base_url())
        .build()?;
    let settings = engine.execute_blocking(
        &mut transport,
        &GetDonate::new(Scope::Account),
        &polyv_creds,
    )?;
    println!(
        "Polyv account-wide minimum cash tip: {:?}",
        settings.cash_min.map(|c| c.to_string())
    );

    runtime.block_on(emulator.shutdown())?;
    Ok(())
}
