//! Many concurrent coin changes through an emulator that fails on purpose, processes that
//! "crash" in the middle of calls, clocks that move on by a day, and the proof that none was
//! applied twice and none was lost.
//!
//! [`run`] starts an emulator with faults of every kind it has (added latency beyond the
//! client's timeout, HTTP 500/502/503 in JSON and HTML, HTTP 200 with status 500, resets
//! before and after applying, bodies cut off after applying), its clock frozen late in the
//! evening (UTC), and makes every coin change a stored [`PendingChange`] before sending it.
//! It sends them from many tasks at once through [`liveapi::Client`]; a share of them are
//! *crash* calls, whose future is dropped at a random moment and whose result is discarded,
//! as when a process is killed. Then:
//!
//! 1. faults off, one hour later (past midnight), every unknown and most crashed changes are
//!    resent from storage; some are rebuilt from their request id alone, which must give the
//!    very same change;
//! 2. the day moves on (25 hours after the start, past the client's resend window and the
//!    emulator's idempotency memory) and the remaining crashed changes are offered for
//!    resending: the client refuses them with nothing sent, and they are reconciled against
//!    the emulator's journal (the vendor's records): applied ones are settled, the others
//!    are made again under a new request id.
//!
//! Then it checks the emulator's journal:
//!
//! - no request id was applied more than once;
//! - every change reported as succeeded was applied exactly once, as sent;
//! - every change reported as refused was not applied;
//! - every unknown or crashed change converged: applied once, refused, or reconciled;
//! - nothing was applied that no change asked for;
//! - each user's balance equals the sum of the changes applied to them, by the emulator's
//!   books and by the client's `balance`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use liveapi::model::linkv::{
    ChangeType, CoinRequest, Coins, OpenId, OrderId, PendingChange, Platform, PortraitUri,
    UsdCents, UserId, UserName,
};
use liveapi::{Client, Context, LinkvCredentials, ManualClock, RetryPolicy};
use liveapi_emulator::{
    ChangeKind, ClockStart, Emulator, FaultKind, FaultStats, Faults, RunningEmulator,
};

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
    /// Share of calls whose process "crashes": the call is dropped mid-flight and its result
    /// discarded; the change is resent later from storage.
    pub crash_rate: f64,
    /// Share of crashed calls resent only after the day moved on, past the resend window.
    pub late_share: f64,
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
            crash_rate: 0.1,
            late_share: 0.3,
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
    /// Calls dropped mid-flight, as by a crash.
    pub crashed: usize,
    /// Changes resent, rebuilt from their request id alone, identical to the stored ones.
    pub rebuilt_from_id: usize,
    /// Crashed changes offered for resending past the resend window and refused locally.
    pub past_window: usize,
    /// Of those, found applied in the journal on reconciliation.
    pub reconciled_applied: usize,
    /// Of those, not applied, so made again under a new request id.
    pub reconciled_remade: usize,
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
            "{} calls crashed; {} changes rebuilt from their id alone were identical; {} \
             offered a day later were refused locally and reconciled: {} found applied, {} made again",
            self.crashed,
            self.rebuilt_from_id,
            self.past_window,
            self.reconciled_applied,
            self.reconciled_remade
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

/// The signed change of the balance `change` asks for.
fn delta(change: &PendingChange) -> i128 {
    let coins = i128::from(change.coins().get());
    match change.change_type() {
        ChangeType::Remove => -coins,
        ChangeType::Add => coins,
    }
}

/// Stores a change as a back-end would, in its database: as text.
fn store(change: &PendingChange) -> Result<String, Failure> {
    serde_json::to_string(change).map_err(|e| fail(format!("storing a change: {e}")))
}

/// Reads a stored change back.
fn load(stored: &str) -> Result<PendingChange, Failure> {
    serde_json::from_str(stored).map_err(|e| fail(format!("reading a stored change: {e}")))
}

