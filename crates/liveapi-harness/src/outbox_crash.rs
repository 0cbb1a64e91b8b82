//! Worker processes killed with SIGKILL at random moments while they enqueue and send coin
//! changes through a [`liveapi_outbox::Outbox`], restarted each time, and the proof that the
//! emulator applied every change exactly once: none lost, none twice.
//!
//! [`run`] starts an emulator in this process (loopback, port 0, injected latency and faults
//! of every kind, so that it outlives the workers), registers users, and starts the workers:
//! each a separate process ([`worker_main`]) that enqueues its share of the changes (change
//! `k` has the caller-shaped request id `crash-000k` and a fixed expiry, so that enqueueing it
//! again after a restart is a no-op) while its dispatcher sends whatever the shared outbox
//! holds. It kills a random running worker with SIGKILL at random moments, as long as entries
//! are pending, and restarts it at once. The killed worker's claimed entries are taken over
//! when their lease expires. At the end every change must be in the emulator's journal
//! exactly once, with its parameters, and settled as applied in the outbox; each user's
//! balance must be the sum of their changes.
//!
//! With SQLite one worker owns the file at a time; with PostgreSQL several workers share one
//! outbox and are killed independently.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use liveapi::model::linkv::{
    Coins, Expiration, OpenId, OrderId, PendingChange, Platform, PortraitUri, RequestId, UsdCents,
    UserId, UserName,
};
use liveapi::{Client, LinkvCredentials, RetryPolicy};
use liveapi_emulator::{Emulator, FaultStats, Faults, RunningEmulator};
use liveapi_outbox::{Outbox, OutboxBuilder, PostgresStore, SqliteStore};

/// Where the outbox of a run lives.
#[derive(Clone, Debug)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A schema of a PostgreSQL database.
    Postgres {
        /// The server's URL.
        url: String,
        /// The schema.
        schema: String,
    },
}

impl StoreLocation {
    fn args(&self) -> Vec<String> {
        match self {
            Self::Sqlite(path) => vec!["--sqlite".into(), path.display().to_string()],
            Self::Postgres { url, schema } => vec![
                "--postgres".into(),
                url.clone(),
                "--schema".into(),
                schema.clone(),
            ],
        }
    }

    async fn open(&self, settings: &WorkerSettings) -> Result<Outbox, Failure> {
        let builder = match self {
            Self::Sqlite(path) => Outbox::builder(
                SqliteStore::open(path)
                    .await
                    .map_err(|e| fail(format!("opening the outbox: {e}")))?,
            ),
            Self::Postgres { url, schema } => Outbox::builder(
                PostgresStore::builder(url.as_str())
                    .schema(schema.as_str())
                    .connections(4)
                    .application_name(schema.as_str())
                    .connect()
                    .await
                    .map_err(|e| fail(format!("opening the outbox: {e}")))?,
            ),
        };
        Ok(settings.apply(builder))
    }
}

/// How big and how hostile a run is.
#[derive(Clone, Debug)]
pub struct Config {
    /// Coin changes to make.
    pub changes: usize,
    /// Worker processes at once.
    pub workers: usize,
    /// SIGKILLs to deliver while entries are pending (at least).
    pub kills: usize,
    /// Users the changes are spread over.
    pub users: usize,
    /// Share of requests that meet an injected fault.
    pub fault_rate: f64,
    /// Seeds the faults, the kill moments and the choice of worker.
    pub seed: u64,
    /// The shortest and longest wait before a kill.
    pub kill_after: (Duration, Duration),
    /// How long a worker waits after each change it enqueued anew: spreads the work over
    /// time, so that kills land while it is being done.
    pub pace: Duration,
    /// How long it may all take.
    pub timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            changes: 300,
            workers: 1,
            kills: 20,
            users: 5,
            fault_rate: 0.2,
            seed: 16,
            kill_after: (Duration::from_millis(30), Duration::from_millis(200)),
            pace: Duration::from_millis(5),
            timeout: Duration::from_secs(180),
        }
    }
}

