//! The one error type of the outbox, and the causes a store failure is told by.

use std::fmt;

use liveapi::model::linkv::RequestId;

use crate::report::DrainReport;

/// A boxed cause, kept as the [`source`](std::error::Error::source) of an error.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What an outbox operation can fail with.
///
/// None of these loses a change: an enqueue that failed was not committed (or, after a lost
/// connection, may have been: enqueueing the same change again is harmless), and an outcome
/// that could not be recorded leaves its entry pending, to be taken over and resent with the
/// same request id once its lease expires. No message contains a password: a store is named
/// by its path, or by a PostgreSQL location with the password replaced by `***`
/// ([`Location`](crate::Location)).
///
/// [`is_config`](Self::is_config) tells a setting to fix (a location that cannot be read, a
/// password refused, a database that does not exist) from an outage that passes by itself
/// ([`is_retryable`](Self::is_retryable)); [`fault`](Self::fault) names the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The store is not a database, or its contents are damaged. Nothing was changed; restore
    /// the file from a backup, or move it away and reconcile the changes it held.
    #[error("the outbox at {location} is damaged or not a database: {detail}")]
    Corrupt {
        /// The store.
        location: String,
        /// What was found.
        detail: String,
    },
    /// The database belongs to another program: this crate does not add its tables to it.
    #[error("{location} is not an outbox: {detail}; nothing was changed")]
    Foreign {
        /// The store.
        location: String,
        /// What was found.
        detail: String,
    },
    /// The outbox was created or migrated by a newer version of this crate, which may store
    /// entries in a way this version would misread. Nothing was changed; run the newer
    /// version.
    #[error(
        "the outbox at {location} has schema version {found}, newer than this version of liveapi-outbox reads ({supported}); nothing was changed: use the newer version"
    )]
    SchemaTooNew {
        /// The store.
        location: String,
        /// The version found.
        found: i64,
        /// The newest version this crate reads.
        supported: i64,
    },
    /// The store cannot be reached now: the server is down or restarting, the connection was
    /// lost or refused, the database is locked by another process for too long, an operation
    /// took longer than its timeout. Try again; an enqueue whose answer was lost may or may
    /// not have been committed, and enqueueing it again is harmless.
    #[error("the outbox at {location} is unavailable: {fault}: {detail}")]
    Unavailable {
        /// The store.
        location: String,
        /// The cause.
        fault: Fault,
        /// What happened.
        detail: String,
        /// The driver's error.
        #[source]
        source: Option<Cause>,
    },
    /// The store failed otherwise: a password or a certificate refused, a database or role
    /// that does not exist, a disk full or read-only, a statement refused.
    #[error("the outbox at {location} failed: {fault}: {detail}")]
    Store {
        /// The store.
        location: String,
        /// The cause.
        fault: Fault,
        /// What happened.
        detail: String,
        /// The driver's error.
        #[source]
        source: Option<Cause>,
    },
    /// Another change with the same request id, but other parameters, is in the outbox: the
    /// server would refuse one of them. Nothing was changed. The
    /// request id must name one change only.
    #[error(
        "another change with request_id {request_id} and other parameters is already in the outbox; nothing was changed"
    )]
    IdConflict {
        /// The request id.
        request_id: RequestId,
    },
    /// A stored entry cannot be read back (edited by hand, or written by something else).
    #[error("the outbox entry {request_id} cannot be read: {detail}")]
    BadRecord {
        /// The entry's request id, as stored.
        request_id: String,
        /// What is wrong with it.
        detail: String,
    },
    /// No entry has this request id.
    #[error("no entry with request_id {request_id} in the outbox")]
    NotFound {
        /// The request id.
        request_id: RequestId,
    },
    /// The entry is not in a state that allows the operation: resolving an entry that does
    /// not need reconciliation, or was resolved already. Nothing was changed.
    #[error("the outbox entry {request_id} is {state}: {detail}; nothing was changed")]
    WrongState {
        /// The request id.
        request_id: RequestId,
        /// Its state's name ([`State::name`](crate::State::name)).
        state: &'static str,
        /// Why that state does not allow it.
        detail: String,
    },
    /// The location names no store: an unknown scheme, a malformed URL, a space around it, an
    /// empty string. Refused before anything was opened or created.
    #[error("the outbox location `{location}` cannot be used: {detail}")]
    BadLocation {
        /// The location, its password replaced.
        location: String,
        /// What is wrong, and what would be read.
        detail: String,
    },
    /// The configuration cannot be used: a URL that cannot be read, a schema name that is not
    /// a plain identifier, a store this build was compiled without.
    #[error("{0}")]
    Config(String),
    /// The store's thread has stopped (it panicked, or the process is shutting down).
    #[error("the outbox's store has stopped")]
    Closed,
    /// A drain stopped at a store error after sending some entries: `report` is what it did
    /// before (each send it made was recorded, or is counted as not recorded), `source` the
    /// error.
    #[error("the drain stopped after sending {} entries: {source}", report.sent)]
    DrainStopped {
        /// What the drain did before the error.
        report: DrainReport,
        /// The error.
        #[source]
        source: Box<OutboxError>,
    },
}

