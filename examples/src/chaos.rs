//! Many concurrent coin changes through an emulator that fails on purpose, and the proof that
//! none was applied twice and none was lost.
//!
//! [`run`] starts an emulator with faults of every kind it has (added latency beyond the
//! client's timeout, HTTP 500/502/503 in JSON and HTML, resets before and after applying,
//! bodies cut off after applying), sends `changeGold` and `orderSuccess` calls from many tasks
//! at once through [`liveapi::Client`], and records what the client reported for each:
//! succeeded, refused (not retryable), or unknown (retries exhausted). Then it turns the faults
//! off, resends every unknown call with its request id, and checks the emulator's journal:
//!
//! - no request id was applied more than once;
//! - every call reported as succeeded was applied exactly once, as sent;
//! - every call reported as refused was not applied;
//! - every unknown call converged when resent: applied once if the resend succeeded, not at
//!   all if it was refused;
//! - nothing was applied that no call asked for;
//! - each user's balance equals the sum of the changes applied to them, by the emulator's
//!   books and by the client's `balance`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use liveapi::model::linkv::{
    ChangeGold, ChangeType, Coins, Expiration, OpenId, OrderId, OrderSuccess, Platform,
    PortraitUri, RequestId, UsdCents, UserId, UserName,
};
use liveapi::{Client, LinkvCredentials, RetryPolicy};
use liveapi_emulator::{ChangeKind, Emulator, FaultKind, FaultStats, Faults, RunningEmulator};

/// How big and how hostile a run is.
#[derive(Clone, Debug)]
pub struct Config {
    /// Coin calls to make.
    pub calls: usize,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Users the calls are spread over.
    pub users: usize,
    /// Share of requests that meet a fault.
    pub fault_rate: f64,
    /// Seeds the emulator's faults and the mix of calls.
    pub seed: u64,
    /// The client's per-attempt timeout; some injected delays are longer.
    pub attempt_timeout: Duration,
    /// Attempts per call, retries included.
    pub max_attempts: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            calls: 1_500,
            concurrency: 32,
            users: 6,
            fault_rate: 0.3,
            seed: 2026,
            attempt_timeout: Duration::from_millis(300),
            max_attempts: 3,
        }
    }
}

