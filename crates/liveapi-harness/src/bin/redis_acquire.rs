//! The cost of one permit of the Redis rate limiter: latency of `acquire` against a Redis on
//! loopback, one task after another and at concurrency, next to the in-process limiter.
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin redis_acquire -- --redis redis://127.0.0.1:6379/0
//! ```
//!
//! Options: `--redis URL` (default `redis://127.0.0.1:6379/0`, or `LIVEAPI_TEST_REDIS_URL`),
//! `--permits N` (20000 per run), `--concurrency N` (16 for the concurrent run). The limit
//! is set far above what is asked, so every permit is one script run and none waits; keys are
//! the harness's own and expire by themselves.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use liveapi::transport::TokioTimer;
use liveapi::{LocalRateLimiter, RateLimit, RateLimiter, RedisLink, RedisRateLimiter};
use liveapi_harness::histogram::Histogram;

/// The cost of one permit of the Redis rate limiter, next to the in-process limiter.
#[derive(Parser)]
struct Args {
    /// The Redis server (`LIVEAPI_TEST_REDIS_URL` when set).
    #[arg(long, default_value_t = default_redis())]
    redis: String,
    /// Permits per run (0 counts as 1).
    #[arg(long, default_value_t = 20_000)]
    permits: u64,
    /// Tasks of the concurrent run (0 counts as 1).
    #[arg(long, default_value_t = 16)]
    concurrency: u64,
}

fn default_redis() -> String {
    std::env::var("LIVEAPI_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

/// `permits` permits from `tasks` tasks; the latency of each, and the whole run's rate.
async fn measure(limiter: Arc<dyn RateLimiter>, permits: u64, tasks: u64) -> (Histogram, f64) {
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                let mut histogram = Histogram::default();
                for _ in 0..permits / tasks {
                    let before = Instant::now();
                    limiter
                        .acquire(None, &TokioTimer)
                        .await
                        .expect("no deadline, and a Redis that answered");
                    histogram.record(before.elapsed());
                }
                histogram
            })
        })
        .collect();
    let mut all = Histogram::default();
    for handle in handles {
        all.merge(&handle.await.expect("the task ends"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    (all, rate)
}

fn line(what: &str, (histogram, rate): &(Histogram, f64)) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| {what} | {:.0}/s | {:.1} µs | {:.1} µs | {:.1} µs |",
        rate,
        us(histogram.quantile(0.5)),
        us(histogram.quantile(0.99)),
        us(histogram.max())
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    args.permits = args.permits.max(1);
    args.concurrency = args.concurrency.max(1);
    // A window of 100 ms (200 with the transit margin) keeps a few thousand sends in the key at
    // these rates: the order of Polyv's 1200 per 10 s, so every script run works on a set of a
    // realistic size.
    let huge = RateLimit::new(u32::MAX, Duration::from_millis(100)).expect("not zero");
    let redis = |label: &str| {
        RedisRateLimiter::builder(args.redis.as_str())
            .app_id("bench")
            .egress(format!("{label}-{}", std::process::id()))
            .limit(huge)
            .processes(1)
            .build()
    };
    let (sequential, concurrent) = match (redis("sequential"), redis("concurrent")) {
        (Ok(a), Ok(b)) => (Arc::new(a), Arc::new(b)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("redis_acquire: {e}");
            return ExitCode::from(2);
        }
    };
    // Connect, and load the script, outside the measurement.
    for limiter in [&sequential, &concurrent] {
        if let Err(e) = limiter.acquire(None, &TokioTimer).await {
            // Without a deadline, only a Redis the limiter cannot use as configured.
            eprintln!("redis_acquire: {e}");
            return ExitCode::from(2);
        }
        if limiter.link() != RedisLink::Shared {
            eprintln!("redis_acquire: Redis at {} does not answer", args.redis);
            return ExitCode::from(1);
        }
    }
    println!("| limiter, tasks | permits per second | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    let local: Arc<dyn RateLimiter> = Arc::new(LocalRateLimiter::new(huge));
    line("in-process, 1", &measure(local, args.permits, 1).await);
    line(
        "Redis, 1",
        &measure(sequential.clone(), args.permits, 1).await,
    );
    line(
        &format!("Redis, {}", args.concurrency),
        &measure(concurrent.clone(), args.permits, args.concurrency).await,
    );
    if sequential.link() != RedisLink::Shared || concurrent.link() != RedisLink::Shared {
        eprintln!("redis_acquire: Redis stopped answering during the run");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
