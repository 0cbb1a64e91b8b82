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
pub(crate) mod settings;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use deadpool_postgres::Pool;
use liveapi::model::linkv::PendingChange;
use tokio_postgres::Transaction;
use tokio_postgres::error::SqlState;

use crate::entry::Enqueued;
use crate::error::{Fault, OutboxError};
pub use connect::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, PostgresStoreBuilder,
};
use queries::{Sql, insert};
pub use settings::SslMode;

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
/// TLS follows the location's `sslmode` (`disable`, the default, `prefer`, `require`,
/// `verify-ca`, `verify-full`) and `sslrootcert`, or [`PostgresStoreBuilder::ssl_mode`] and
/// [`ssl_root_cert`](PostgresStoreBuilder::ssl_root_cert): whenever TLS is used the certificate
/// is verified and the host name checked, whatever the mode says; nothing turns that off.
///
/// Every session is bounded: connecting ([`DEFAULT_CONNECT_TIMEOUT`]), each statement
/// (`statement_timeout`, [`DEFAULT_STATEMENT_TIMEOUT`]) and each lock wait (`lock_timeout`,
/// [`DEFAULT_LOCK_TIMEOUT`]); a locked table or a hung server gives a
/// [`Fault::Timeout`](crate::Fault::Timeout) or [`Fault::Locked`](crate::Fault::Locked) error,
/// not a hang.
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
    /// Opened to read only: no migration, every session read-only.
    read_only: bool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.inner.location)
            .field("read_only", &self.inner.read_only)
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

    /// A builder for the outbox at `location`: a URL
    /// (`postgres://user@host:port/database?sslmode=verify-full&sslrootcert=/path/ca.pem`) or
    /// a libpq `key=value` string (`host=… user=… dbname=…`). A password in it is never
    /// shown; a location that cannot be read fails at
    /// [`connect`](PostgresStoreBuilder::connect).
    pub fn builder(location: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder::new(&location.into())
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
        use deadpool_postgres::PoolError;
        let location = &self.inner.location;
        self.inner.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => error(location, "connecting", e),
            PoolError::Timeout(_) => OutboxError::of_fault(
                location,
                Fault::Timeout,
                "no connection of the pool became free, or none could be made, in time",
                None,
            ),
            PoolError::Closed => OutboxError::Closed,
            other => OutboxError::of_fault(location, Fault::Other, other.to_string(), None),
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

/// The outbox error of a PostgreSQL failure while `doing` something, its cause named: what
/// the server said (its SQLSTATE and message, which never hold a password), a connection
/// refused or lost, a timeout, TLS.
fn error(location: &str, doing: &str, e: tokio_postgres::Error) -> OutboxError {
    let (fault, why) = fault_of(&e);
    let detail = format!("{doing}: {why}");
    OutboxError::of_fault(location, fault, detail, Some(Box::new(e)))
}

/// The cause of `e`, and words for it.
pub(crate) fn fault_of(e: &tokio_postgres::Error) -> (Fault, String) {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let message = db.message();
        let fault = if *code == SqlState::INVALID_PASSWORD {
            Fault::AuthenticationFailed
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            if message.contains("does not exist") {
                Fault::RoleMissing
            } else if message.contains("no encryption") {
                Fault::TlsRequired
            } else {
                Fault::AuthenticationFailed
            }
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            Fault::DatabaseMissing
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            Fault::PermissionDenied
        } else if *code == SqlState::LOCK_NOT_AVAILABLE {
            Fault::Locked
        } else if *code == SqlState::QUERY_CANCELED {
            Fault::Timeout
        } else if *code == SqlState::DISK_FULL {
            Fault::DiskFull
        } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
            Fault::ReadOnly
        } else if (*code == SqlState::CANNOT_CONNECT_NOW
            || *code == SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE)
            && message.contains("not currently accepting connections")
        {
            // `ALTER DATABASE … ALLOW_CONNECTIONS false`, or a server starting up.
            Fault::NotAcceptingConnections
        } else if code.code().starts_with("08")
            || code.code().starts_with("57P")
            || *code == SqlState::TOO_MANY_CONNECTIONS
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT
        {
            Fault::ConnectionLost
        } else {
            Fault::Other
        };
        return (fault, format!("{message} (SQLSTATE {})", code.code()));
    }
    // Below the server's words: the socket, the TLS handshake, the driver.
    let mut text = e.to_string();
    let mut fault = if e.is_closed() {
        Fault::ConnectionLost
    } else {
        Fault::Other
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            fault = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Fault::ConnectionRefused,
                std::io::ErrorKind::TimedOut => Fault::Timeout,
                std::io::ErrorKind::InvalidData
                    if io
                        .get_ref()
                        .is_some_and(|inner| inner.is::<rustls::Error>()) =>
                {
                    Fault::Tls
                }
                _ => Fault::ConnectionLost,
            };
            if let Some(inner) = io.get_ref()
                && inner.is::<rustls::Error>()
            {
                fault = Fault::Tls;
            }
        }
        if cause.is::<rustls::Error>() {
            fault = Fault::Tls;
        }
        source = cause.source();
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("tls") || lower.contains("certificate") {
        fault = Fault::Tls;
    } else if lower.contains("timeout") || lower.contains("timed out") {
        fault = Fault::Timeout;
    }
    (fault, text)
}
