//! Load: N calls at concurrency C against the emulator on loopback, through `liveapi::Client`
//! over its default hyper transport, through a minimal hand-written hyper client that sends
//! equally valid signed requests, and through `liveapi::Client` over a `reqwest` client; and
//! how they compare.
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin loadtest -- --calls 50000 --concurrency 32
//! ```
//!
//! Options: `--calls N` (default 20000), `--concurrency N` (32), `--rounds N` (3; each round
//! runs both clients, the first one alternating, so drift in the machine hits both alike), `--op
//! balance|add` (`getUserTokens`, or `changeGold` credits with fresh request ids).
//!
//! Prints, for each client: requests per second and latency p50/p99/max; then the SDK's
//! throughput as a share of the baseline's, the peak resident memory of the process, its
//! resident memory sampled during the SDK's run (flat under sustained load), and the most TCP
//! connections open to the emulator at once (bounded by the client's `max_in_flight`).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use liveapi::model::linkv::{Coins, OpenId, PortraitUri, UserId, UserName};
use liveapi::sign::linkv;
use liveapi::transport::ReqwestTransport;
use liveapi::{Client, LinkvCredentials, RetryPolicy};
use liveapi_emulator::{Emulator, RunningEmulator};
use liveapi_harness::cli::positive_count;
use liveapi_harness::histogram::Histogram;

/// The call each client makes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Op {
    /// `getUserTokens`.
    Balance,
    /// `changeGold` credits with fresh request ids.
    Add,
}

/// Load: calls at a concurrency against the emulator on loopback, through `liveapi::Client`
/// over hyper, a hand-written hyper client and `liveapi::Client` over reqwest.
#[derive(Parser)]
struct Options {
    /// Calls per client and round.
    #[arg(long, default_value_t = 20_000, value_parser = positive_count)]
    calls: usize,
    /// Calls in flight at once (and the SDK's `max_in_flight`).
    #[arg(long, default_value_t = 32, value_parser = positive_count)]
    concurrency: usize,
    /// Rounds; each runs every client, the first one alternating.
    #[arg(long, default_value_t = 3, value_parser = positive_count)]
    rounds: usize,
    /// The call.
    #[arg(long, value_enum, default_value_t = Op::Balance)]
    op: Op,
}

/// Latencies of one run, and how long it took.
#[derive(Default)]
struct Run {
    latencies: Histogram,
    elapsed: Duration,
    /// CPU time of the clients' thread: what the client itself costs, whatever the server
    /// and the scheduler did meanwhile.
    client_cpu: Duration,
    failures: usize,
}

impl Run {
    fn merge(&mut self, other: Run) {
        self.latencies.merge(&other.latencies);
        self.elapsed += other.elapsed;
        self.client_cpu += other.client_cpu;
        self.failures += other.failures;
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn cpu_per_call(&self) -> Duration {
        let calls = u32::try_from(self.latencies.len().max(1)).unwrap_or(u32::MAX);
        self.client_cpu / calls
    }

    fn line(&self, name: &str) -> String {
        format!(
            "{name:<22} {:>9.0} req/s   p50 {:>8.2?}   p99 {:>8.2?}   max {:>8.2?}   client CPU {:>7.2?}/call   failures {}",
            self.per_second(),
            self.latencies.quantile(0.5),
            self.latencies.quantile(0.99),
            self.latencies.max(),
            self.cpu_per_call(),
            self.failures
        )
    }
}

/// Runs `calls` calls of `one` from `concurrency` tasks.
async fn drive<F, Fut>(calls: usize, concurrency: usize, one: F) -> Run
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let cpu_before = thread_cpu(CLIENTS);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, one) = (next.clone(), one.clone());
            tokio::spawn(async move {
                let mut run = Run::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        return run;
                    }
                    let t = Instant::now();
                    if one(i).await {
                        run.latencies.record(t.elapsed());
                    } else {
                        run.failures += 1;
                    }
                }
            })
        })
        .collect();
    let mut total = Run::default();
    for task in tasks {
        if let Ok(run) = task.await {
            total.latencies.merge(&run.latencies);
            total.failures += run.failures;
        }
    }
    total.elapsed = started.elapsed();
    if let (Some(before), Some(after)) = (cpu_before, thread_cpu(CLIENTS)) {
        total.client_cpu = after.saturating_sub(before);
    }
    total
}

