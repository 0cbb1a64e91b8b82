//! The SDK's metrics, scraped from a Prometheus endpoint after real calls against the emulator.
//!
//! One test in its own binary: the recorder is global to the process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use liveapi::model::linkv::{Coins, OpenId, PortraitUri, UserId, UserName};
use liveapi::model::polyv::Scope;
use liveapi::{Client, LinkvCredentials, PolyvCredentials};
use liveapi_emulator::{Emulator, FaultKind, Faults};
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback port nothing listens on now.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The samples of the exposition, by metric line without its value.
async fn scrape(at: SocketAddr) -> BTreeMap<String, f64> {
    let mut stream = None;
    for _ in 0..100 {
        match tokio::net::TcpStream::connect(at).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let mut stream = stream.expect("the metrics endpoint started");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.lines()
        .filter(|l| l.starts_with("liveapi_"))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn calls(samples: &BTreeMap<String, f64>, vendor: &str, operation: &str, outcome: &str) -> f64 {
    let key = format!(
        "liveapi_calls_total{{vendor=\"{vendor}\",operation=\"{operation}\",outcome=\"{outcome}\"}}"
    );
    samples.get(&key).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scrape_after_real_calls_counts_each_outcome() {
    let listen = free_port();
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .install()
        .unwrap();
    liveapi::request::metrics::describe();

    let emulator = Emulator::builder().start().await.unwrap();
    let linkv = emulator.linkv_app();
    let polyv = emulator.polyv_app();
    let creds = |secret: &str| {
        LinkvCredentials::builder()
            .app_id(&linkv.app_key)
            .secret(secret)
            .alias(&linkv.alias)
            .base_url(emulator.base_url())
            .build()
            .unwrap()
    };
    let client = Client::builder()
        .linkv(creds(linkv.app_secret.as_str()))
        .polyv(
            PolyvCredentials::builder()
                .app_id(&polyv.app_id)
                .secret(polyv.secret.as_str())
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();

    // Two successes of thGetToken, three of getUserTokens, one of changeGold, two of donate/get.
    let alice = client
        .register_user(
            UserId::new("alice").unwrap(),
            UserName::new("Alice").unwrap(),
            PortraitUri::new("https://cdn.example.com/a.png").unwrap(),
        )
        .await
        .unwrap();
    client
        .login_user(UserId::new("alice").unwrap())
        .await
        .unwrap();
    client
        .add_coins(&alice.open_id, Coins::new(5).unwrap())
        .await
        .unwrap();
    for _ in 0..3 {
        client.balance(&alice.open_id).await.unwrap();
    }
    for _ in 0..2 {
        client.donate_settings(Scope::Account).await.unwrap();
    }
    // A refusal (changeGold), a wrong secret (getUserTokens), an unknown user (getUserTokens).
    client
        .remove_coins(&alice.open_id, Coins::new(1_000).unwrap())
        .await
        .unwrap_err();
    let wrong = Client::builder()
        .linkv(creds("not-the-secret"))
        .build()
        .unwrap();
    wrong.balance(&alice.open_id).await.unwrap_err();
    client
        .balance(&OpenId::new("404").unwrap())
        .await
        .unwrap_err();
    // An answer lost after it was applied, every time: retried, then outcome unknown.
    emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();
    let lost = client
        .add_coins(&alice.open_id, Coins::new(1).unwrap())
        .max_attempts(2)
        .await
        .unwrap_err();
    assert!(lost.outcome_unknown(), "{lost}");
    emulator.set_faults(Faults::none()).unwrap();

    let samples = scrape(listen).await;
    assert_eq!(
        calls(&samples, "linkv", "thGetToken", "ok"),
        2.0,
        "{samples:#?}"
    );
    assert_eq!(calls(&samples, "linkv", "getUserTokens", "ok"), 3.0);
    assert_eq!(calls(&samples, "linkv", "changeGold", "ok"), 1.0);
    assert_eq!(calls(&samples, "polyv", "donate/get", "ok"), 2.0);
    assert_eq!(calls(&samples, "linkv", "changeGold", "refused"), 1.0);
    assert_eq!(calls(&samples, "linkv", "getUserTokens", "auth"), 1.0);
    assert_eq!(calls(&samples, "linkv", "getUserTokens", "refused"), 1.0);
    assert_eq!(
        calls(&samples, "linkv", "changeGold", "outcome_unknown"),
        1.0
    );
    // Every call an attempt, the lost change two, and its first attempt a retry.
    let attempts = |op: &str| {
        samples
            .get(&format!(
                "liveapi_attempts_total{{vendor=\"linkv\",operation=\"{op}\"}}"
            ))
            .copied()
            .unwrap_or(0.0)
    };
    assert_eq!(attempts("changeGold"), 4.0, "{samples:#?}");
    assert_eq!(attempts("getUserTokens"), 5.0);
    assert_eq!(
        samples.get(
            "liveapi_retries_total{vendor=\"linkv\",operation=\"changeGold\",class=\"unavailable\"}"
        ),
        Some(&1.0),
        "{samples:#?}"
    );
    // Durations: one observation per call; Polyv's attempts waited for their permits.
    let count = |name: &str| {
        samples
            .iter()
            .filter(|(k, _)| k.starts_with(name) && k.contains("_count"))
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    assert_eq!(count("liveapi_call_duration_seconds"), 12.0, "{samples:#?}");
    assert_eq!(
        count("liveapi_rate_limit_wait_seconds"),
        2.0,
        "{samples:#?}"
    );
    emulator.shutdown().await.unwrap();
}
