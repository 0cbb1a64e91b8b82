//! Watching the SDK run: its metrics served for Prometheus to scrape.
//!
//! ```sh
//! cargo run --example metrics                        # serves 127.0.0.1:9000 for 30 s
//! cargo run --example metrics -- 127.0.0.1:9464 0    # another address; 0: print once and stop
//! ```
//!
//! It installs `metrics-exporter-prometheus` as the global recorder (any `metrics` recorder
//! works the same way), makes a few calls against the embedded emulator — a success, a
//! refusal, a wrong secret — and serves what they counted at `http://ADDRESS/metrics`:
//! `liveapi_calls_total` by vendor, operation and outcome, `liveapi_attempts_total`,
//! `liveapi_retries_total`, `liveapi_call_duration_seconds` and, for Polyv,
//! `liveapi_rate_limit_wait_seconds`. The names are listed in `docs/metrics.md`.

use std::net::SocketAddr;
use std::time::Duration;

use liveapi::model::linkv::{Coins, PortraitUri, UserId, UserName};
use liveapi::model::polyv::Scope;
use liveapi::{Client, LinkvCredentials, PolyvCredentials};
use liveapi_emulator::Emulator;
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let listen: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned())
        .parse()?;
    let serve_secs: u64 = args.next().map_or(Ok(30), |s| s.parse())?;

    // The exporter first, then the SDK's descriptions (help texts and units).
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .install()?;
    liveapi::request::metrics::describe();

    let emulator = Emulator::builder().start().await?;
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

    let user = client
        .register_user(
            UserId::new("metrics-demo")?,
            UserName::new("Demo")?,
            PortraitUri::new("https://cdn.example.com/demo.png")?,
        )
        .await?;
    client.add_coins(&user.open_id, Coins::new(10)?).await?;
    client.balance(&user.open_id).await?;
    client.donate_settings(Scope::Account).await?;
    // A refusal: more coins than she has.
    let refused = client.remove_coins(&user.open_id, Coins::new(1_000)?).await;
    println!(
        "a refusal, counted as outcome=\"refused\": {}",
        refused.is_err()
    );

    let scrape = scrape(listen).await?;
    for line in scrape
        .lines()
        .filter(|l| l.starts_with("liveapi_calls_total"))
    {
        println!("{line}");
    }
    println!("\nScrape http://{listen}/metrics for the rest (serving for {serve_secs} s).");
    tokio::time::sleep(Duration::from_secs(serve_secs)).await;
    emulator.shutdown().await?;
    Ok(())
}

/// What a Prometheus server would read: one GET of the exporter's endpoint.
async fn scrape(at: SocketAddr) -> Result<String, Box<dyn std::error::Error>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The listener starts in the background: give it a moment to bind.
    let mut stream = None;
    for _ in 0..50 {
        match tokio::net::TcpStream::connect(at).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let mut stream = stream.ok_or("the metrics endpoint did not start")?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}
