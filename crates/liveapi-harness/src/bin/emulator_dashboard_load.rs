//! The emulator's throughput with its dashboard open: acknowledged `changeGold` credits per
//! second over HTTP, without a page and with a page client that reads what the open page
//! reads, in alternating rounds, each on a fresh emulator.
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin emulator_dashboard_load
//! cargo run --release -p liveapi-harness --bin emulator_dashboard_load -- --rounds 10 --poll-ms 1000 --state
//! cargo run --release -p liveapi-harness --bin emulator_dashboard_load -- --page browser
//! ```
//!
//! The page client (`--page poll`, the default) stands for a browser with the dashboard open
//! and updating: every `--poll-ms` (1000, the page's own rate) it reads, on one keep-alive
//! connection as a browser does, the views of every section at once (the overview, the latest
//! requests, the users, the journal, the requests with their answers, the Polyv settings): more
//! than the page, which reads the overview and the section on show. Under this load every view
//! changes between two reads, so none is the cheap unchanged case. `--page browser` opens the
//! page itself, on its Requests section, in a headless Chromium (which then also takes CPU time
//! from the two cores to render it). Prints each round's two figures and their ratio, then the
//! aggregate and the median ratio: the cost of an open page.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use liveapi::model::linkv::{
    ChangeGold, Coins, Expiration, OpenId, PortraitUri, RequestId, ThGetToken, UserId, UserName,
};
use liveapi::request::{LinkvCredentials, Operation, OsEntropy};
use liveapi_emulator::{Emulator, RunningEmulator};
use liveapi_harness::cli::{positive, positive_count};
use liveapi_test_support::browser::{Browser, HeadlessPage};

type Http = Client<HttpConnector, Full<Bytes>>;

/// Numbers the measurements, so that request ids are never reused (a reused one would be
/// answered from the idempotency store instead of applied).
static RUN: AtomicU64 = AtomicU64::new(0);

/// What the page client reads each time: every section's view.
const VIEWS: &[&str] = &[
    "/_emulator/dashboard/overview",
    "/_emulator/dashboard/requests?limit=8",
    "/_emulator/dashboard/users?limit=100",
    "/_emulator/dashboard/journal?limit=100",
    "/_emulator/dashboard/requests?limit=100",
    "/_emulator/dashboard/polyv",
];

/// What keeps the dashboard open.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Page {
    /// A client that reads every section's view each `--poll-ms`.
    Poll,
    /// The page itself in a headless Chromium.
    Browser,
}

/// The emulator's throughput with its dashboard open, against none.
#[derive(Parser)]
struct Options {
    /// What keeps the page open.
    #[arg(long, value_enum, default_value_t = Page::Poll)]
    page: Page,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3, value_parser = positive)]
    seconds: u64,
    /// Rounds; each measures without the page and with it, the first one alternating.
    #[arg(long, default_value_t = 6, value_parser = positive_count)]
    rounds: usize,
    /// Credits in flight at once.
    #[arg(long, default_value_t = 32, value_parser = positive_count)]
    concurrency: usize,
    /// How often the page client reads the views, in milliseconds.
    #[arg(long, default_value_t = 1_000, value_parser = positive)]
    poll_ms: u64,
    /// Keep the books in a state file (every credit synced before its answer).
    #[arg(long)]
    state: bool,
}

fn client() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