/// The cause of a store failure, as far as the driver tells it: what [`OutboxError::Store`]
/// and [`OutboxError::Unavailable`] carry, so that a caller (and a monitoring check) can tell
/// a setting to fix from an outage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The server refused the user's password or the authentication method (SQLSTATE
    /// `28P01`, or `28000` for a `pg_hba.conf` rule). A setting to fix.
    AuthenticationFailed,
    /// The database named does not exist (`3D000`). A setting to fix.
    DatabaseMissing,
    /// The role (user) named does not exist. A setting to fix.
    RoleMissing,
    /// The user lacks a privilege the outbox needs (`42501`). A setting to fix.
    PermissionDenied,
    /// The server accepts only TLS connections, and this one was asked without (`sslmode`).
    /// A setting to fix.
    TlsRequired,
    /// The TLS handshake failed: a certificate that does not match the host or is not signed
    /// by a trusted CA, or a server that does not offer TLS where it was asked for. A setting
    /// to fix (`sslrootcert`, the host name, `sslmode`).
    Tls,
    /// Nothing accepts connections at the address (the server is down, or the port is wrong).
    ConnectionRefused,
    /// The connection was lost, or the server is shutting down or starting, or has no room
    /// for another connection.
    ConnectionLost,
    /// The database does not accept connections now (`ALLOW_CONNECTIONS false`,
    /// `57P03`).
    NotAcceptingConnections,
    /// An operation took longer than its timeout: connecting, waiting for a connection of
    /// the pool, a statement (`statement_timeout`), or the whole call.
    Timeout,
    /// A lock was held by another session or process for longer than the lock timeout
    /// (`lock_timeout`, `55P03`; SQLite's busy timeout).
    Locked,
    /// The disk is full (`53100`, SQLite's `SQLITE_FULL`).
    DiskFull,
    /// The database or file can only be read (`25006`, SQLite's `SQLITE_READONLY`, a
    /// read-only file system).
    ReadOnly,
    /// The file cannot be opened (a missing directory, no permission).
    CannotOpen,
    /// Something else; the detail says what.
    Other,
}

impl Fault {
    /// Whether it is a setting to fix rather than an outage to wait out: no retry cures it.
    #[must_use]
    pub fn is_config(self) -> bool {
        matches!(
            self,
            Self::AuthenticationFailed
                | Self::DatabaseMissing
                | Self::RoleMissing
                | Self::PermissionDenied
                | Self::TlsRequired
                | Self::Tls
                | Self::CannotOpen
        )
    }

    /// Whether it may pass by itself, so that the same operation may succeed later.
    #[must_use]
    pub fn is_passing(self) -> bool {
        matches!(
            self,
            Self::ConnectionRefused
                | Self::ConnectionLost
                | Self::NotAcceptingConnections
                | Self::Timeout
                | Self::Locked
        )
    }

    /// Its name in messages, logs and JSON: `authentication_failed`, `timeout`, ….
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::AuthenticationFailed => "authentication_failed",
            Self::DatabaseMissing => "database_missing",
            Self::RoleMissing => "role_missing",
            Self::PermissionDenied => "permission_denied",
            Self::TlsRequired => "tls_required",
            Self::Tls => "tls",
            Self::ConnectionRefused => "connection_refused",
            Self::ConnectionLost => "connection_lost",
            Self::NotAcceptingConnections => "not_accepting_connections",
            Self::Timeout => "timeout",
            Self::Locked => "locked",
            Self::DiskFull => "disk_full",
            Self::ReadOnly => "read_only",
            Self::CannotOpen => "cannot_open",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AuthenticationFailed => "authentication failed",
            Self::DatabaseMissing => "the database does not exist",
            Self::RoleMissing => "the role does not exist",
            Self::PermissionDenied => "permission denied",
            Self::TlsRequired => "the server requires TLS",
            Self::Tls => "TLS failed",
            Self::ConnectionRefused => "connection refused",
            Self::ConnectionLost => "connection lost",
            Self::NotAcceptingConnections => "the database does not accept connections now",
            Self::Timeout => "timed out",
            Self::Locked => "locked",
            Self::DiskFull => "disk full",
            Self::ReadOnly => "read-only",
            Self::CannotOpen => "cannot open",
            Self::Other => "error",
        })
    }
}

impl OutboxError {
    /// Whether the same operation may succeed if tried again later: the store was
    /// unavailable (the connection lost or refused, locked, timed out).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unavailable { .. } => true,
            Self::DrainStopped { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// Whether a setting must be fixed before anything can work: a location that names no
    /// store, a password, a certificate or a host name refused, a database or role that does
    /// not exist, a store this build lacks.
    #[must_use]
    pub fn is_config(&self) -> bool {
        match self {
            Self::BadLocation { .. } | Self::Config(_) => true,
            Self::Store { fault, .. } | Self::Unavailable { fault, .. } => fault.is_config(),
            Self::DrainStopped { source, .. } => source.is_config(),
            _ => false,
        }
    }

    /// The cause of a store failure, if this is one.
    #[must_use]
    pub fn fault(&self) -> Option<Fault> {
        match self {
            Self::Store { fault, .. } | Self::Unavailable { fault, .. } => Some(*fault),
            Self::DrainStopped { source, .. } => source.fault(),
            _ => None,
        }
    }

    /// A failure of the store at `location` caused by `fault`: [`Unavailable`](Self::Unavailable)
    /// when it may pass, [`Store`](Self::Store) otherwise.
    pub(crate) fn of_fault(
        location: &str,
        fault: Fault,
        detail: impl Into<String>,
        source: Option<Cause>,
    ) -> Self {
        let (location, detail) = (location.to_owned(), detail.into());
        if fault.is_passing() {
            Self::Unavailable {
                location,
                fault,
                detail,
                source,
            }
        } else {
            Self::Store {
                location,
                fault,
                detail,
                source,
            }
        }
    }

    /// An operation of the store at `location` that did not end within `limit`.
    pub(crate) fn timed_out(location: &str, doing: &str, limit: std::time::Duration) -> Self {
        Self::of_fault(
            location,
            Fault::Timeout,
            format!(
                "{doing} took longer than {limit:?}; nothing is lost: an entry not recorded is sent again after its lease"
            ),
            None,
        )
    }
}
