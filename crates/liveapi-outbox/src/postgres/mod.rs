//! The store for fleets: one PostgreSQL table shared by every instance.
//!
//! Claims lock the rows they pick with `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers
//! never pick the same entry; the lease written with the claim keeps others off it after the
//! claim's transaction has ended. Every operation is one statement (a transaction of its
//! own), and the pool keeps several connections, so concurrent enqueues commit in parallel
//! and PostgreSQL flushes their commits together.

mod connect;
mod migrate;
mod queries;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use deadpool_postgres::Pool;
use liveapi::model::linkv::PendingChange;
use tokio_postgres::Transaction;
use tokio_postgres::error::SqlState;

use crate::entry::Enqueued;
use crate::error::OutboxError;
pub use connect::PostgresStoreBuilder;
use queries::{Sql, insert};

/// The schema the outbox's tables live in unless configured otherwise.
pub const DEFAULT_POSTGRES_SCHEMA: &str = "liveapi_outbox";

/// The store for fleets: a table in a PostgreSQL schema (default [`DEFAULT_POSTGRES_SCHEMA`]) that
/// many processes share, created and migrated when connecting.
///
/// Cloning is cheap; clones share the connection pool. Connections the server closes (a
/// restart, `pg_terminate_backend`) are replaced on the next use; an operation that met one
/// fails with [`OutboxError::Unavailable`] unless it could be repeated safely on a fresh
/// connection, which enqueues, outcomes and queries are.
///
/// Connections are made without TLS: reach the database over a trusted network, a Unix
/// socket or a local proxy that adds TLS. A URL asking for TLS (`sslmode=require`) fails to
/// connect, with nothing sent in the clear.
///
/// ```no_run
/// # async fn run(pending: liveapi::model::linkv::PendingChange) -> Result<(), Box<dyn std::error::Error>> {
/// use liveapi_outbox::{Outbox, PostgresStore};
///
/// let store = PostgresStore::builder("postgres://app@db.internal/payments")
///     .schema("coins")
///     .connections(8)
///     .connect()
///     .await?;
/// let outbox = Outbox::new(store.clone());
///
/// // The order row and its coin change commit together, or neither does.
/// let (mut db, connection) =
///     liveapi_outbox::tokio_postgres::connect("postgres://app@db.internal/payments", liveapi_outbox::tokio_postgres::NoTls).await?;
/// tokio::spawn(connection);
/// let transaction = db.transaction().await?;
/// transaction.execute("UPDATE orders SET state = 'paid' WHERE id = $1", &[&42_i64]).await?;
/// store.enqueue_in(&transaction, &pending, outbox.now()).await?;
/// transaction.commit().await?;
/// outbox.wake();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    schema: String,
    location: String,
    sql: Sql,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the outbox at `url` with the default settings (schema
    /// [`DEFAULT_POSTGRES_SCHEMA`], 4 connections).
    ///
    /// # Errors
    /// As [`PostgresStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, OutboxError> {
        Self::builder(url).connect().await
    }

    /// A builder for the outbox at `url` (`postgres://user@host:port/database?options`; a
    /// password in it is never shown).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder::new(url.into())
    }

    /// The schema of the outbox's tables.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// Enqueues `change` inside the caller's own `transaction`, on the caller's connection to
    /// the same database: it commits or rolls back with the business operation (the order
    /// row). Dispatchers see it once the transaction has committed; call
    /// [`Outbox::wake`](crate::Outbox::wake) then to have this process's dispatcher send
    /// it at once.
    ///
    /// `now` is recorded as the entry's [enqueue time](crate::Entry::enqueued_at). The store
    /// has no clock of its own, so that every time in the outbox comes from one: pass the
    /// outbox's, [`Outbox::now`](crate::Outbox::now). (The entry is due at once whatever
    /// `now` says.)
    ///
    /// A `deadpool_postgres` transaction is one too (`&*transaction`).
    ///
    /// # Errors
    /// [`OutboxError::IdConflict`] for another change under the same request id; the
    /// database's errors, after which the transaction is to be rolled back.
    pub async fn enqueue_in(
        &self,
        transaction: &Transaction<'_>,
        change: &PendingChange,
        now: SystemTime,
    ) -> Result<Enqueued, OutboxError> {
        let sql = &self.inner.sql;
        let now_ms = crate::entry::to_ms(now);
        insert(
            transaction,
            sql.insert.as_str(),
            sql.select_change.as_str(),
            change,
            now_ms,
            &self.inner.location,
        )
        .await
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, OutboxError> {
        self.inner.pool.get().await.map_err(|e| {
            let source: Option<crate::error::Cause> = match e {
                deadpool_postgres::PoolError::Backend(e) => Some(Box::new(e)),
                _ => None,
            };
            OutboxError::unavailable(&self.inner.location, "no connection", source)
        })
    }

    async fn statement(
        &self,
        client: &deadpool_postgres::Object,
        sql: &str,
    ) -> Result<tokio_postgres::Statement, OutboxError> {
        client
            .prepare_cached(sql)
            .await
            .map_err(|e| error(&self.inner.location, "preparing a statement", e))
    }
}

/// The outbox error of a PostgreSQL failure while `doing` something: the connection or the
/// server going away is [`OutboxError::Unavailable`], anything else
/// [`OutboxError::Store`].
fn error(location: &str, doing: &str, e: tokio_postgres::Error) -> OutboxError {
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    let passing = e.is_closed()
        || io
        || e.code().is_some_and(|code| {
            code.code().starts_with("08") // connection exception
                || code.code().starts_with("57P") // admin or crash shutdown, cannot connect now
                || *code == SqlState::TOO_MANY_CONNECTIONS
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
        });
    let detail = format!("{doing}: {e}");
    if passing {
        OutboxError::unavailable(location, detail, Some(Box::new(e)))
    } else {
        OutboxError::store(location, detail, Some(Box::new(e)))
    }
}