async fn send(client: &Client, change: &PendingChange) -> Outcome {
    match client.send_change(change).await {
        Ok(_) => Outcome::Succeeded,
        Err(e) if e.needs_reconciliation() => Outcome::Reconcile(e.to_string()),
        Err(e) if e.outcome_unknown() => Outcome::Unknown(e.to_string()),
        Err(e) => Outcome::Refused(e.to_string()),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Refused(String),
    Unknown(String),
    /// The process "crashed" during the call: nothing is known.
    Crashed,
    /// Refused locally: the change must be reconciled.
    Reconcile(String),
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

/// The changes of a run: 60 % credits, 25 % removals (some beyond the balance, refused),
/// 15 % orders (some completing an order id again, refused). Each is a stored change, made
/// through the client's own builders, request id and expiry fixed.
fn plan(config: &Config, users: &[OpenId], client: &Client) -> Result<Vec<String>, Failure> {
    let mut mix = Mix(config.seed);
    let mut orders = 0u64;
    let mut stored = Vec::with_capacity(config.calls);
    for _ in 0..config.calls {
        let uid = &users[mix.below(users.len() as u64) as usize];
        let roll = mix.below(100);
        let change = if roll < 60 {
            client
                .add_coins(uid, coins(1 + mix.below(100))?)
                .into_pending()
        } else if roll < 85 {
            client
                .remove_coins(uid, coins(1 + mix.below(150))?)
                .into_pending()
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
            client
                .complete_order(
                    uid,
                    order_id,
                    coins(1 + mix.below(500))?,
                    UsdCents::new(99),
                    Platform::Android,
                )
                .into_pending()
        };
        stored.push(store(&change.map_err(|e| fail(e.to_string()))?)?);
    }
    Ok(stored)
}

/// The same change made again from its request id alone (no stored expiry): what a caller
/// who kept only the id sends. It must be identical to the stored one.
fn rebuild_from_id(client: &Client, change: &PendingChange) -> Result<PendingChange, Failure> {
    let id = change.request_id().clone();
    let rebuilt = match change.request() {
        CoinRequest::ChangeGold(gold) => {
            let call = match gold.change_type() {
                ChangeType::Add => client.add_coins(gold.uid(), gold.value()),
                ChangeType::Remove => client.remove_coins(gold.uid(), gold.value()),
            };
            call.request_id(id).into_pending()
        }
        CoinRequest::Order(order) => {
            let call = match order.change_type() {
                ChangeType::Add => Client::complete_order,
                ChangeType::Remove => Client::refund_order,
            };
            call(
                client,
                order.uid(),
                order.order_id().clone(),
                order.value(),
                order.money(),
                order.platform(),
            )
            .request_id(id)
            .into_pending()
        }
    };
    let rebuilt = rebuilt.map_err(|e| fail(e.to_string()))?;
    if rebuilt.params() != change.params() {
        return Err(fail(format!(
            "change {} rebuilt from its id alone differs: {:?} vs {:?}",
            change.request_id(),
            rebuilt.params(),
            change.params()
        )));
    }
    Ok(rebuilt)
}

/// A client of `emulator` whose clock says `now`, as a process started at that time.
fn client_of(
    emulator: &RunningEmulator,
    config: &Config,
    now: SystemTime,
) -> Result<Client, Failure> {
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
        .context(Context::new(
            Arc::new(ManualClock::new(now)),
            Arc::new(liveapi::request::OsEntropy),
        ))
        .attempt_timeout(config.attempt_timeout)
        .no_deadline()
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

/// Sends every change from `concurrency` tasks; answers the outcomes in change order. The
/// changes `crash` names are dropped after a random moment, their results discarded.
async fn send_all(
    client: &Client,
    changes: &Arc<Vec<PendingChange>>,
    crash: &Arc<Vec<Option<Duration>>>,
    concurrency: usize,
) -> Vec<Outcome> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, changes, crash, next) =
            (client.clone(), changes.clone(), crash.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(change) = changes.get(i) else {
                    return done;
                };
                let outcome = match crash.get(i).copied().flatten() {
                    Some(after) => {
                        // Killed mid-call: whatever happened, this process never knows.
                        let _ = tokio::time::timeout(after, client.send_change(change)).await;
                        Outcome::Crashed
                    }
                    None => send(&client, change).await,
                };
                done.push((i, outcome));
            }
        }));
    }
    let mut outcomes = vec![Outcome::Unknown("never sent".to_owned()); changes.len()];
    for task in tasks {
        // A task that panicked leaves its changes as "never sent", which the checks report.
        if let Ok(done) = task.await {
            for (i, outcome) in done {
                outcomes[i] = outcome;
            }
        }
    }
    outcomes
}

/// 23:30 UTC on a day of 2027: late enough that a resend an hour later is on another day.
fn late_evening() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 / 86_400 * 86_400 + 23 * 3_600 + 30 * 60)
}

