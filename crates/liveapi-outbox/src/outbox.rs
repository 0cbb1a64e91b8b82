//! The outbox: enqueue, dispatch, inspect.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use liveapi::model::linkv::{Coins, PendingChange, RequestId};
use liveapi::{Client, RetryPolicy};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::decide::{RetryReason, Verdict, next_attempt, verdict};
use crate::entry::{Counts, Enqueued, Entry, Query, Reconciliation, Refusal, to_ms};
use crate::error::OutboxError;
use crate::store::{Claim, ClaimRequest, Settlement, Store};

/// How long a dispatcher holds an entry it is sending unless configured otherwise: 2
/// minutes, well above the client's default deadline of 30 s.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// How many entries a dispatcher sends at once unless configured otherwise.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How often an idle dispatcher looks for due entries unless configured otherwise: entries
/// enqueued through the same [`Outbox`] wake it at once; this is for the others (another
/// process, retries coming due).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The first retry's wait unless configured otherwise; it doubles with each attempt.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(2);

/// The longest wait between two attempts unless configured otherwise.
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(300);

/// A durable queue of coin changes in front of a [`liveapi::Client`]: the transactional
/// outbox pattern.
///
/// [`enqueue`](Self::enqueue) commits a [`PendingChange`] to the store before it returns, and
/// nothing is sent before that. A dispatcher ([`run`](Self::run), or
/// [`drain_once`](Self::drain_once) and [`dispatch`](Self::dispatch)) claims due entries,
/// sends them with [`Client::send_change`] and records what became of each: applied (with
/// the balance when the call answers one), refused (with the server's reason), or needing
/// reconciliation (the resend window passed). An outcome that is
/// unknown (a timeout, a reset connection, a server error) leaves the entry pending, to be
/// sent again with the same request id after a backoff, inside the client's resend window
/// and never outside it: the server applies it at most once.
///
/// A process that dies loses nothing: entries it had enqueued are in the store, and entries
/// it was sending are taken over, by it after a restart or by another dispatcher, once their
/// lease expires. A settled entry is never sent again.
///
/// Cloning is cheap; clones share the store, the dispatcher's identity and its statistics.
///
/// ```no_run
/// # async fn run(client: liveapi::Client, uid: liveapi::model::linkv::OpenId) -> Result<(), Box<dyn std::error::Error>> {
/// use liveapi::model::linkv::{Coins, OrderId, Platform, UsdCents};
/// use liveapi_outbox::Outbox;
///
/// let outbox = Outbox::open("coins.outbox").await?; // SQLite; a postgres:// URL for PostgreSQL
///
/// // The dispatcher, until the process is told to stop (`stop.send(())`).
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let (dispatcher, dispatch_client) = (outbox.clone(), client.clone());
/// let dispatching = tokio::spawn(async move {
///     dispatcher.run(&dispatch_client, async { let _ = stopped.await; }).await
/// });
///
/// // A paid order: durable once `enqueue` returns, applied once however the process dies.
/// let change = client
///     .complete_order(&uid, OrderId::new("order-1")?, Coins::new(100)?, UsdCents::new(199), Platform::Ios)
///     .into_pending()?;
/// outbox.enqueue(&change).await?;
///
/// // At shutdown: the sends in flight finish and are recorded.
/// let _ = stop.send(());
/// dispatching.await??;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    settings: Settings,
    owner: String,
    claims: AtomicU64,
    stats: Counters,
    wake: Notify,
}

#[derive(Clone, Debug)]
struct Settings {
    lease: Duration,
    concurrency: usize,
    poll_interval: Duration,
    /// The engine's own backoff, with the outbox's longer base and cap.
    backoff: RetryPolicy,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("store", &self.inner.store)
            .field("owner", &self.inner.owner)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// Configures an [`Outbox`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct OutboxBuilder {
    store: Arc<dyn Store>,
    settings: Settings,
    owner: Option<String>,
}

impl fmt::Debug for OutboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxBuilder")
            .field("store", &self.store)
            .field("settings", &self.settings)
            .field("owner", &self.owner)
            .finish()
    }
}

impl OutboxBuilder {
    /// How long a dispatcher holds an entry it claimed (default [`DEFAULT_LEASE`]). Another
    /// dispatcher takes the entry over when the lease has expired, so keep it above the
    /// time a send may take: each send's deadline is held to three quarters of it. Shorter
    /// leases take over a dead worker's entries sooner. At least 1 s.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.settings.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// How many entries the dispatcher sends at once (default [`DEFAULT_CONCURRENCY`]; at
    /// least 1).
    pub fn concurrency(mut self, sends: usize) -> Self {
        self.settings.concurrency = sends.max(1);
        self
    }