/// What a run did and found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Changes made.
    pub changes: usize,
    /// Workers killed with SIGKILL while entries were pending.
    pub kills: usize,
    /// Worker processes started, restarts included.
    pub starts: usize,
    /// Entries taken over from a killed worker's expired lease, by the workers that exited
    /// cleanly (killed ones cannot say).
    pub taken_over: u64,
    /// Sends whose outcome stayed unknown, and were retried, by those workers.
    pub retried: u64,
    /// Faults the emulator injected.
    pub faults: FaultStats,
    /// Coin changes in the emulator's journal.
    pub applied: usize,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} changes in {:.2?}: {} workers started, {} killed with SIGKILL mid-work",
            self.changes, self.elapsed, self.starts, self.kills
        )?;
        writeln!(
            f,
            "{} faults injected in {} requests; {} entries taken over after a lease, {} sends retried (by workers that exited cleanly)",
            self.faults.total(),
            self.faults.eligible,
            self.taken_over,
            self.retried
        )?;
        write!(
            f,
            "{} changes applied: every one exactly once, none lost, balances exact",
            self.applied
        )
    }
}

/// An invariant that did not hold, or a run that could not be made.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

fn fail(message: impl Into<String>) -> Failure {
    Failure(message.into())
}

/// A small deterministic generator (splitmix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn between(&mut self, (low, high): (Duration, Duration)) -> Duration {
        let span = u64::try_from(high.saturating_sub(low).as_millis()).unwrap_or(u64::MAX);
        low + Duration::from_millis(self.below(span + 1))
    }
}

/// The fixed expiry of every change: a resend, or the change made again, is identical.
const EXPIRES_AT: u64 = 4_000_000_000;

/// Change `k` of a run: an order for every fourth, a credit otherwise, spread over `users`.
/// The same `k` always gives the same change, whichever process makes it.
fn change(client: &Client, users: &[OpenId], k: usize) -> Result<PendingChange, Failure> {
    let uid = &users[k % users.len()];
    let id = RequestId::new(format!("crash-{k:06}")).map_err(|e| fail(e.to_string()))?;
    let expiry = Expiration::at_unix_seconds(EXPIRES_AT);
    let coins = |n: usize| Coins::new(n as u64).map_err(|e| fail(e.to_string()));
    let made = if k.is_multiple_of(4) {
        let order = OrderId::new(format!("crash-order-{k:06}")).map_err(|e| fail(e.to_string()))?;
        client
            .complete_order(
                uid,
                order,
                coins(10 + k % 40)?,
                UsdCents::new(99),
                Platform::Android,
            )
            .request_id(id)
            .expires_at(expiry)
            .into_pending()
    } else {
        client
            .add_coins(uid, coins(1 + k % 9)?)
            .request_id(id)
            .expires_at(expiry)
            .into_pending()
    };
    made.map_err(|e| fail(e.to_string()))
}

/// The settings of a worker's outbox and client: leases short enough that a killed worker's
/// entries come back quickly, sends that end well inside them.
struct WorkerSettings {
    lease: Duration,
}

impl WorkerSettings {
    fn apply(&self, builder: OutboxBuilder) -> Outbox {
        builder
            .owner("crash-worker")
            .lease(self.lease)
            .concurrency(8)
            .poll_interval(Duration::from_millis(25))
            .retry_backoff(Duration::from_millis(50), Duration::from_millis(500))
            .build()
    }

    fn client(&self) -> Result<Client, Failure> {
        Client::builder()
            .from_env()
            .map_err(|e| fail(format!("the worker's client: {e}")))?
            .attempt_timeout(Duration::from_millis(400))
            .deadline(Duration::from_millis(900))
            .retry_policy(
                RetryPolicy::default()
                    .with_max_attempts(3)
                    .with_backoff(Duration::from_millis(5), Duration::from_millis(50)),
            )
            .build()
            .map_err(|e| fail(format!("the worker's client: {e}")))
    }
}

const WORKER_SETTINGS: WorkerSettings = WorkerSettings {
    lease: Duration::from_millis(1_500),
};

/// How the programs that run as workers are told to: `worker` and its flags.
#[derive(Debug, clap::Subcommand)]
pub enum WorkerCommand {
    /// Run as one worker of a crash test (the test starts these; not for use by hand).
    Worker(WorkerArgs),
}