/// Runs the chaos and checks every invariant.
///
/// # Errors
/// A [`Failure`] naming the first invariant that did not hold (or why the run could not be
/// made).
pub async fn run(config: &Config) -> Result<Report, Failure> {
    let start = late_evening();
    let emulator = Emulator::builder()
        .seed(config.seed)
        .rate_limit(None)
        .clock(ClockStart::FrozenAt(start))
        .journal_capacity(config.calls * 2 + 1_000)
        .start()
        .await
        .map_err(|e| fail(format!("starting the emulator: {e}")))?;
    let client = client_of(&emulator, config, start)?;
    let users = register(&client, config.users).await?;
    let stored = plan(config, &users, &client)?;
    let changes: Vec<PendingChange> = stored.iter().map(|s| load(s)).collect::<Result<_, _>>()?;
    let changes = Arc::new(changes);
    let mut mix = Mix(config.seed ^ 0xC4A5);
    let timeout_ms = u64::try_from(config.attempt_timeout.as_millis()).unwrap_or(u64::MAX);
    let crash: Vec<Option<Duration>> = (0..changes.len())
        .map(|_| {
            let crashes = (mix.below(10_000) as f64) < config.crash_rate * 10_000.0;
            crashes.then(|| Duration::from_millis(mix.below(timeout_ms * 2)))
        })
        .collect();
    let late: Vec<bool> = crash
        .iter()
        .map(|c| c.is_some() && (mix.below(10_000) as f64) < config.late_share * 10_000.0)
        .collect();
    let crash = Arc::new(crash);

    // Latency from 50 ms to twice the client's timeout: about half the delays outlast it.
    let longest = config.attempt_timeout * 2;
    let faults = Faults::new(config.fault_rate).with_latency(Duration::from_millis(50), longest);
    emulator
        .set_faults(faults)
        .map_err(|e| fail(e.to_string()))?;
    let started = Instant::now();
    let first = send_all(&client, &changes, &crash, config.concurrency).await;
    let elapsed = started.elapsed();
    let fault_stats = emulator.fault_stats();
    emulator
        .set_faults(Faults::none())
        .map_err(|e| fail(e.to_string()))?;
    // Delayed answers of the faulty phase and dropped calls may still be on their way; their
    // changes were applied before the delay, so waiting them out only keeps the log tidy.
    tokio::time::sleep(longest).await;

    // An hour later, past midnight: a restarted process resends what it does not know, from
    // storage; every other change of a credit is rebuilt from its request id alone.
    let next_day = start + Duration::from_secs(3_600);
    emulator.clock().set(next_day);
    let restarted = client_of(&emulator, config, next_day)?;
    let mut last = first.clone();
    let mut rebuilt_from_id = 0;
    for (i, outcome) in last.iter_mut().enumerate() {
        let resend_now = match outcome {
            Outcome::Unknown(_) => true,
            Outcome::Crashed => !late[i],
            _ => false,
        };
        if !resend_now {
            continue;
        }
        let mut change = load(&stored[i])?;
        if i % 2 == 0 {
            change = rebuild_from_id(&restarted, &change)?;
            rebuilt_from_id += 1;
        }
        *outcome = send(&restarted, &change).await;
        if let Outcome::Unknown(e) | Outcome::Reconcile(e) = outcome {
            return Err(fail(format!(
                "change {} did not converge when resent without faults: {e}",
                change.request_id()
            )));
        }
    }

    // A day later, past the resend window and the server's memory: the remaining crashed
    // changes are refused locally, then reconciled against the journal.
    let day_later = start + Duration::from_secs(25 * 3_600);
    emulator.clock().set(day_later);
    let much_later = client_of(&emulator, config, day_later)?;
    let mut remade: HashMap<usize, (PendingChange, Outcome)> = HashMap::new();
    let mut past_window = 0;
    let mut reconciled_applied = 0;
    for (i, outcome) in last.iter_mut().enumerate() {
        if !(late[i] && *outcome == Outcome::Crashed) {
            continue;
        }
        let change = load(&stored[i])?;
        let before = emulator.requests().len();
        match send(&much_later, &change).await {
            Outcome::Reconcile(why) => *outcome = Outcome::Reconcile(why),
            other => {
                return Err(fail(format!(
                    "change {} a day late was sent ({other:?}) instead of refused",
                    change.request_id()
                )));
            }
        }
        if emulator.requests().len() != before {
            return Err(fail(format!(
                "change {} past the window reached the server",
                change.request_id()
            )));
        }
        past_window += 1;
        // Reconciliation: the vendor's records say whether it was applied.
        let id = change.request_id().as_str();
        if emulator.journal().iter().any(|c| c.request_id == id) {
            reconciled_applied += 1;
        } else {
            let again = match change.request() {
                CoinRequest::ChangeGold(g) => match g.change_type() {
                    ChangeType::Add => much_later.add_coins(g.uid(), g.value()),
                    ChangeType::Remove => much_later.remove_coins(g.uid(), g.value()),
                }
                .into_pending(),
                CoinRequest::Order(o) => much_later
                    .complete_order(
                        o.uid(),
                        o.order_id().clone(),
                        o.value(),
                        o.money(),
                        o.platform(),
                    )
                    .into_pending(),
            }
            .map_err(|e| fail(e.to_string()))?;
            let result = send(&much_later, &again).await;
            if let Outcome::Unknown(e) | Outcome::Reconcile(e) = &result {
                return Err(fail(format!("a remade change did not converge: {e}")));
            }
            remade.insert(i, (again, result));
        }
    }

    let report = check(
        &emulator,
        &much_later,
        &changes,
        &first,
        &last,
        &remade,
        &users,
    )
    .await?;
    emulator.shutdown().await.map_err(|e| fail(e.to_string()))?;
    Ok(Report {
        elapsed,
        faults: fault_stats,
        crashed: crash.iter().filter(|c| c.is_some()).count(),
        rebuilt_from_id,
        past_window,
        reconciled_applied,
        reconciled_remade: remade.len(),
        ..report
    })
}