    /// How often an idle dispatcher looks for due entries (default
    /// [`DEFAULT_POLL_INTERVAL`]).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.settings.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The backoff between attempts at an entry whose outcome was unknown: `base` for the
    /// first retry, doubling up to `max`, with jitter (defaults [`DEFAULT_RETRY_BASE`] and
    /// [`DEFAULT_RETRY_MAX`]). Retries stop at the client's resend window whatever these say.
    pub fn retry_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.settings.backoff = RetryPolicy::default().with_backoff(base, max);
        self
    }

    /// A name for this dispatcher in leases and logs, such as the host's name (default:
    /// `outbox`). A random suffix is added, so that two processes given the same name stay
    /// apart.
    pub fn owner(mut self, name: impl Into<String>) -> Self {
        self.owner = Some(name.into());
        self
    }

    /// Builds the outbox.
    pub fn build(self) -> Outbox {
        let name = self.owner.unwrap_or_else(|| "outbox".to_owned());
        let owner = format!("{name}-{}-{:08x}", std::process::id(), random_u32());
        Outbox {
            inner: Arc::new(Inner {
                store: self.store,
                settings: self.settings,
                owner,
                claims: AtomicU64::new(0),
                stats: Counters::default(),
                wake: Notify::new(),
            }),
        }
    }
}

/// 32 random bits from the operating system; a fixed value if it has none, since the
/// process id and the claim counter already tell dispatchers apart on one machine.
fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => 0,
    }
}

/// What sending one entry found, and whether it was recorded.
#[derive(Debug)]
#[non_exhaustive]
pub struct Sent {
    /// The entry's request id.
    pub request_id: RequestId,
    /// What became of it.
    pub outcome: Outcome,
    /// The client's error, when the send failed.
    pub error: Option<liveapi::Error>,
    /// Whether the outcome is in the store.
    pub recorded: Recorded,
    /// The attempt this was (1 for the first).
    pub attempt: u32,
}

/// What became of an entry that was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Applied.
    Applied {
        /// The balance after, when the call answers one.
        balance: Option<Coins>,
    },
    /// Refused by the server.
    Refused(Refusal),
    /// To be reconciled by hand.
    NeedsReconciliation(Reconciliation),
    /// Still pending, to be sent again (with the same request id) at `at`.
    Retry {
        /// When.
        at: SystemTime,
    },
}

impl Outcome {
    /// Whether the entry is settled by it.
    #[must_use]
    pub fn is_settled(&self) -> bool {
        !matches!(self, Self::Retry { .. })
    }
}

/// Whether an outcome was recorded.
#[derive(Debug)]
#[non_exhaustive]
pub enum Recorded {
    /// It is in the store.
    Yes,
    /// Another dispatcher took the entry over meanwhile (this one's lease expired); its
    /// outcome counts, this one was discarded.
    LeaseLost,
    /// The store failed: the entry stays pending under this dispatcher's lease, and is sent
    /// again (with the same request id) once the lease expires.
    Failed(OutboxError),
}

/// What one [`Outbox::drain_once`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrainReport {
    /// Entries sent (claimed).
    pub sent: u64,
    /// Of those, taken over from a dispatcher whose lease had expired.
    pub taken_over: u64,
    /// Settled as applied.
    pub applied: u64,
    /// Settled as refused.
    pub refused: u64,
    /// Settled as needing reconciliation.
    pub needs_reconciliation: u64,
    /// Left pending, to be sent again after a backoff.
    pub retry: u64,
    /// Outcomes discarded because another dispatcher took the entry over.
    pub lease_lost: u64,
    /// Outcomes the store failed to record (sent again after the lease).
    pub unrecorded: u64,
}

impl DrainReport {
    fn add(&mut self, sent: &Sent, taken_over: bool) {
        self.sent += 1;
        self.taken_over += u64::from(taken_over);
        match &sent.recorded {
            Recorded::Yes => match &sent.outcome {
                Outcome::Applied { .. } => self.applied += 1,
                Outcome::Refused(_) => self.refused += 1,
                Outcome::NeedsReconciliation(_) => self.needs_reconciliation += 1,
                Outcome::Retry { .. } => self.retry += 1,
            },
            Recorded::LeaseLost => self.lease_lost += 1,
            Recorded::Failed(_) => self.unrecorded += 1,
        }
    }
}