/// What a run did and found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Calls made.
    pub calls: usize,
    /// Reported as succeeded on the first sending.
    pub succeeded: usize,
    /// Reported as refused (not retryable) on the first sending.
    pub refused: usize,
    /// Retries exhausted on the first sending: outcome unknown.
    pub unknown: usize,
    /// Unknown calls whose resend succeeded.
    pub unknown_then_applied: usize,
    /// Unknown calls whose resend was refused.
    pub unknown_then_refused: usize,
    /// Coin changes in the emulator's journal.
    pub applied: usize,
    /// Faults the emulator injected.
    pub faults: FaultStats,
    /// Time of the faulty phase.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} calls in {:.2?}: {} succeeded, {} refused, {} unknown",
            self.calls, self.elapsed, self.succeeded, self.refused, self.unknown
        )?;
        writeln!(
            f,
            "unknown calls resent with their request id: {} applied, {} refused",
            self.unknown_then_applied, self.unknown_then_refused
        )?;
        writeln!(
            f,
            "{} faults injected in {} requests:",
            self.faults.total(),
            self.faults.eligible
        )?;
        for kind in FaultKind::ALL {
            writeln!(f, "  {:<22} {}", kind.as_str(), self.faults.count(kind))?;
        }
        write!(
            f,
            "{} changes applied, none twice, none lost, balances exact",
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

/// One coin call, built once so that a resend is byte-for-byte the same business request.
#[derive(Clone, Debug)]
enum Call {
    Change(ChangeGold),
    Order(OrderSuccess),
}

impl Call {
    fn request_id(&self) -> &RequestId {
        match self {
            Self::Change(c) => c.request_id(),
            Self::Order(o) => o.request_id(),
        }
    }

    fn uid(&self) -> &OpenId {
        match self {
            Self::Change(c) => c.uid(),
            Self::Order(o) => o.uid(),
        }
    }

    /// The signed change of the balance it asks for.
    fn delta(&self) -> i128 {
        let (kind, coins) = match self {
            Self::Change(c) => (c.change_type(), c.value()),
            Self::Order(o) => (o.change_type(), o.value()),
        };
        match kind {
            ChangeType::Remove => -i128::from(coins.get()),
            _ => i128::from(coins.get()),
        }
    }

    async fn send(&self, client: &Client) -> Outcome {
        let result = match self {
            Self::Change(c) => client.execute(c.clone()).await,
            Self::Order(o) => client.execute(o.clone()).await.map(|_| ()),
        };
        match result {
            Ok(()) => Outcome::Succeeded,
            Err(e) if e.outcome_unknown() => Outcome::Unknown(e.to_string()),
            Err(e) => Outcome::Refused(e.to_string()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Refused(String),
    Unknown(String),
}

/// A small deterministic generator for the mix of calls (splitmix64).
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
}

fn coins(n: u64) -> Result<Coins, Failure> {
    Coins::new(n).map_err(|e| fail(e.to_string()))
}

/// The calls of a run: 60 % credits, 25 % removals (some beyond the balance, refused), 15 %
/// orders (some completing an order id again, refused).
fn plan(config: &Config, users: &[OpenId], client: &Client) -> Result<Vec<Call>, Failure> {
    let mut mix = Mix(config.seed);
    let expiration = Expiration::after_days(client.now(), 91);
    let mut orders = 0u64;
    let mut calls = Vec::with_capacity(config.calls);
    for _ in 0..config.calls {
        let uid = users[mix.below(users.len() as u64) as usize].clone();
        let request_id = client.new_request_id().map_err(|e| fail(e.to_string()))?;
        let roll = mix.below(100);
        let call = if roll < 60 {
            ChangeGold::add(uid, request_id, coins(1 + mix.below(100))?, expiration)
                .map(Call::Change)
        } else if roll < 85 {
            ChangeGold::remove(uid, request_id, coins(1 + mix.below(150))?, expiration)
                .map(Call::Change)
        } else {
            // One order in ten repeats an earlier order id under a new request id.
            let number = if orders > 0 && mix.below(10) == 0 {
                mix.below(orders)
            } else {
                orders += 1;
                orders - 1
            };
            let order_id =
                OrderId::new(format!("chaos-{number}")).map_err(|e| fail(e.to_string()))?;
            OrderSuccess::credit(
                uid,
                request_id,
                order_id,
                coins(1 + mix.below(500))?,
                UsdCents::new(99),
                Platform::Android,
                expiration,
            )
            .map(Call::Order)
        };
        calls.push(call.map_err(|e| fail(e.to_string()))?);
    }
    Ok(calls)
}

fn client_of(emulator: &RunningEmulator, config: &Config) -> Result<Client, Failure> {
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
        .attempt_timeout(config.attempt_timeout)
        .deadline(None)
        .max_in_flight(config.concurrency.max(1))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(config.max_attempts)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(100)),
        )
        .build()
        .map_err(|e| fail(e.to_string()))
}

async fn register(client: &Client, count: usize) -> Result<Vec<OpenId>, Failure> {
    let mut users = Vec::with_capacity(count);
    for i in 0..count.max(1) {
        let name = format!("chaos-user-{i}");
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

/// Sends every call from `concurrency` tasks; answers the outcomes in call order.
async fn send_all(client: &Client, calls: &Arc<Vec<Call>>, concurrency: usize) -> Vec<Outcome> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, calls, next) = (client.clone(), calls.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(call) = calls.get(i) else {
                    return done;
                };
                done.push((i, call.send(&client).await));
            }
        }));
    }
    let mut outcomes = vec![Outcome::Unknown("never sent".to_owned()); calls.len()];
    for task in tasks {
        // A task that panicked leaves its calls as "never sent", which the checks report.
        if let Ok(done) = task.await {
            for (i, outcome) in done {
                outcomes[i] = outcome;
            }
        }
    }
    outcomes
}

