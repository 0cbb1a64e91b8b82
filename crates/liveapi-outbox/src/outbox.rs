//! The outbox's public face: building it, enqueueing, and inspecting what it holds. The
//! dispatcher that sends the entries is in `dispatch`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use liveapi::RetryPolicy;
use liveapi::model::linkv::{PendingChange, RequestId};
use liveapi::request::{Clock, SystemClock};
use tokio::sync::{Notify, watch};

use crate::entry::{Counts, Enqueued, Entry, Query, to_ms};
use crate::error::OutboxError;
use crate::location::Location;
use crate::report::{Counters, Stats, bump};
use crate::store::Store;

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

/// How long one store call (an enqueue, a claim, a record, a query) may take unless configured
/// otherwise: past it the call fails with a [`Fault::Timeout`](crate::Fault::Timeout) error,
/// whatever the database does.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(10);

/// No lease lasts longer than this past the time it is read, whichever clock wrote it (unless
/// the outbox's own lease is longer): a lease written by a clock days ahead does not hold an
/// entry for days.
const LEASE_CAP: Duration = Duration::from_secs(600);

/// A durable queue of coin changes in front of a [`liveapi::Client`]: the transactional
/// outbox pattern.
///
/// [`enqueue`](Self::enqueue) commits a [`PendingChange`] to the store before it returns, and
/// nothing is sent before that. A dispatcher ([`run`](Self::run), or
/// [`drain_once`](Self::drain_once) and [`dispatch`](Self::dispatch)) claims due entries,
/// sends them with [`Client::send_change`](liveapi::Client::send_change) and records what
/// became of each: applied (with the balance when the call answers one), refused (with the
/// server's reason), or needing reconciliation (the resend window passed). An outcome that is
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
    pub(crate) inner: Arc<Inner>,
}

/// What an outbox's clones share.
pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) settings: Settings,
    pub(crate) owner: String,
    /// Claims made so far: numbers each claim's lease token.
    pub(crate) claims: AtomicU64,
    pub(crate) stats: Counters,
    pub(crate) wake: Notify,
    /// Bumped whenever this outbox records a settlement: what `wait_settled` wakes on.
    pub(crate) settled: watch::Sender<u64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) lease: Duration,
    pub(crate) concurrency: usize,
    pub(crate) poll_interval: Duration,
    /// The engine's own backoff, with the outbox's longer base and cap.
    pub(crate) backoff: RetryPolicy,
    /// The backoff's cap: no entry is due later than this after the time it is read.
    pub(crate) retry_max: Duration,
    /// Where every time the outbox records or compares comes from.
    pub(crate) clock: Arc<dyn Clock>,
    /// The bound of one store call.
    pub(crate) store_timeout: Duration,
    /// The longest a send may take, if shorter than the client's deadline.
    pub(crate) send_timeout: Option<Duration>,
}

impl Settings {
    /// No entry is due later than this after `now`, whichever clock scheduled it.
    pub(crate) fn latest_due(&self, now: SystemTime) -> SystemTime {
        now + self.retry_max
    }

    /// No lease lasts past this after `now`, whichever clock wrote it.
    pub(crate) fn latest_lease(&self, now: SystemTime) -> SystemTime {
        now + self.lease.max(LEASE_CAP)
    }

    /// The longest a send may take with `client`: its deadline, this outbox's send timeout,
    /// and three quarters of the lease, whichever is shortest, so that no other dispatcher
    /// takes the entry over while it is on the wire.
    pub(crate) fn send_budget(&self, client_deadline: Option<Duration>) -> Duration {
        let mut budget = self.lease * 3 / 4;
        if let Some(deadline) = client_deadline {
            budget = budget.min(deadline);
        }
        if let Some(limit) = self.send_timeout {
            budget = budget.min(limit);
        }
        budget
    }
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

    /// How long one store call may take (default [`DEFAULT_STORE_TIMEOUT`], at least 1 ms):
    /// an enqueue, a claim, a record, a query. A database that hangs or a table locked for
    /// longer gives a [`Fault::Timeout`](crate::Fault::Timeout) error then; nothing is lost
    /// (an outcome not recorded is sent again after its lease, an enqueue may be repeated).
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.settings.store_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The longest one send may take (default: the client's deadline). A send is also held
    /// to three quarters of the [lease](Self::lease). A one-shot sender that must answer
    /// within a deadline gives what is left of it after the store's work.
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.settings.send_timeout = Some(timeout.max(Duration::from_millis(1)));
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
    ///
    /// `max` also bounds every schedule, whichever clock wrote it: an entry due more than
    /// `max` after the time it is read is due at that time plus `max`, and one whose retry
    /// was scheduled by a clock ahead of this outbox's (its schedule starts in the future) is
    /// due at once. A machine whose clock jumped forward and back leaves no entry waiting for
    /// the days it jumped.
    pub fn retry_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.settings.backoff = RetryPolicy::default().with_backoff(base, max);
        self.settings.retry_max = max.max(base);
        self
    }