async fn check(
    emulator: &RunningEmulator,
    client: &Client,
    changes: &[PendingChange],
    first: &[Outcome],
    last: &[Outcome],
    remade: &HashMap<usize, (PendingChange, Outcome)>,
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
    let mut ours: HashMap<&str, &PendingChange> = changes
        .iter()
        .map(|c| (c.request_id().as_str(), c))
        .collect();
    for (again, _) in remade.values() {
        ours.insert(again.request_id().as_str(), again);
    }
    if let Some(stray) = journal
        .iter()
        .find(|c| !ours.contains_key(c.request_id.as_str()))
    {
        return Err(fail(format!(
            "the journal holds request {} that no change sent",
            stray.request_id
        )));
    }

    let mut report = Report {
        calls: changes.len(),
        succeeded: 0,
        refused: 0,
        unknown: 0,
        unknown_then_applied: 0,
        unknown_then_refused: 0,
        crashed: 0,
        rebuilt_from_id: 0,
        past_window: 0,
        reconciled_applied: 0,
        reconciled_remade: 0,
        applied: journal.len(),
        faults: FaultStats::default(),
        elapsed: Duration::ZERO,
    };
    let as_sent = |change: &PendingChange, id: &str| -> Result<(), Failure> {
        let Some(entry) = applied.get(id).and_then(|c| c.first()) else {
            return Err(fail(format!("request {id} succeeded but was not applied")));
        };
        let applied_delta = match entry.change {
            ChangeKind::Remove => -i128::from(entry.value),
            _ => i128::from(entry.value),
        };
        if entry.uid != change.uid().as_str() || applied_delta != delta(change) {
            return Err(fail(format!(
                "request {id} was applied as {applied_delta} to {} instead of {} to {}",
                entry.uid,
                delta(change),
                change.uid()
            )));
        }
        Ok(())
    };
    for (i, ((change, first), last)) in changes.iter().zip(first).zip(last).enumerate() {
        let id = change.request_id().as_str();
        match first {
            Outcome::Succeeded => report.succeeded += 1,
            Outcome::Refused(_) => report.refused += 1,
            Outcome::Unknown(_) => {
                report.unknown += 1;
                match last {
                    Outcome::Succeeded => report.unknown_then_applied += 1,
                    _ => report.unknown_then_refused += 1,
                }
            }
            Outcome::Crashed | Outcome::Reconcile(_) => {}
        }
        match last {
            Outcome::Succeeded => as_sent(change, id)?,
            Outcome::Refused(why) => {
                if applied.contains_key(id) {
                    return Err(fail(format!(
                        "request {id} was refused ({why}) but applied"
                    )));
                }
            }
            Outcome::Reconcile(_) => match remade.get(&i) {
                // Found applied on reconciliation: it must have been applied as sent.
                None => as_sent(change, id)?,
                Some((again, result)) => {
                    if applied.contains_key(id) {
                        return Err(fail(format!(
                            "request {id} was made again though it had been applied"
                        )));
                    }
                    let again_id = again.request_id().as_str();
                    match result {
                        Outcome::Succeeded => as_sent(again, again_id)?,
                        _ if applied.contains_key(again_id) => {
                            return Err(fail(format!(
                                "remade request {again_id} was refused but applied"
                            )));
                        }
                        _ => {}
                    }
                }
            },
            Outcome::Unknown(e) => {
                return Err(fail(format!("request {id} ended unknown: {e}")));
            }
            Outcome::Crashed => {
                return Err(fail(format!("request {id} crashed and was never settled")));
            }
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