/// A worker's command line: `--sqlite PATH | --postgres URL --schema NAME --changes N
/// --workers W --index I --users A,B,… --pace-ms MS`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The outbox's SQLite file.
    #[arg(
        long,
        required_unless_present = "postgres",
        conflicts_with = "postgres"
    )]
    sqlite: Option<PathBuf>,
    /// The outbox's PostgreSQL server.
    #[arg(long, requires = "schema")]
    postgres: Option<String>,
    /// The outbox's schema on `--postgres`.
    #[arg(long)]
    schema: Option<String>,
    /// Changes in the whole run.
    #[arg(long)]
    changes: usize,
    /// Workers at once (0 counts as 1).
    #[arg(long)]
    workers: usize,
    /// This worker's index: it enqueues changes `index, index + workers, …`.
    #[arg(long)]
    index: usize,
    /// The users' open ids, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    users: Vec<String>,
    /// How long to wait after each change enqueued anew, in ms.
    #[arg(long)]
    pace_ms: u64,
}

/// A worker's command line, checked.
struct WorkerPlan {
    store: StoreLocation,
    changes: usize,
    workers: usize,
    index: usize,
    users: Vec<OpenId>,
    pace: Duration,
}

impl WorkerArgs {
    fn check(self) -> Result<WorkerPlan, Failure> {
        let store = match (self.sqlite, self.postgres, self.schema) {
            (Some(path), None, _) => StoreLocation::Sqlite(path),
            (None, Some(url), Some(schema)) => StoreLocation::Postgres { url, schema },
            _ => return Err(fail("give --sqlite PATH or --postgres URL --schema NAME")),
        };
        let users = self
            .users
            .iter()
            .map(|u| OpenId::new(u).map_err(|e| fail(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WorkerPlan {
            store,
            changes: self.changes,
            workers: self.workers.max(1),
            index: self.index,
            users,
            pace: Duration::from_millis(self.pace_ms),
        })
    }
}

/// A worker process: `worker --sqlite PATH | --postgres URL --schema NAME --changes N
/// --workers W --index I --users A,B,… --pace-ms MS`, with the LinkV credentials in the
/// `LIVEAPI_LINKV_*` variables. Enqueues changes `I, I+W, I+2W, …` (again after a restart:
/// those already there are no-ops) while its dispatcher sends what the outbox holds; exits 0
/// with its statistics on standard output once its share is enqueued and nothing is pending.
///
/// # Errors
/// A [`Failure`] if the run cannot go on (a store that is damaged, say).
pub async fn worker_main(args: WorkerArgs) -> Result<(), Failure> {
    let args = args.check()?;
    let settings = WORKER_SETTINGS;
    let client = settings.client()?;
    let outbox = args.store.open(&settings).await?;
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
    for k in (args.index..args.changes).step_by(args.workers) {
        let change = change(&client, &args.users, k)?;
        loop {
            match outbox.enqueue(&change).await {
                Ok(liveapi_outbox::Enqueued::Added) => {
                    tokio::time::sleep(args.pace).await;
                    break;
                }
                Ok(liveapi_outbox::Enqueued::AlreadyQueued) => break,
                Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => return Err(fail(format!("enqueueing {}: {e}", change.request_id()))),
            }
        }
    }
    loop {
        match outbox.counts().await {
            Ok(counts) if counts.pending == 0 => break,
            Ok(_) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => return Err(fail(format!("counting: {e}"))),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = stop.send(());
    dispatcher
        .await
        .map_err(|e| fail(format!("the dispatcher: {e}")))?
        .map_err(|e| fail(format!("the dispatcher: {e}")))?;
    let stats = outbox.stats();
    println!("taken_over={} retried={}", stats.taken_over, stats.retried);
    Ok(())
}

/// A worker process and how it is started.
struct Worker {
    index: usize,
    child: Option<Child>,
    done: bool,
}

/// Runs the crash test: `worker` is the program whose first argument `worker` makes it run
/// [`worker_main`].
///
/// # Errors
/// A [`Failure`] naming the first invariant that did not hold (or why the run could not be
/// made).
pub async fn run(config: &Config, store: &StoreLocation, worker: &Path) -> Result<Report, Failure> {
    let started = Instant::now();
    let emulator = Emulator::builder()
        .seed(config.seed)
        .rate_limit(None)
        .journal_capacity(config.changes * 2 + 100)
        .start()
        .await
        .map_err(|e| fail(format!("starting the emulator: {e}")))?;
    let client = coordinator_client(&emulator)?;
    let users = register(&client, config.users).await?;
    emulator
        .set_faults(
            Faults::new(config.fault_rate)
                .with_latency(Duration::from_millis(1), Duration::from_millis(60)),
        )
        .map_err(|e| fail(e.to_string()))?;
    // The coordinator's own view of the outbox: whether anything is pending.
    let view = store.open(&WORKER_SETTINGS).await?;

    let user_list = users
        .iter()
        .map(OpenId::as_str)
        .collect::<Vec<_>>()
        .join(",");
    let app = emulator.linkv_app();
    let command = |index: usize| {
        let mut command = Command::new(worker);
        command
            .arg("worker")
            .args(store.args())
            .args(["--changes", &config.changes.to_string()])
            .args(["--workers", &config.workers.to_string()])
            .args(["--index", &index.to_string()])
            .args(["--users", &user_list])
            .args(["--pace-ms", &config.pace.as_millis().to_string()])
            .env("LIVEAPI_LINKV_APP_ID", &app.app_key)
            .env("LIVEAPI_LINKV_SECRET", app.app_secret.as_str())
            .env("LIVEAPI_LINKV_ALIAS", &app.alias)
            .env("LIVEAPI_LINKV_BASE_URL", emulator.base_url())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command
    };
    let mut starts = 0;
    let mut spawn = |index: usize| -> Result<Child, Failure> {
        starts += 1;
        command(index)
            .spawn()
            .map_err(|e| fail(format!("starting worker {index}: {e}")))
    };
    let mut workers: Vec<Worker> = Vec::new();
    for index in 0..config.workers.max(1) {
        workers.push(Worker {
            index,
            child: Some(spawn(index)?),
            done: false,
        });
    }

    let mut mix = Mix(config.seed ^ 0x0B0C);
    let mut kills = 0;
    let mut taken_over = 0;
    let mut retried = 0;
    let deadline = started + config.timeout;
    loop {
        if Instant::now() > deadline {
            for worker in &mut workers {
                if let Some(mut child) = worker.child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            return Err(fail(format!(
                "not done after {:?}: {kills} kills, {:?}",
                config.timeout,
                view.counts().await
            )));
        }
        // Collect workers that exited.
        for worker in &mut workers {
            let Some(child) = worker.child.as_mut() else {
                continue;
            };
            if let Some(status) = child.try_wait().map_err(|e| fail(e.to_string()))? {
                let output = worker
                    .child
                    .take()
                    .map(|c| c.wait_with_output())
                    .transpose()
                    .map_err(|e| fail(e.to_string()))?;
                if !status.success() {
                    return Err(fail(format!("worker {} failed: {status}", worker.index)));
                }
                if let Some(output) = output {
                    let text = String::from_utf8_lossy(&output.stdout);
                    taken_over += stat(&text, "taken_over");
                    retried += stat(&text, "retried");
                }
                worker.done = true;
            }
        }
        let pending = view.counts().await.map(|c| c.pending).unwrap_or(1);
        if workers.iter().all(|w| w.done) {
            if pending == 0 {
                break;
            }
            return Err(fail(format!(
                "every worker exited with {pending} entries pending"
            )));
        }
        if kills >= config.kills {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        tokio::time::sleep(mix.between(config.kill_after)).await;
        let running: Vec<usize> = (0..workers.len())
            .filter(|&i| workers[i].child.is_some())
            .collect();
        let pending = view.counts().await.map(|c| c.pending).unwrap_or(0);
        if running.is_empty() || pending == 0 {
            continue;
        }
        let victim = running[mix.below(running.len() as u64) as usize];
        let worker = &mut workers[victim];
        if let Some(mut child) = worker.child.take() {
            // `kill` is SIGKILL: no destructor, no flush, no goodbye.
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
            worker.child = Some(spawn(worker.index)?);
        }
    }
    if kills < config.kills {
        return Err(fail(format!(
            "the work was done after {kills} kills, fewer than the {} asked for: make it longer (--changes, --pace-ms)",
            config.kills
        )));
    }
    let elapsed = started.elapsed();
    let faults = emulator.fault_stats();
    let applied = check(&emulator, &view, &client, &users, config.changes).await?;
    Ok(Report {
        changes: config.changes,
        kills,
        starts,
        taken_over,
        retried,
        faults,
        applied,
        elapsed,
    })
}

/// A number `name=N` a worker printed.
fn stat(text: &str, name: &str) -> u64 {
    text.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| *key == name)
        .filter_map(|(_, value)| u64::from_str(value).ok())
        .sum()
}

/// Every change applied exactly once, as made; the outbox agrees; balances add up.
async fn check(
    emulator: &RunningEmulator,
    outbox: &Outbox,
    client: &Client,
    users: &[OpenId],
    changes: usize,
) -> Result<usize, Failure> {
    let journal = emulator.journal();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for applied in &journal {
        *seen.entry(applied.request_id.as_str()).or_insert(0) += 1;
    }
    if let Some((id, n)) = seen.iter().find(|(_, n)| **n > 1) {
        return Err(fail(format!("{id} was applied {n} times")));
    }
    let mut expected_balance: HashMap<&str, u64> = HashMap::new();
    for k in 0..changes {
        let made = change(client, users, k)?;
        let id = made.request_id().as_str();
        let Some(applied) = journal.iter().find(|a| a.request_id == id) else {
            return Err(fail(format!("{id} was lost: never applied")));
        };
        if applied.value != made.coins().get() || applied.uid != made.uid().as_str() {
            return Err(fail(format!(
                "{id} was applied as {applied:?}, not as made"
            )));
        }
        *expected_balance
            .entry(users[k % users.len()].as_str())
            .or_insert(0) += made.coins().get();
    }
    if journal.len() != changes {
        return Err(fail(format!(
            "{} changes applied for {changes} made",
            journal.len()
        )));
    }
    let app = &emulator.linkv_app().app_key;
    for uid in users {
        let expected = expected_balance.get(uid.as_str()).copied().unwrap_or(0);
        let actual = emulator.balance(app, uid.as_str()).unwrap_or(0);
        if expected != actual {
            return Err(fail(format!(
                "{uid} has {actual} coins, {expected} expected"
            )));
        }
    }
    let counts = outbox
        .counts()
        .await
        .map_err(|e| fail(format!("counting: {e}")))?;
    if counts.applied != changes as u64 || counts.total() != changes as u64 {
        return Err(fail(format!(
            "the outbox says {counts:?} for {changes} changes"
        )));
    }
    Ok(journal.len())
}

fn coordinator_client(emulator: &RunningEmulator) -> Result<Client, Failure> {
    let app = emulator.linkv_app();
    let creds = LinkvCredentials::builder()
        .app_id(&app.app_key)
        .secret(app.app_secret.as_str())
        .alias(&app.alias)
        .base_url(emulator.base_url())
        .build()
        .map_err(|e| fail(e.to_string()))?;
    Client::builder()
        .linkv(creds)
        .build()
        .map_err(|e| fail(e.to_string()))
}

async fn register(client: &Client, count: usize) -> Result<Vec<OpenId>, Failure> {
    let mut users = Vec::with_capacity(count);
    for i in 0..count.max(1) {
        let name = format!("crash-user-{i}");
        let token = client
            .register_user(
                UserId::new(name.as_str()).map_err(|e| fail(e.to_string()))?,
                UserName::new(name.as_str()).map_err(|e| fail(e.to_string()))?,
                PortraitUri::new("https://cdn.example.com/u.png")
                    .map_err(|e| fail(e.to_string()))?,
            )
            .await
            .map_err(|e| fail(format!("registering {name}: {e}")))?;
        users.push(token.open_id);
    }
    Ok(users)
}