async fn body(http: &Http, request: http::Request<Full<Bytes>>) -> Result<Bytes, String> {
    let response = http.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

/// Sends one LinkV operation; an error unless it answers `status` 200.
async fn send<O: Operation<Credentials = LinkvCredentials>>(
    http: &Http,
    creds: &LinkvCredentials,
    op: &O,
) -> Result<Bytes, String> {
    let request = op
        .build(creds, SystemTime::now(), &OsEntropy)
        .map_err(|e| e.to_string())?;
    let (parts, payload) = request.into_parts();
    let answer = body(http, http::Request::from_parts(parts, Full::new(payload))).await?;
    if answer.windows(14).any(|w| w == br#""status":"200""#) {
        Ok(answer)
    } else {
        Err(String::from_utf8_lossy(&answer).into_owned())
    }
}

/// The CPU time this process (the load's clients and the emulator) has used, from
/// `/proc/self/stat`: user and system, in ticks of 1/100 s. Zero where there is no `/proc`.
fn process_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(") ")?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// One measurement.
struct Measured {
    per_second: f64,
    /// CPU time per credit, in microseconds: this process's, and the browser's with one.
    cpu_per_credit: f64,
    /// What the page did: its reads, or the browser's share of one core.
    page: String,
}

/// Reads every view every `every` until `stop`; returns how many reads it made.
async fn page(emulator_url: String, every: Duration, stop: Arc<AtomicBool>) -> Result<u64, String> {
    let http = client();
    let mut reads = 0u64;
    let mut tick = tokio::time::interval(every);
    // A read slower than the period delays the next, as the page's own timer does.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        for view in VIEWS {
            let request = http::Request::get(format!("{emulator_url}{view}"))
                .header(http::header::ACCEPT, "application/json")
                .body(Full::new(Bytes::new()))
                .map_err(|e| e.to_string())?;
            body(&http, request).await?;
            reads += 1;
        }
    }
    Ok(reads)
}