/// The baseline: hyper's pooled client and the signing rules, nothing else.
#[derive(Clone)]
struct Baseline {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    url: String,
    app_key: String,
    secret: String,
    uid: String,
}

impl Baseline {
    fn new(emulator: &RunningEmulator, uid: &OpenId, path: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let app = emulator.linkv_app();
        Self {
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
            url: format!("{}{path}", emulator.base_url()),
            app_key: app.app_key.clone(),
            secret: app.app_secret.clone(),
            uid: uid.to_string(),
        }
    }

    /// The signed form of one call, or `None` if it cannot be made.
    fn form(&self, op: Op, request_id: &str, expiration: &str) -> Option<String> {
        let mut bytes_failed = false;
        let nonce = linkv::Nonce::generate(SystemTime::now(), |buf| {
            bytes_failed |= getrandom::fill(buf).is_err();
        })
        .ok()
        .filter(|_| !bytes_failed)?;
        let mut params = vec![
            ("app_id", self.app_key.as_str()),
            ("nonce_str", nonce.as_str()),
            ("uid", self.uid.as_str()),
        ];
        if op == Op::Add {
            params.extend([
                ("request_id", request_id),
                ("type", "1"),
                ("value", "1"),
                ("expriation", expiration),
            ]);
        }
        let sign = linkv::sign(params.iter().copied(), &self.secret).ok()?;
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(params.iter().copied());
        form.append_pair("sign", sign.as_str());
        Some(form.finish())
    }

    async fn call(&self, op: Op, request_id: &str, expiration: &str) -> bool {
        let Some(form) = self.form(op, request_id, expiration) else {
            return false;
        };
        let Ok(request) = http::Request::post(&self.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
        else {
            return false;
        };
        let Ok(response) = self.client.request(request).await else {
            return false;
        };
        let ok = response.status().is_success();
        match response.into_body().collect().await {
            Ok(body) => {
                let body = body.to_bytes();
                ok && body.windows(14).any(|w| w == br#""status":"200""#)
            }
            Err(_) => false,
        }
    }
}

/// The name of the clients' runtime thread.
const CLIENTS: &str = "clients";

/// CPU time (user and system) used so far by this process's thread called `name` (Linux;
/// the kernel counts in ticks of 10 ms, so runs should last seconds).
fn thread_cpu(name: &str) -> Option<Duration> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        return Some(Duration::from_millis(ticks * 10));
    }
    None
}

/// The resident memory of this process now and at its peak, in KiB (Linux).
fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Established TCP connections whose local or remote port is `port` (Linux), counted once per
/// connection: both ends live in this process, so each appears twice.
fn connections_to(port: u16) -> Option<usize> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let hex = format!(":{port:04X}");
    let ends = table
        .lines()
        .skip(1)
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() > 3
                && cols[3] == "01"
                && (cols[1].ends_with(&hex) || cols[2].ends_with(&hex))
        })
        .count();
    Some(ends / 2)
}

