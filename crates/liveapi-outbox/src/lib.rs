//! A durable outbox for LinkV coin changes: enqueued before they are sent, sent until
//! settled, never applied twice, whatever crashes in between.
//!
//! A back-end that credits coins for a paid order must never lose the credit nor apply it
//! twice, even when its own process is killed between deciding and hearing back. The
//! transactional-outbox pattern does that: the change is committed to a store first (with the
//! business operation, when the store is the application's database), and a dispatcher sends
//! what the store holds, with the change's own request id every time, until the server's
//! answer settles it.
//!
//! - [`Outbox::enqueue`] commits a [`PendingChange`](liveapi::model::linkv::PendingChange)
//!   before it returns; nothing is sent before that. The same change enqueued twice is there
//!   once.
//! - [`Outbox::run`] (or [`Outbox::drain_once`], [`Outbox::dispatch`]) claims due entries
//!   under a lease, sends them with [`liveapi::Client::send_change`] and records each outcome:
//!   [applied](State::Applied) with the balance when the call answers one,
//!   [refused](State::Refused) with the server's reason, or
//!   [needing reconciliation](State::NeedsReconciliation) (the client's resend window
//!   passed). An unknown outcome leaves the entry pending, to be sent
//!   again with the same request id after a backoff, inside the resend window only.
//! - After a crash, every entry enqueued and not settled is sent again, by the restarted
//!   process or any other dispatcher, once the lease of the dead one expires; a settled entry
//!   is never sent again.
//! - [`Outbox::get`], [`Outbox::list`] ([`Query`]: by state, by user),
//!   [`Outbox::counts`] and [`Outbox::wait_settled`] inspect it; each state change is a
//!   `tracing` event (target `liveapi_outbox`), [`Outbox::stats`] counts what this process did,
//!   and the `metrics` facade gets gauges and counters ([`describe_metrics`]).
//! - A person resolves an entry that needs reconciliation ([`Outbox::resolve`], re-issuing
//!   its change under a new request id when it was not applied); [`Outbox::prune`] deletes
//!   old settled entries; [`Outbox::builder_read_only`] opens a store without writing.
//! - Every time the outbox records or compares (enqueued, due, leased until, settled) comes
//!   from one clock, [`OutboxBuilder::clock`] (the system clock by default), never the
//!   client's. No entry is due later than the longest backoff from the moment it is read,
//!   whichever clock scheduled it.
//! - A store is named by one string, a [`Location`], refused before anything is created when
//!   it could be mistaken and shown with its password replaced. Every store call is bounded
//!   ([`OutboxBuilder::store_timeout`]); a failure names its cause ([`Fault`]), and
//!   [`OutboxError::is_config`] tells a setting to fix from an outage.
//!
//! Two stores keep the entries, behind one [`Store`] trait:
//!
//! | store | feature | for |
//! |---|---|---|
//! | [`SqliteStore`] | `sqlite` (default) | one file beside the application: WAL, every commit synced; concurrent enqueues share a commit |
//! | [`PostgresStore`] | `postgres` | fleets: many instances share one outbox, claims skip rows another instance holds (`FOR UPDATE SKIP LOCKED`), and [`PostgresStore::enqueue_in`] enqueues inside the application's own transaction; TLS by `sslmode`, always verified |
//!
//! Schemas are versioned and migrated when a store is opened; a store written by a newer
//! version of this crate is refused with [`OutboxError::SchemaTooNew`], untouched. The store
//! holds changes and outcomes only: never a credential (a pending change holds none).
//!
//! ```no_run
//! use liveapi::Client;
//! use liveapi::model::linkv::{Coins, OpenId};
//! use liveapi_outbox::{Outbox, Query, StateFilter};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let outbox = Outbox::open("coins.outbox").await?;
//!
//! let uid = OpenId::new("1291371456374120449")?;
//! let change = client.add_coins(&uid, Coins::new(5)?).into_pending()?;
//! outbox.enqueue(&change).await?; // durable from here on
//!
//! let report = outbox.drain_once(&client).await?; // or `outbox.run(&client, shutdown)`
//! println!("{} applied, {} to retry", report.applied, report.retry);
//!
//! for entry in outbox.list(&Query::new().state(StateFilter::NeedsReconciliation)).await? {
//!     println!("reconcile {}: {:?}", entry.request_id(), entry.state());
//! }
//! # Ok(()) }
//! ```
//!
//! # Choosing the request id
//!
//! The outbox makes a change durable; making the *same* change twice (a request handled
//! again after a crash, a retried job) is the caller's to avoid. Either give the change a
//! request id derived from the business operation (`order-42-credit`, with an explicit
//! expiry: `ChangeCoins::request_id`, `ChangeCoins::expires_at`), so that enqueueing it again
//! is a no-op, or enqueue it in the transaction that records the business operation
//! ([`PostgresStore::enqueue_in`]).
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod decide;
mod dispatch;
mod entry;
mod error;
mod location;
mod operator;
mod outbox;
#[cfg(feature = "postgres")]
mod postgres;
mod report;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
mod telemetry;