/// What this process's [`Outbox`] has done since it was built: counters for metrics, next
/// to the store's gauges ([`Outbox::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Changes enqueued anew.
    pub enqueued: u64,
    /// Enqueues of a change that was there already.
    pub already_queued: u64,
    /// Sends started (claims).
    pub sent: u64,
    /// Of those, entries taken over from an expired lease.
    pub taken_over: u64,
    /// Entries settled as applied.
    pub applied: u64,
    /// Entries settled as refused.
    pub refused: u64,
    /// Entries settled as needing reconciliation.
    pub needs_reconciliation: u64,
    /// Sends whose entry stays pending for another attempt.
    pub retried: u64,
    /// Outcomes discarded because another dispatcher took the entry over.
    pub lease_lost: u64,
    /// Store operations of the dispatcher that failed.
    pub store_errors: u64,
}

#[derive(Default)]
struct Counters {
    enqueued: AtomicU64,
    already_queued: AtomicU64,
    sent: AtomicU64,
    taken_over: AtomicU64,
    applied: AtomicU64,
    refused: AtomicU64,
    needs_reconciliation: AtomicU64,
    retried: AtomicU64,
    lease_lost: AtomicU64,
    store_errors: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Outbox {
    /// An outbox over `store`, with the default settings.
    pub fn new(store: impl Store) -> Self {
        Self::builder(store).build()
    }

    /// A builder of an outbox over `store`.
    pub fn builder(store: impl Store) -> OutboxBuilder {
        Self::builder_of(Arc::new(store))
    }

    fn builder_of(store: Arc<dyn Store>) -> OutboxBuilder {
        OutboxBuilder {
            store,
            settings: Settings {
                lease: DEFAULT_LEASE,
                concurrency: DEFAULT_CONCURRENCY,
                poll_interval: DEFAULT_POLL_INTERVAL,
                backoff: RetryPolicy::default().with_backoff(DEFAULT_RETRY_BASE, DEFAULT_RETRY_MAX),
            },
            owner: None,
        }
    }

    /// An outbox with the default settings at `location`: a `postgres://` or
    /// `postgresql://` URL opens a [`PostgresStore`](crate::PostgresStore) (feature
    /// `postgres`), anything else is the path of a [`SqliteStore`](crate::SqliteStore)
    /// file (feature `sqlite`).
    ///
    /// # Errors
    /// The store's errors when opening; a configuration error when this build lacks the
    /// store the location asks for.
    pub async fn open(location: &str) -> Result<Self, OutboxError> {
        Ok(Self::builder_at(location).await?.build())
    }

    /// A builder of an outbox at `location`, opened as [`open`](Self::open) opens it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), liveapi_outbox::OutboxError> {
    /// use std::time::Duration;
    /// let outbox = liveapi_outbox::Outbox::builder_at("coins.outbox")
    ///     .await?
    ///     .lease(Duration::from_secs(30))
    ///     .concurrency(32)
    ///     .build();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub async fn builder_at(location: &str) -> Result<OutboxBuilder, OutboxError> {
        Ok(Self::builder_of(crate::open_store(location).await?))
    }

    /// The store's location, for messages (never a password).
    #[must_use]
    pub fn location(&self) -> &str {
        self.inner.store.location()
    }

    /// This dispatcher's name in leases and logs.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Commits `change` to the store as a pending entry, and answers once it is durable;
    /// wakes this outbox's dispatcher. Enqueueing the same change again (the same request
    /// id and parameters) changes nothing, whatever became of it, and answers
    /// [`Enqueued::AlreadyQueued`]; a change's creation time is not compared, so a change
    /// made again after a restart counts as the same.
    ///
    /// # Errors
    /// [`OutboxError::IdConflict`] for another change under the same request id; the
    /// store's errors (after which enqueueing the same change again is safe).
    pub async fn enqueue(&self, change: &PendingChange) -> Result<Enqueued, OutboxError> {
        let enqueued = self
            .inner
            .store
            .enqueue(change.clone(), to_ms(SystemTime::now()))
            .await?;
        match enqueued {
            Enqueued::Added => {
                bump(&self.inner.stats.enqueued);
                tracing::info!(
                    target: "liveapi_outbox",
                    request_id = %change.request_id(),
                    uid = %change.uid(),
                    endpoint = change.endpoint(),
                    change_type = ?change.change_type(),
                    coins = change.coins().get(),
                    "coin change enqueued"
                );
                self.inner.wake.notify_one();
            }
            Enqueued::AlreadyQueued => {
                bump(&self.inner.stats.already_queued);
                tracing::debug!(
                    target: "liveapi_outbox",
                    request_id = %change.request_id(),
                    "coin change already in the outbox"
                );
            }
        }
        Ok(enqueued)
    }