    /// The clock of every time the outbox records or compares (default: the system clock):
    /// when an entry was enqueued, which entries are due, how long a lease holds, when an
    /// entry is due again after an unknown outcome, and when it was settled. Dispatchers
    /// sharing a store compare each other's leases, so they should read the same time.
    ///
    /// The client's clock stays the client's: it signs the calls, dates the changes it makes
    /// ([`PendingChange::created_at`]) and judges their resend window; the outbox never
    /// reads it. The one place the two meet is the last retry, held inside the change's
    /// resend window (its creation time plus the window, by the outbox's clock): with both
    /// on the system clock, the default, they agree. A test that stops time gives both the
    /// same clock:
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use liveapi::request::{Context, ManualClock, OsEntropy};
    /// use liveapi_outbox::Outbox;
    ///
    /// // Stopped at 2031-01-01 (ManualClock: liveapi's feature `test-util`).
    /// let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_924_992_000)));
    /// let client = liveapi::Client::builder()
    ///     .context(Context::new(clock.clone(), Arc::new(OsEntropy)))
    ///     .build()?;
    /// let outbox = Outbox::builder_at("coins.outbox").await?.clock(clock.clone()).build();
    /// # Ok(()) }
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = clock;
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
                settled: watch::channel(0).0,
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
                retry_max: DEFAULT_RETRY_MAX,
                clock: Arc::new(SystemClock),
                store_timeout: DEFAULT_STORE_TIMEOUT,
                send_timeout: None,
            },
            owner: None,
        }
    }

    /// An outbox with the default settings at `location` ([`Location::parse`]): a
    /// `postgres://` or `postgresql://` URL or a libpq `key=value` string opens a
    /// [`PostgresStore`](crate::PostgresStore) (feature `postgres`), a `sqlite:` URL or a
    /// path a [`SqliteStore`](crate::SqliteStore) file (feature `sqlite`).
    ///
    /// # Errors
    /// [`OutboxError::BadLocation`] for a location that could be mistaken (before anything
    /// is created); the store's errors when opening; a configuration error when this build
    /// lacks the store the location asks for.
    pub async fn open(location: &str) -> Result<Self, OutboxError> {
        Ok(Self::builder_at(location).await?.build())
    }

    /// A builder of an outbox at `location` opened to read only: nothing is created,
    /// migrated or written (for SQLite no journal is switched or checkpointed), so that it
    /// works on a store that cannot be written (a read-only mount, a full disk, a read-only
    /// replica). For inspecting: [`get`](Self::get), [`list`](Self::list),
    /// [`counts`](Self::counts), [`wait_settled`](Self::wait_settled); anything that writes
    /// fails with a [`Fault::ReadOnly`](crate::Fault::ReadOnly) error.
    ///
    /// # Errors
    /// As [`open`](Self::open), and a [`Fault::CannotOpen`](crate::Fault::CannotOpen) error
    /// when there is no outbox at `location`.
    pub async fn builder_read_only(location: &str) -> Result<OutboxBuilder, OutboxError> {
        let location = Location::parse(location)?;
        Ok(Self::builder_of(crate::open_store(&location, true).await?))
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
        let location = Location::parse(location)?;
        Ok(Self::builder_of(crate::open_store(&location, false).await?))
    }

    /// The store's location, for messages (its password replaced by `***`).
    #[must_use]
    pub fn location(&self) -> &str {
        self.inner.store.location()
    }

    /// This dispatcher's name in leases and logs.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// The time by this outbox's [clock](OutboxBuilder::clock): the time it records and
    /// compares. [`PostgresStore::enqueue_in`](crate::PostgresStore::enqueue_in) is given it.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.inner.settings.clock.now()
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
            .bounded(
                "enqueueing",
                self.inner.store.enqueue(change.clone(), to_ms(self.now())),
            )
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
        self.bounded(
            "reading an entry",
            self.inner.store.get(request_id.to_string()),
        )
        .await
    }

    /// The entries `query` selects, in the order they were enqueued.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn list(&self, query: &Query) -> Result<Vec<Entry>, OutboxError> {
        self.bounded("listing entries", self.inner.store.list(query.clone()))
            .await
    }

    /// How many entries are in each state now; in flight are those whose lease has not
    /// expired by this outbox's clock.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn counts(&self) -> Result<Counts, OutboxError> {
        self.bounded(
            "counting entries",
            self.inner.store.counts(to_ms(self.now())),
        )
        .await
    }

    /// Runs the store call `call`, failing with a timeout past the outbox's
    /// [store timeout](OutboxBuilder::store_timeout).
    pub(crate) async fn bounded<T>(
        &self,
        doing: &str,
        call: impl std::future::Future<Output = Result<T, OutboxError>>,
    ) -> Result<T, OutboxError> {
        let limit = self.inner.settings.store_timeout;
        match tokio::time::timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => Err(OutboxError::timed_out(self.location(), doing, limit)),
        }
    }

    /// What this process's outbox has done since it was built.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.inner.stats.snapshot()
    }
}
