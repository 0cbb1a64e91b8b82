//! Throughput of the outbox: coin changes per second enqueued, dispatched, and both at once,
//! for the SQLite and the PostgreSQL store at several levels of concurrency, against an
//! emulator in this process (no faults).
//!
//! ```sh
//! cargo run --release -p liveapi-harness --bin outbox_throughput
//! LIVEAPI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p liveapi-harness --bin outbox_throughput -- --store both
//! ```
//!
//! Options: `--store sqlite|postgres|both` (default sqlite), `--changes N` (2000 per
//! measurement), `--concurrency 1,4,16,64` (the levels: concurrent enqueuers, the
//! dispatcher's sends in flight and, for PostgreSQL, the pool's connections up to 16).
//!
//! Each measurement uses a fresh store: a new file in a temporary directory, or a new schema
//! (dropped at the end). *enqueue* is N commits from that many concurrent tasks; *dispatch* is
//! one `drain_once` of the N entries; *end to end* runs the dispatcher while the tasks
//! enqueue, until every change is applied.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use liveapi::model::linkv::{Coins, Expiration, OpenId, PendingChange, PortraitUri, RequestId};
use liveapi::model::linkv::{UserId, UserName};
use liveapi::{Client, LinkvCredentials};
use liveapi_emulator::{Emulator, RunningEmulator};
use liveapi_harness::cli::level;
use liveapi_outbox::{Outbox, OutboxBuilder, SqliteStore};
use liveapi_test_support::postgres::TestSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// The stores to measure.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Stores {
    /// SQLite only.
    Sqlite,
    /// PostgreSQL only (`LIVEAPI_TEST_POSTGRES_URL`).
    Postgres,
    /// SQLite, then PostgreSQL.
    Both,
}

impl Stores {
    fn kinds(self) -> Vec<Kind> {
        match self {
            Self::Sqlite => vec![Kind::Sqlite],
            Self::Postgres => vec![Kind::Postgres],
            Self::Both => vec![Kind::Sqlite, Kind::Postgres],
        }
    }
}

/// Throughput of the outbox: coin changes per second enqueued, dispatched, and both at once,
/// for each store at several levels of concurrency.
#[derive(Parser)]
struct Options {
    /// The stores to measure.
    #[arg(long = "store", value_enum, default_value_t = Stores::Sqlite)]
    stores: Stores,
    /// Changes per measurement.
    #[arg(long, default_value_t = 2_000)]
    changes: usize,
    /// The levels of concurrency, comma-separated (0 counts as 1): concurrent enqueuers, the
    /// dispatcher's sends in flight and, for PostgreSQL, the pool's connections up to 16.
    #[arg(long = "concurrency", value_delimiter = ',', default_value = "1,4,16,64", value_parser = level)]
    levels: Vec<usize>,
}

/// A fresh store of `kind`, as a builder; what keeps it alive (the directory, the schema).
async fn fresh(kind: Kind, level: usize) -> Result<(OutboxBuilder, Box<dyn Send>), String> {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let store = SqliteStore::open(dir.path().join("bench.outbox"))
                .await
                .map_err(|e| e.to_string())?;
            Ok((Outbox::builder(store), Box::new(dir)))
        }
        Kind::Postgres => {
            let schema =
                TestSchema::new("throughput").ok_or("LIVEAPI_TEST_POSTGRES_URL is not set")?;
            let store = schema
                .store(level.clamp(2, 16))
                .await
                .map_err(|e| e.to_string())?;
            Ok((Outbox::builder(store), Box::new(schema)))
        }
    }
}

fn change(client: &Client, uid: &OpenId, run: usize, k: usize) -> PendingChange {
    client
        .add_coins(uid, Coins::new(1).expect("1 coin"))
        .request_id(RequestId::new(format!("bench-{run}-{k}")).expect("an id"))
        .expires_at(Expiration::at_unix_seconds(4_000_000_000))
        .into_pending()
        .expect("a change")
}

/// Enqueues `changes` from `tasks` concurrent tasks.
async fn enqueue_all(outbox: &Outbox, changes: Arc<Vec<PendingChange>>, tasks: usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (outbox, changes, next) = (outbox.clone(), changes.clone(), next.clone());
        handles.push(tokio::spawn(async move {
            while let Some(change) = changes.get(next.fetch_add(1, Ordering::Relaxed)) {
                outbox.enqueue(change).await.expect("enqueued");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("an enqueuer");
    }
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

async fn measure(
    kind: Kind,
    level: usize,
    n: usize,
    client: &Client,
    uid: &OpenId,
    run: &mut usize,
) -> Result<(f64, f64, f64), String> {
    // Enqueue, then dispatch.
    *run += 1;
    let (builder, _keep) = fresh(kind, level).await?;
    let outbox = builder.concurrency(level).build();
    let changes: Arc<Vec<_>> = Arc::new((0..n).map(|k| change(client, uid, *run, k)).collect());
    let started = Instant::now();
    enqueue_all(&outbox, changes.clone(), level).await;
    let enqueue = rate(n, started.elapsed());
    let started = Instant::now();
    let report = outbox.drain_once(client).await.map_err(|e| e.to_string())?;
    let dispatch = rate(n, started.elapsed());
    if report.applied != n as u64 {
        return Err(format!("{report:?}"));
    }

    // Both at once.
    *run += 1;
    let (builder, _keep) = fresh(kind, level).await?;
    let outbox = builder
        .concurrency(level)
        .poll_interval(Duration::from_millis(5))
        .build();
    let changes: Arc<Vec<_>> = Arc::new((0..n).map(|k| change(client, uid, *run, k)).collect());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = {
        let (outbox, client) = (outbox.clone(), client.clone());
        tokio::spawn(async move {
            outbox
                .run(&client, async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    let started = Instant::now();
    enqueue_all(&outbox, changes, level).await;
    while outbox.stats().applied < n as u64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let both = rate(n, started.elapsed());
    let _ = stop.send(());
    dispatcher
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok((enqueue, dispatch, both))
}

fn client_of(emulator: &RunningEmulator) -> Client {
    let app = emulator.linkv_app();
    let creds = LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret(app.app_secret.as_str())
        .alias(&app.alias)
        .base_url(emulator.base_url())
        .build()
        .expect("credentials");
    Client::builder()
        .linkv(creds)
        .max_in_flight(256)
        .build()
        .expect("a client")
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = Options::parse();
    let emulator = Emulator::builder()
        .rate_limit(None)
        .journal_capacity(1_000)
        .start()
        .await
        .expect("the emulator starts");
    let client = client_of(&emulator);
    let uid = client
        .register_user(
            UserId::new("bench").expect("an id"),
            UserName::new("bench").expect("a name"),
            PortraitUri::new("https://cdn.example.com/b.png").expect("a uri"),
        )
        .await
        .expect("registered")
        .open_id;
    println!(
        "{} changes per measurement; changes per second\n",
        options.changes
    );
    println!("| store | concurrency | enqueue | dispatch | end to end |");
    println!("|---|---|---|---|---|");
    let mut run = 0;
    for kind in &options.stores.kinds() {
        for &level in &options.levels {
            match measure(*kind, level, options.changes, &client, &uid, &mut run).await {
                Ok((enqueue, dispatch, both)) => {
                    println!("| {kind:?} | {level} | {enqueue:.0} | {dispatch:.0} | {both:.0} |")
                }
                Err(e) => {
                    eprintln!("outbox_throughput: {kind:?} at {level}: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