    /// Tells this outbox's dispatcher to look for due entries now: after a transaction that
    /// enqueued changes with [`PostgresStore::enqueue_in`](crate::PostgresStore::enqueue_in)
    /// has committed, say. Dispatchers of other processes find them at their next poll.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// The entry of `request_id`, if it is in the outbox.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn get(&self, request_id: &RequestId) -> Result<Option<Entry>, OutboxError> {
        self.inner.store.get(request_id.to_string()).await
    }

    /// The entries `query` selects, in the order they were enqueued.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn list(&self, query: &Query) -> Result<Vec<Entry>, OutboxError> {
        self.inner.store.list(query.clone()).await
    }

    /// How many entries are in each state now.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn counts(&self) -> Result<Counts, OutboxError> {
        self.inner.store.counts(to_ms(SystemTime::now())).await
    }

    /// What this process's outbox has done since it was built.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let c = &self.inner.stats;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            enqueued: get(&c.enqueued),
            already_queued: get(&c.already_queued),
            sent: get(&c.sent),
            taken_over: get(&c.taken_over),
            applied: get(&c.applied),
            refused: get(&c.refused),
            needs_reconciliation: get(&c.needs_reconciliation),
            retried: get(&c.retried),
            lease_lost: get(&c.lease_lost),
            store_errors: get(&c.store_errors),
        }
    }

    /// Sends every entry that is due now (by `client`'s clock) and not held by another
    /// dispatcher, once, and records each outcome; entries left pending for a retry wait
    /// for a later drain. At most [`concurrency`](OutboxBuilder::concurrency) sends are in
    /// flight at once.
    ///
    /// # Errors
    /// The store's errors when claiming; an outcome the store fails to record is counted in
    /// [`DrainReport::unrecorded`] instead.
    pub async fn drain_once(&self, client: &Client) -> Result<DrainReport, OutboxError> {
        self.pump(client, Some(client.now()), std::future::pending())
            .await
    }

    /// Sends the entry of `request_id` now, if it is pending, due and not held by another
    /// dispatcher, and records the outcome. `None` when it was not sent: settled already,
    /// being sent by another dispatcher, waiting for its retry, or not in the outbox
    /// ([`get`](Self::get) tells which).
    ///
    /// # Errors
    /// The store's errors when claiming.
    pub async fn dispatch(
        &self,
        client: &Client,
        request_id: &RequestId,
    ) -> Result<Option<Sent>, OutboxError> {
        let claims = self
            .claim(client, client.now(), 1, Some(request_id))
            .await?;
        match claims.into_iter().next() {
            Some(claim) => Ok(Some(self.send(client, claim).await)),
            None => Ok(None),
        }
    }

    /// The dispatcher: claims due entries, sends them (up to
    /// [`concurrency`](OutboxBuilder::concurrency) at once) and records their outcomes, until
    /// `shutdown` completes; then stops claiming, lets the sends in flight finish and records
    /// them. Enqueues through this outbox wake it at once; otherwise it polls.
    ///
    /// A store that is unavailable is retried at every poll, with the failure logged.
    ///
    /// # Errors
    /// A store error that retrying cannot cure (a damaged store, a schema of a newer version,
    /// an entry that cannot be read, a stopped store), after the sends in flight finished.
    pub async fn run(
        &self,
        client: &Client,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), OutboxError> {
        tracing::info!(target: "liveapi_outbox", owner = %self.inner.owner, location = self.location(), "outbox dispatcher started");
        let result = self.pump(client, None, shutdown).await;
        match &result {
            Ok(report) => {
                tracing::info!(target: "liveapi_outbox", owner = %self.inner.owner, sent = report.sent, "outbox dispatcher stopped");
            }
            Err(e) => {
                tracing::error!(target: "liveapi_outbox", owner = %self.inner.owner, error = %e, "outbox dispatcher stopped by a store error");
            }
        }
        result.map(|_| ())
    }

    /// The dispatcher's loop: keeps up to `concurrency` sends in flight, claiming more when
    /// half of the room is free (or none is in flight), so that claims come in batches: each
    /// claim is a commit.
    ///
    /// A drain (`drain_by` set) claims entries due by then, stops when none is left and
    /// fails on the first store error; the dispatcher runs until `shutdown`, waking on
    /// enqueues and polls, and rides out store errors that may pass.
    async fn pump(
        &self,
        client: &Client,
        drain_by: Option<SystemTime>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<DrainReport, OutboxError> {
        let settings = &self.inner.settings;
        let batch = settings.concurrency.div_ceil(2);
        tokio::pin!(shutdown);
        let mut tasks: JoinSet<(Sent, bool)> = JoinSet::new();
        let mut report = DrainReport::default();
        let mut failure = None;
        let mut stopping = false;
        while !stopping {
            let room = settings.concurrency - tasks.len();
            // Whether the last look found everything due.
            let mut exhausted = false;
            if room >= batch || tasks.is_empty() {
                let due_by = drain_by.unwrap_or_else(|| client.now());
                match self.claim(client, due_by, room, None).await {
                    Ok(claims) => {
                        exhausted = claims.len() < room;
                        for claim in claims {
                            let taken_over = claim.taken_over_from.is_some();
                            let (outbox, client) = (self.clone(), client.clone());
                            tasks.spawn(
                                async move { (outbox.send(&client, claim).await, taken_over) },
                            );
                        }
                    }
                    Err(e) if drain_by.is_none() && is_passing(&e) => {
                        bump(&self.inner.stats.store_errors);
                        tracing::warn!(target: "liveapi_outbox", error = %e, "claiming failed; trying again");
                        exhausted = true;
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
                if !exhausted && tasks.len() < settings.concurrency {
                    continue;
                }
            }
            if drain_by.is_some() && exhausted && tasks.is_empty() {
                break;
            }
            let poll = drain_by.is_none() && exhausted;
            tokio::select! {
                () = &mut shutdown => stopping = true,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => match done {
                    Ok((sent, taken_over)) => report.add(&sent, taken_over),
                    Err(e) => log_task_failure(&e),
                },
                () = self.inner.wake.notified(), if drain_by.is_none() => {}
                () = tokio::time::sleep(settings.poll_interval), if poll => {}
            }
        }
        // The sends in flight finish and are recorded, whatever stopped the loop.
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((sent, taken_over)) => report.add(&sent, taken_over),
                Err(e) => log_task_failure(&e),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Leases up to `limit` entries due by `due_by`.
    async fn claim(
        &self,
        client: &Client,
        due_by: SystemTime,
        limit: usize,
        only: Option<&RequestId>,
    ) -> Result<Vec<Claim>, OutboxError> {
        let now = client.now();
        let number = self.inner.claims.fetch_add(1, Ordering::Relaxed);
        let request = ClaimRequest {
            owner: self.inner.owner.clone(),
            token: format!("{}/{number}", self.inner.owner),
            due_by_ms: to_ms(due_by),
            now_ms: to_ms(now),
            lease_until_ms: to_ms(now + self.inner.settings.lease),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            only: only.map(ToString::to_string),
        };
        let claims = self.inner.store.claim(request).await?;
        for claim in &claims {
            let entry = &claim.entry;
            bump(&self.inner.stats.sent);
            match &claim.taken_over_from {
                Some(previous) => {
                    bump(&self.inner.stats.taken_over);
                    tracing::info!(
                        target: "liveapi_outbox",
                        request_id = %entry.request_id(),
                        attempt = entry.attempts(),
                        previous_owner = %previous,
                        "coin change taken over from an expired lease"
                    );
                }
                None => tracing::debug!(
                    target: "liveapi_outbox",
                    request_id = %entry.request_id(),
                    attempt = entry.attempts(),
                    "coin change claimed"
                ),
            }
        }
        Ok(claims)
    }

    /// Sends a claimed entry and records what became of it.
    async fn send(&self, client: &Client, claim: Claim) -> Sent {
        let Claim { entry, token, .. } = claim;
        let settings = &self.inner.settings;
        let change = &entry.change;
        let attempt = entry.attempts;
        // A send ends well inside the lease, so that no other dispatcher takes the entry over
        // while it is on the wire.
        let budget = settings.lease * 3 / 4;
        let deadline = client.engine().deadline().map_or(budget, |d| d.min(budget));
        let result = match client.check_resend_window(change) {
            Err(e) => Err(e),
            Ok(()) => client.send_change(change).deadline(Some(deadline)).await,
        };
        let (judged, error) = match result {
            Ok(balance) => (Verdict::Applied { balance }, None),
            Err(e) => (verdict(&e), Some(e)),
        };
        let now = client.now();
        let mut retry_reason = None;
        let (outcome, settlement) = match judged {
            Verdict::Applied { balance } => (
                Outcome::Applied { balance },
                Settlement::Applied { balance },
            ),
            Verdict::Refused(refusal) => (
                Outcome::Refused(refusal.clone()),
                Settlement::Refused(refusal),
            ),
            Verdict::Reconcile(reason) => (
                Outcome::NeedsReconciliation(reason.clone()),
                Settlement::Reconcile(reason),
            ),
            Verdict::Retry(reason) => {
                retry_reason = Some(reason);
                let at = next_attempt(
                    change,
                    attempt,
                    now,
                    &settings.backoff,
                    client.resend_window(),
                    client.engine().context().jitter(),
                );
                let why = error.as_ref().map_or_else(String::new, ToString::to_string);
                (
                    Outcome::Retry { at },
                    Settlement::Retry {
                        at_ms: to_ms(at),
                        error: format!("{}: {why}", reason.name()),
                    },
                )
            }
        };
        let recorded = match self
            .inner
            .store
            .record(
                change.request_id().to_string(),
                token,
                settlement,
                to_ms(now),
            )
            .await
        {
            Ok(true) => Recorded::Yes,
            Ok(false) => Recorded::LeaseLost,
            Err(e) => Recorded::Failed(e),
        };
        let sent = Sent {
            request_id: change.request_id().clone(),
            outcome,
            error,
            recorded,
            attempt,
        };
        self.observe(&entry, &sent, retry_reason);
        sent
    }

    /// The tracing event and the counter of what became of an entry.
    fn observe(&self, entry: &Entry, sent: &Sent, retry: Option<RetryReason>) {
        let stats = &self.inner.stats;
        let (request_id, uid, attempt) = (entry.request_id(), entry.uid(), sent.attempt);
        let error = sent.error.as_ref().map(ToString::to_string);
        match &sent.recorded {
            Recorded::LeaseLost => {
                bump(&stats.lease_lost);
                tracing::warn!(target: "liveapi_outbox", %request_id, %uid, attempt, "outcome discarded: another dispatcher took the coin change over");
                return;
            }
            Recorded::Failed(e) => {
                bump(&stats.store_errors);
                tracing::error!(target: "liveapi_outbox", %request_id, %uid, attempt, error = %e, "outcome not recorded: the coin change is sent again after its lease");
                return;
            }
            Recorded::Yes => {}
        }
        match &sent.outcome {
            Outcome::Applied { balance } => {
                bump(&stats.applied);
                tracing::info!(target: "liveapi_outbox", %request_id, %uid, attempt, balance = balance.map(Coins::get), "coin change applied");
            }
            Outcome::Refused(refusal) => {
                bump(&stats.refused);
                tracing::warn!(target: "liveapi_outbox", %request_id, %uid, attempt, reason = %refusal, "coin change refused");
            }
            Outcome::NeedsReconciliation(reason) => {
                bump(&stats.needs_reconciliation);
                tracing::error!(target: "liveapi_outbox", %request_id, %uid, attempt, reason = %reason, "coin change needs reconciliation");
            }
            Outcome::Retry { at } => {
                bump(&stats.retried);
                let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
                let reason = retry.map_or("unknown", RetryReason::name);
                if retry == Some(RetryReason::Blocked) {
                    tracing::error!(target: "liveapi_outbox", %request_id, %uid, attempt, reason, ?wait, error, "coin change cannot be sent from this machine; retrying");
                } else {
                    tracing::warn!(target: "liveapi_outbox", %request_id, %uid, attempt, reason, ?wait, error, "coin change to be sent again");
                }
            }
        }
    }
}

/// Whether a store error may pass by itself, so that the dispatcher keeps going.
fn is_passing(error: &OutboxError) -> bool {
    matches!(
        error,
        OutboxError::Unavailable { .. } | OutboxError::Store { .. }
    )
}

fn log_task_failure(e: &tokio::task::JoinError) {
    tracing::error!(target: "liveapi_outbox", error = %e, "a send task failed; its coin change is sent again after its lease");
}
