//! One Polyv budget for a whole fleet: every Polyv call first takes a permit from a sliding
//! window in Redis, shared by all the processes behind one egress IP, so that together they
//! never send more than the budget (1200 per 10 s) and Polyv never bans the IP.
//!
//! It needs a Redis server: the one named by `LIVEAPI_TEST_REDIS_URL`, or
//! `redis://127.0.0.1:6379/0` (start one with `redis-server`). The Polyv server is the
//! embedded emulator.
//!
//! ```sh
//! cargo run --example redis_limit
//! ```
//!
//! `ClientBuilder::polyv_rate_limit` given the limiter's builder, or the
//! `LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL` variable with `Client::from_env`, sets the same limiter
//! up in one line; this program builds it itself so that it can check at start-up that Redis
//! answers.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use liveapi::model::polyv::Scope;
use liveapi::transport::TokioTimer;
use liveapi::{Client, PolyvCredentials, RateLimiter, RedisLink, RedisRateLimiter};
use liveapi_emulator::Emulator;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("redis_limit: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    // The URL may hold a password: it is said where it came from, never printed.
    let (url, named) = match std::env::var("LIVEAPI_TEST_REDIS_URL") {
        Ok(url) => (url, "the Redis named by LIVEAPI_TEST_REDIS_URL"),
        Err(_) => (
            "redis://127.0.0.1:6379/0".to_owned(),
            "redis://127.0.0.1:6379/0",
        ),
    };
    let emulator = Emulator::builder().start().await?;
    let polyv = emulator.polyv_app();

    // The fleet's budget, shared by three processes: when Redis is away, each keeps to a
    // third of it rather than to the whole.
    let limiter = Arc::new(
        RedisRateLimiter::builder(url.as_str())
            .app_id(&polyv.app_id)
            .processes(3)
            .build()?,
    );

    // One permit now connects to Redis and shows whether it answers, before any call
    // depends on it.
    let deadline = Instant::now() + Duration::from_secs(2);
    let _ = limiter.acquire(Some(deadline), &TokioTimer).await;
    if limiter.link() != RedisLink::Shared {
        eprintln!(
            "redis_limit: {named} does not answer. Start one (`redis-server`), or name one \
             in LIVEAPI_TEST_REDIS_URL."
        );
        emulator.shutdown().await?;
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "Redis answers: the Polyv budget of this fleet is the key {}",
        limiter.key()
    );

    let client = Client::builder()
        .polyv(
            PolyvCredentials::builder()
                .app_id(&polyv.app_id)
                .secret(polyv.secret.as_str())
                .base_url(emulator.base_url())
                .build()?,
        )
        .polyv_rate_limit(limiter.clone())
        .build()?;
    for call in 1..=5 {
        let settings = client.donate_settings(Scope::Account).await?;
        println!(
            "Call {call}: a permit from Redis, then the account's donate settings ({} cash tips)",
            settings.cashes.len()
        );
    }
    println!(
        "The limiter still shares the budget through Redis: {:?}",
        limiter.link()
    );

    emulator.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}