fn main() -> ExitCode {
    let options = Options::parse();
    // The servers and the clients each get a runtime of one thread, as if on machines of
    // their own: sharing one pool, the server's work landed unevenly on the two clients' runs.
    let runtime = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_all()
            .build()
    };
    let result = runtime("emulators").and_then(|servers| {
        runtime(CLIENTS).map(|clients| clients.block_on(load(options, &servers)))
    });
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("loadtest: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("loadtest: no runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A `reqwest` client for plain HTTP on loopback, with ring as its crypto provider (unused on
/// `http://`, but `reqwest` asks for one) and a pool as large as the concurrency.
fn reqwest_client(concurrency: usize) -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    let tls = rustls::ClientConfig::builder_with_provider(liveapi_hyper::crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .pool_max_idle_per_host(concurrency)
        .build()?)
}

/// An emulator on loopback (on the servers' runtime) and a client of it, with the load user
/// registered; over `reqwest` when asked.
async fn serve(
    servers: &tokio::runtime::Runtime,
    concurrency: usize,
    over_reqwest: bool,
) -> Result<(RunningEmulator, Client, OpenId), Box<dyn std::error::Error>> {
    // Remembering few request ids keeps the emulator's memory out of the client's figures.
    let start = Emulator::builder()
        .rate_limit(None)
        .journal_capacity(10)
        .idempotency_capacity(10_000)
        .start();
    let emulator = servers.spawn(start).await??;
    let app = emulator.linkv_app();
    let builder = Client::builder()
        .linkv(
            LinkvCredentials::builder()
                .app_id(&app.app_key)
                .secret(app.app_secret.as_str())
                .alias(&app.alias)
                .base_url(emulator.base_url())
                .build()?,
        )
        .retry_policy(RetryPolicy::never());
    let client = if over_reqwest {
        builder
            .transport(ReqwestTransport::new(reqwest_client(concurrency)?))
            .build()?
    } else {
        builder.max_in_flight(concurrency).build()?
    };
    let user = client
        .register_user(
            UserId::new("load")?,
            UserName::new("load")?,
            PortraitUri::new("https://cdn.example.com/l.png")?,
        )
        .await?;
    Ok((emulator, client, user.open_id))
}

async fn load(
    options: Options,
    servers: &tokio::runtime::Runtime,
) -> Result<(), Box<dyn std::error::Error>> {
    // One emulator per client, alike: each one's port then tells whose connections are open.
    let (emulator, client, uid) = serve(servers, options.concurrency, false).await?;
    let (baseline_emulator, _, baseline_uid) = serve(servers, options.concurrency, false).await?;
    let (reqwest_emulator, reqwest_client, reqwest_uid) =
        serve(servers, options.concurrency, true).await?;
    let path = match options.op {
        Op::Balance => "/open/finanv0/getUserTokens",
        Op::Add => "/open/finanv0/changeGold",
    };
    let baseline = Baseline::new(&baseline_emulator, &baseline_uid, path);
    let expiration = liveapi::model::linkv::Expiration::after_days(SystemTime::now(), 91);
    let op = options.op;

    let once = |client: &Client, uid: &OpenId| {
        let (client, uid) = (client.clone(), uid.clone());
        move |_: usize| {
            let (client, uid) = (client.clone(), uid.clone());
            async move {
                match op {
                    Op::Balance => client.balance(&uid).await.is_ok(),
                    Op::Add => match Coins::new(1) {
                        Ok(one) => client
                            .add_coins(&uid, one)
                            .expires_at(expiration)
                            .await
                            .is_ok(),
                        Err(_) => false,
                    },
                }
            }
        }
    };
    let sdk_once = once(&client, &uid);
    let reqwest_once = once(&reqwest_client, &reqwest_uid);
    let baseline_once = {
        let (baseline, client) = (baseline.clone(), client.clone());
        let exp = expiration.to_string();
        move |_: usize| {
            let (baseline, client, exp) = (baseline.clone(), client.clone(), exp.clone());
            async move {
                // Only a credit needs a request id; a balance query sends none.
                let id = match op {
                    Op::Add => match client.new_request_id() {
                        Ok(id) => id.to_string(),
                        Err(_) => return false,
                    },
                    Op::Balance => String::new(),
                };
                baseline.call(op, &id, &exp).await
            }
        }
    };

    println!(
        "{} calls at concurrency {}, {} rounds, {} against emulators at {}, {} and {}",
        options.calls,
        options.concurrency,
        options.rounds,
        if op == Op::Balance {
            "getUserTokens"
        } else {
            "changeGold"
        },
        emulator.base_url(),
        baseline_emulator.base_url(),
        reqwest_emulator.base_url()
    );
    // Warm both pools and the allocator.
    let warm = options.calls.min(2_000);
    drive(warm, options.concurrency, sdk_once.clone()).await;
    drive(warm, options.concurrency, baseline_once.clone()).await;
    drive(warm, options.concurrency, reqwest_once.clone()).await;

    let port = emulator.addr().port();
    let peak_connections = Arc::new(AtomicUsize::new(0));
    let rss_samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sampler = {
        let (peak, samples) = (peak_connections.clone(), rss_samples.clone());
        tokio::spawn(async move {
            loop {
                if let Some(n) = connections_to(port) {
                    peak.fetch_max(n, Ordering::Relaxed);
                }
                if let (Some((rss, _)), Ok(mut s)) = (memory_kib(), samples.lock()) {
                    s.push(rss);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    let (mut sdk, mut raw, mut over_reqwest) = (Run::default(), Run::default(), Run::default());
    let mut rss_after_rounds = Vec::new();
    let mut ratios = Vec::new();
    for round in 0..options.rounds {
        // Who goes first alternates, so a trend in the machine does not favour either.
        let (s, r) = if round % 2 == 0 {
            let s = drive(options.calls, options.concurrency, sdk_once.clone()).await;
            (
                s,
                drive(options.calls, options.concurrency, baseline_once.clone()).await,
            )
        } else {
            let r = drive(options.calls, options.concurrency, baseline_once.clone()).await;
            (
                drive(options.calls, options.concurrency, sdk_once.clone()).await,
                r,
            )
        };
        // reqwest is measured beside the two, after them; it is not part of the ratio.
        over_reqwest.merge(drive(options.calls, options.concurrency, reqwest_once.clone()).await);
        ratios.push(100.0 * s.per_second() / r.per_second());
        sdk.merge(s);
        raw.merge(r);
        if let Some((rss, _)) = memory_kib() {
            rss_after_rounds.push(format!("{:.1}", rss as f64 / 1024.0));
        }
    }
    sampler.abort();

    println!("{}", sdk.line("liveapi::Client"));
    println!("{}", raw.line("hand-written hyper"));
    println!("{}", over_reqwest.line("liveapi over reqwest"));
    println!(
        "client CPU per call: SDK {:.2?}, hand-written {:.2?} ({:+.1} %)",
        sdk.cpu_per_call(),
        raw.cpu_per_call(),
        100.0 * (sdk.cpu_per_call().as_secs_f64() / raw.cpu_per_call().as_secs_f64() - 1.0)
    );
    println!(
        "SDK throughput: {:.1} % of the hand-written client's over all rounds",
        100.0 * sdk.per_second() / raw.per_second()
    );
    let per_round: Vec<String> = ratios.iter().map(|r| format!("{r:.1}")).collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "  round by round: median {:.1} % ({} %)",
        ratios[ratios.len() / 2],
        per_round.join(", ")
    );
    if let Some((_, peak)) = memory_kib() {
        println!(
            "peak RSS of the process (client and emulator): {:.1} MiB",
            peak as f64 / 1024.0
        );
    }
    if let Ok(samples) = rss_samples.lock()
        && let (Some(first), Some(last), Some(max)) =
            (samples.first(), samples.last(), samples.iter().max())
    {
        println!(
            "RSS during the runs: first {:.1} MiB, last {:.1} MiB, max {:.1} MiB ({} samples)",
            *first as f64 / 1024.0,
            *last as f64 / 1024.0,
            *max as f64 / 1024.0,
            samples.len()
        );
    }
    println!("RSS after each round, MiB: {}", rss_after_rounds.join(", "));
    println!(
        "most TCP connections the SDK had open at once: {} (its max_in_flight is {})",
        peak_connections.load(Ordering::Relaxed),
        options.concurrency
    );
    servers.spawn(emulator.shutdown()).await??;
    servers.spawn(baseline_emulator.shutdown()).await??;
    servers.spawn(reqwest_emulator.shutdown()).await??;
    if sdk.failures + raw.failures + over_reqwest.failures > 0 {
        return Err(format!(
            "{} SDK, {} baseline and {} reqwest calls failed",
            sdk.failures, raw.failures, over_reqwest.failures
        )
        .into());
    }
    Ok(())
}
