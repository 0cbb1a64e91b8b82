//! Throughput of the emulator's durable state: acknowledged `changeGold` credits per second
//! over HTTP, with `--state` (every change synced to the log before its answer) and without,
//! at several concurrencies. Group commit lets concurrent requests share one sync, so more
//! concurrency means more changes per sync.
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin emulator_state_load
//! cargo run --release -p liveapi-harness --bin emulator_state_load -- --seconds 5 --concurrency 1,8,32
//! ```
//!
//! Options: `--seconds N` (3 per measurement), `--concurrency 1,32` (the levels). The state
//! lives in a temporary directory (removed at the end); put `TMPDIR` on the disk to measure.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use liveapi::model::linkv::{
    ChangeGold, Coins, Expiration, OpenId, PortraitUri, RequestId, ThGetToken, UserId, UserName,
};
use liveapi::request::{LinkvCredentials, Operation, OsEntropy};
use liveapi_emulator::{Emulator, RunningEmulator};
use liveapi_harness::cli::level;

type Http = Client<HttpConnector, Full<Bytes>>;

/// Throughput of the emulator's durable state: acknowledged `changeGold` credits per second,
/// with `--state` and without, at several concurrencies.
#[derive(Parser)]
struct Options {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// The concurrencies to measure at, comma-separated (0 counts as 1).
    #[arg(long = "concurrency", value_delimiter = ',', default_value = "1,32", value_parser = level)]
    levels: Vec<usize>,
}

/// Sends one operation and tells whether LinkV answered `status` 200.
async fn send<O: Operation<Credentials = LinkvCredentials>>(
    http: &Http,
    creds: &LinkvCredentials,
    op: &O,
) -> Result<Bytes, String> {
    let request = op
        .build(creds, SystemTime::now(), &OsEntropy)
        .map_err(|e| e.to_string())?;
    let (parts, body) = request.into_parts();
    let response = http
        .request(http::Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(|e| e.to_string())?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if body.windows(14).any(|w| w == br#""status":"200""#) {
        Ok(body)
    } else {
        Err(String::from_utf8_lossy(&body).into_owned())
    }
}

struct Measured {
    changes: u64,
    per_second: f64,
    syncs: Option<u64>,
}

async fn measure(
    emulator: &RunningEmulator,
    concurrency: usize,
    duration: Duration,
) -> Result<Measured, String> {
    let app = emulator.linkv_app();
    let creds = LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret(app.app_secret.as_str())
        .alias(&app.alias)
        .base_url(emulator.base_url())
        .build()
        .map_err(|e| e.to_string())?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Http = Client::builder(TokioExecutor::new()).build(connector);
    let user = ThGetToken::register(
        UserId::new(format!("load-{concurrency}")).map_err(|e| e.to_string())?,
        UserName::new("Load").map_err(|e| e.to_string())?,
        PortraitUri::new("https://example.com/l.png").map_err(|e| e.to_string())?,
    );
    let answer = send(&http, &creds, &user).await?;
    let answer: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    let uid = answer["data"]["openId"]
        .as_str()
        .and_then(|id| OpenId::new(id).ok())
        .ok_or("no openId")?;
    let expiration = Expiration::after_days(SystemTime::now(), 30);
    let syncs_before = syncs(emulator);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let (http, creds, uid, done) =
            (http.clone(), creds.clone(), uid.clone(), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let rid = RequestId::new(format!("load-{concurrency}-{task}-{n}"))
                    .map_err(|e| e.to_string())?;
                let coins = Coins::new(1).map_err(|e| e.to_string())?;
                let op = ChangeGold::add(uid.clone(), rid, coins, expiration)
                    .map_err(|e| e.to_string())?;
                send(&http, &creds, &op).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), String>(())
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let changes = done.load(Ordering::Relaxed);
    Ok(Measured {
        changes,
        per_second: changes as f64 / elapsed,
        syncs: syncs(emulator)
            .zip(syncs_before)
            .map(|(after, before)| after - before),
    })
}

fn syncs(emulator: &RunningEmulator) -> Option<u64> {
    emulator.state_status().and_then(|s| s["syncs"].as_u64())
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emulator_state_load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: &Options) -> Result<(), String> {
    let duration = Duration::from_secs(options.seconds);
    println!(
        "{:<12} {:>11} {:>10} {:>14} {:>14}",
        "state", "concurrency", "changes", "changes/s", "changes/sync"
    );
    for durable in [false, true] {
        for &concurrency in &options.levels {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let mut builder = Emulator::builder().rate_limit(None);
            if durable {
                builder = builder.state_file(dir.path().join("state.json"));
            }
            let emulator = builder.start().await.map_err(|e| e.to_string())?;
            let measured = measure(&emulator, concurrency, duration).await?;
            emulator.shutdown().await.map_err(|e| e.to_string())?;
            let per_sync = measured
                .syncs
                .filter(|&s| s > 0)
                .map_or("-".to_owned(), |s| {
                    format!("{:.1}", measured.changes as f64 / s as f64)
                });
            println!(
                "{:<12} {:>11} {:>10} {:>14.0} {:>14}",
                if durable { "--state" } else { "in memory" },
                concurrency,
                measured.changes,
                measured.per_second,
                per_sync
            );
        }
    }
    Ok(())
}