/// Runs the chaos and checks every invariant.
///
/// # Errors
/// A [`Failure`] naming the first invariant that did not hold (or why the run could not be
/// made).
pub async fn run(config: &Config) -> Result<Report, Failure> {
    let emulator = Emulator::builder()
        .seed(config.seed)
        .rate_limit(None)
        .journal_capacity(config.calls + 1_000)
        .start()
        .await
        .map_err(|e| fail(format!("starting the emulator: {e}")))?;
    let client = client_of(&emulator, config)?;
    let users = register(&client, config.users).await?;
    let calls = Arc::new(plan(config, &users, &client)?);

    // Latency from 50 ms to twice the client's timeout: about half the delays outlast it.
    let longest = config.attempt_timeout * 2;
    let faults = Faults::new(config.fault_rate).with_latency(Duration::from_millis(50), longest);
    emulator
        .set_faults(faults)
        .map_err(|e| fail(e.to_string()))?;
    let started = Instant::now();
    let first = send_all(&client, &calls, config.concurrency).await;
    let elapsed = started.elapsed();
    let fault_stats = emulator.fault_stats();
    emulator
        .set_faults(Faults::none())
        .map_err(|e| fail(e.to_string()))?;
    // Delayed answers of the faulty phase may still be on their way; their changes were
    // applied before the delay, so waiting them out only keeps the request log tidy.
    tokio::time::sleep(longest).await;

    // Resend every unknown call, as its caller would after the outage.
    let mut last = first.clone();
    for (call, outcome) in calls.iter().zip(last.iter_mut()) {
        if matches!(outcome, Outcome::Unknown(_)) {
            *outcome = call.send(&client).await;
            if let Outcome::Unknown(e) = outcome {
                return Err(fail(format!(
                    "request {} still unknown without faults: {e}",
                    call.request_id()
                )));
            }
        }
    }

    let report = check(&emulator, &client, &calls, &first, &last, &users).await?;
    emulator.shutdown().await.map_err(|e| fail(e.to_string()))?;
    Ok(Report {
        elapsed,
        faults: fault_stats,
        ..report
    })
}

async fn check(
    emulator: &RunningEmulator,
    client: &Client,
    calls: &[Call],
    first: &[Outcome],
    last: &[Outcome],
    users: &[OpenId],
) -> Result<Report, Failure> {
    let journal = emulator.journal();
    let mut applied: HashMap<&str, Vec<&liveapi_emulator::AppliedChange>> = HashMap::new();
    for change in &journal {
        applied
            .entry(change.request_id.as_str())
            .or_default()
            .push(change);
    }
    if let Some((id, changes)) = applied.iter().find(|(_, c)| c.len() > 1) {
        return Err(fail(format!(
            "request {id} was applied {} times",
            changes.len()
        )));
    }
    let ours: HashMap<&str, &Call> = calls.iter().map(|c| (c.request_id().as_str(), c)).collect();
    if let Some(stray) = journal
        .iter()
        .find(|c| !ours.contains_key(c.request_id.as_str()))
    {
        return Err(fail(format!(
            "the journal holds request {} that no call sent",
            stray.request_id
        )));
    }

    let mut report = Report {
        calls: calls.len(),
        succeeded: 0,
        refused: 0,
        unknown: 0,
        unknown_then_applied: 0,
        unknown_then_refused: 0,
        applied: journal.len(),
        faults: FaultStats::default(),
        elapsed: Duration::ZERO,
    };
    for ((call, first), last) in calls.iter().zip(first).zip(last) {
        let id = call.request_id().as_str();
        let entry = applied.get(id).and_then(|c| c.first());
        match first {
            Outcome::Succeeded => report.succeeded += 1,
            Outcome::Refused(_) => report.refused += 1,
            Outcome::Unknown(_) => match last {
                Outcome::Succeeded => report.unknown_then_applied += 1,
                _ => report.unknown_then_refused += 1,
            },
        }
        if matches!(first, Outcome::Unknown(_)) {
            report.unknown += 1;
        }
        match (last, entry) {
            (Outcome::Succeeded, None) => {
                return Err(fail(format!("request {id} succeeded but was not applied")));
            }
            (Outcome::Refused(why), Some(_)) => {
                return Err(fail(format!(
                    "request {id} was refused ({why}) but applied"
                )));
            }
            (Outcome::Succeeded, Some(change)) => {
                let delta = match change.change {
                    ChangeKind::Remove => -i128::from(change.value),
                    _ => i128::from(change.value),
                };
                if change.uid != call.uid().as_str() || delta != call.delta() {
                    return Err(fail(format!(
                        "request {id} was applied as {delta} to {} instead of {} to {}",
                        change.uid,
                        call.delta(),
                        call.uid()
                    )));
                }
            }
            _ => {}
        }
    }

    let app_key = &emulator.linkv_app().app_key;
    for uid in users {
        let sum: i128 = journal
            .iter()
            .filter(|c| c.uid == uid.as_str())
            .map(|c| match c.change {
                ChangeKind::Remove => -i128::from(c.value),
                _ => i128::from(c.value),
            })
            .sum();
        let books = emulator.balance(app_key, uid.as_str()).map(i128::from);
        let told = client
            .balance(uid)
            .await
            .map_err(|e| fail(format!("balance of {uid}: {e}")))?;
        if books != Some(sum) || i128::from(told.get()) != sum {
            return Err(fail(format!(
                "user {uid}: applied changes sum to {sum}, the books say {books:?}, the client read {told}"
            )));
        }
    }
    Ok(report)
}