pub use entry::{
    Counts, Decision, Enqueued, Entry, Lease, Query, ReconcileKind, Reconciliation, Refusal,
    RefusalKind, Resolution, State, StateFilter,
};
pub use error::{Fault, OutboxError};
pub use location::Location;
pub use outbox::{
    DEFAULT_CONCURRENCY, DEFAULT_LEASE, DEFAULT_POLL_INTERVAL, DEFAULT_RETRY_BASE,
    DEFAULT_RETRY_MAX, DEFAULT_STORE_TIMEOUT, Outbox, OutboxBuilder,
};
#[cfg(feature = "postgres")]
pub use postgres::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOCK_TIMEOUT, DEFAULT_POSTGRES_SCHEMA,
    DEFAULT_STATEMENT_TIMEOUT, PostgresStore, PostgresStoreBuilder, SslMode,
};
pub use report::{DrainReport, Outcome, Recorded, Sent, Stats};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use store::Store;
pub use telemetry::describe as describe_metrics;

/// The PostgreSQL client this crate uses, for [`PostgresStore::enqueue_in`]'s transaction.
#[cfg(feature = "postgres")]
pub use tokio_postgres;

/// Whether `location` names a PostgreSQL database (a `postgres://` or `postgresql://` URL,
/// or a libpq `key=value` string) rather than a SQLite file; `false` for a location that
/// cannot be read ([`Location::parse`] says why).
///
/// ```
/// assert!(liveapi_outbox::is_postgres_url("postgres://app@db.internal/payments"));
/// assert!(liveapi_outbox::is_postgres_url("host=db.internal dbname=payments"));
/// assert!(!liveapi_outbox::is_postgres_url("/var/lib/app/coins.outbox"));
/// ```
#[must_use]
pub fn is_postgres_url(location: &str) -> bool {
    Location::parse(location).is_ok_and(|l| l.is_postgres())
}

/// The store at `location`, as [`Outbox::open`] picks it; to read only when `read_only`.
async fn open_store(
    location: &Location,
    read_only: bool,
) -> Result<std::sync::Arc<dyn Store>, OutboxError> {
    if let Some((text, _)) = location.postgres_text() {
        #[cfg(feature = "postgres")]
        {
            let builder = PostgresStore::builder(text);
            let store = if read_only {
                builder.connect_read_only().await?
            } else {
                builder.connect().await?
            };
            return Ok(std::sync::Arc::new(store));
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = (text, read_only);
            return Err(OutboxError::Config(
                "a PostgreSQL outbox needs liveapi-outbox's `postgres` feature".to_owned(),
            ));
        }
    }
    #[cfg(feature = "sqlite")]
    if let Some(path) = location.sqlite_path() {
        let store = if read_only {
            SqliteStore::open_read_only(path).await?
        } else {
            SqliteStore::open(path).await?
        };
        return Ok(std::sync::Arc::new(store));
    }
    let _ = read_only;
    Err(OutboxError::Config(
        "a SQLite outbox needs liveapi-outbox's `sqlite` feature".to_owned(),
    ))
}

/// The crate's README, whose code blocks are compiled and run as doctests so that what a reader
/// copies from it builds as it stands.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