/// How long one read of every view takes, in milliseconds: the median of `sets` reads one
/// after another, after `credits` credits have filled the journal and the request log. Client
/// and emulator share the process, so this bounds the emulator's own work from above.
async fn cost(credits: u64, sets: usize) -> Result<f64, String> {
    let emulator = Emulator::builder()
        .rate_limit(None)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let options = Options {
        page: Page::Poll,
        seconds: 1,
        rounds: 1,
        concurrency: 32,
        poll_ms: 1_000,
        state: false,
    };
    // Fill the books: credits until there are `credits` of them.
    while emulator.applied_total() < credits {
        measure(&emulator, &options, false).await?;
    }
    let http = client();
    let mut times = Vec::with_capacity(sets);
    for _ in 0..sets {
        let started = Instant::now();
        for view in VIEWS {
            let request = http::Request::get(emulator.url(view))
                .header(http::header::ACCEPT, "application/json")
                .body(Full::new(Bytes::new()))
                .map_err(|e| e.to_string())?;
            body(&http, request).await?;
        }
        times.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    emulator.shutdown().await.map_err(|e| e.to_string())?;
    Ok(median(times))
}

/// Credits per second for `duration`, with a page client open or not.
async fn measure(
    emulator: &RunningEmulator,
    options: &Options,
    with_page: bool,
) -> Result<Measured, String> {
    let app = emulator.linkv_app();
    let creds = LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret(app.app_secret.as_str())
        .alias(&app.alias)
        .base_url(emulator.base_url())
        .build()
        .map_err(|e| e.to_string())?;
    let http = client();
    let user = ThGetToken::register(
        UserId::new("dashboard-load").map_err(|e| e.to_string())?,
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

    let stop = Arc::new(AtomicBool::new(false));
    let page = (with_page && options.page == Page::Poll).then(|| {
        tokio::spawn(page(
            emulator.base_url(),
            Duration::from_millis(options.poll_ms),
            Arc::clone(&stop),
        ))
    });
    let browser = match (with_page, options.page) {
        (true, Page::Browser) => {
            let before = emulator.connection_stats().accepted;
            let open = Browser::locate()?.open(&emulator.url("/_emulator/#requests"), 1280, 800)?;
            // Measured once the page reads its views.
            let loading = Instant::now();
            while emulator.connection_stats().accepted == before {
                if loading.elapsed() > Duration::from_secs(20) {
                    return Err("the browser never loaded the page".to_owned());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            Some(open)
        }
        _ => None,
    };
    let browser_cpu_before = browser
        .as_ref()
        .map_or(Duration::ZERO, HeadlessPage::cpu_time);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let done = Arc::new(AtomicU64::new(0));
    let cpu_before = process_cpu() + browser_cpu_before;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut tasks = Vec::new();
    for task in 0..options.concurrency {
        let (http, creds, uid, done) =
            (http.clone(), creds.clone(), uid.clone(), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let rid =
                    RequestId::new(format!("dash-{run}-{task}-{n}")).map_err(|e| e.to_string())?;
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
    let browser_cpu = browser
        .as_ref()
        .map_or(Duration::ZERO, HeadlessPage::cpu_time);
    let cpu = (process_cpu() + browser_cpu).saturating_sub(cpu_before);
    stop.store(true, Ordering::Relaxed);
    drop(browser);
    let credits = done.load(Ordering::Relaxed);
    let page = match page {
        Some(page) => format!("{} reads", page.await.map_err(|e| e.to_string())??),
        None if browser_cpu > Duration::ZERO => format!(
            "browser {:.1}% of a core",
            100.0 * browser_cpu.saturating_sub(browser_cpu_before).as_secs_f64() / elapsed
        ),
        None => "-".to_owned(),
    };
    Ok(Measured {
        per_second: credits as f64 / elapsed,
        cpu_per_credit: cpu.as_secs_f64() * 1e6 / credits.max(1) as f64,
        page,
    })
}

async fn once(options: &Options, with_page: bool) -> Result<Measured, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut builder = Emulator::builder().rate_limit(None);
    if options.state {
        builder = builder.state_file(dir.path().join("state.json"));
    }
    let emulator = builder.start().await.map_err(|e| e.to_string())?;
    let measured = measure(&emulator, options, with_page).await?;
    emulator.shutdown().await.map_err(|e| e.to_string())?;
    Ok(measured)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

async fn run(options: &Options) -> Result<(), String> {
    println!(
        "changeGold credits at concurrency {}, {} s each, {}; {}",
        options.concurrency,
        options.seconds,
        if options.state {
            "--state"
        } else {
            "in memory"
        },
        match options.page {
            Page::Poll => format!("page client every {} ms", options.poll_ms),
            Page::Browser => "the page in headless Chromium".to_owned(),
        }
    );
    println!(
        "{:>5} {:>12} {:>12} {:>7} {:>12} {:>12} {:>7}  the page",
        "round", "no page /s", "page /s", "ratio", "µs CPU, no", "µs CPU, page", "ratio",
    );
    let (mut without, mut with, mut ratios, mut cpu_ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..options.rounds {
        let (plain, open) = if round.is_multiple_of(2) {
            let plain = once(options, false).await?;
            (plain, once(options, true).await?)
        } else {
            let open = once(options, true).await?;
            (once(options, false).await?, open)
        };
        // Throughput on cores that nothing else uses goes as the inverse of CPU per credit.
        let cpu_ratio = plain.cpu_per_credit / open.cpu_per_credit;
        println!(
            "{:>5} {:>12.0} {:>12.0} {:>6.1}% {:>12.2} {:>12.2} {:>6.1}%  {}",
            round + 1,
            plain.per_second,
            open.per_second,
            100.0 * open.per_second / plain.per_second,
            plain.cpu_per_credit,
            open.cpu_per_credit,
            100.0 * cpu_ratio,
            open.page
        );
        without.push(plain.per_second);
        with.push(open.per_second);
        ratios.push(open.per_second / plain.per_second);
        cpu_ratios.push(cpu_ratio);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let range = |v: &[f64]| {
        (
            100.0 * v.iter().copied().fold(f64::INFINITY, f64::min),
            100.0 * v.iter().copied().fold(0.0, f64::max),
        )
    };
    let (low, high) = range(&ratios);
    println!(
        "throughput: no page {:.0}/s, page open {:.0}/s ({:.1} %); median of the rounds' ratios \
         {:.1} % (from {low:.1} to {high:.1} %)",
        mean(&without),
        mean(&with),
        100.0 * mean(&with) / mean(&without),
        100.0 * median(ratios.clone()),
    );
    let (low, high) = range(&cpu_ratios);
    println!(
        "CPU per credit, the page's included: median of the rounds' ratios {:.1} % (from {low:.1} \
         to {high:.1} %)",
        100.0 * median(cpu_ratios.clone()),
    );
    let per_set = cost(20_000, 200).await?;
    println!(
        "one read of every view, with 20 000 credits in the journal and a full request log: \
         {per_set:.2} ms (median of 200), client included: at most {:.2} % of one core at one \
         read every {} ms",
        100.0 * per_set / options.poll_ms as f64,
        options.poll_ms
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emulator_dashboard_load: {e}");
            ExitCode::FAILURE
        }
    }
}
