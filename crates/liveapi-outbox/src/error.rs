//! The one error type of the outbox.

use liveapi::model::linkv::RequestId;

/// A boxed cause, kept as the [`source`](std::error::Error::source) of an error.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What an outbox operation can fail with.
///
/// None of these loses a change: an enqueue that failed was not committed (or, after a lost
/// connection, may have been: enqueueing the same change again is harmless), and an outcome
/// that could not be recorded leaves its entry pending, to be taken over and resent with the
/// same request id once its lease expires. No message contains a password: stores are named
/// by their path, or by a PostgreSQL URL's host, port, database and schema only.
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
    /// lost, the database is locked by another process for too long. Try again; an enqueue
    /// whose answer was lost may or may not have been committed, and enqueueing it again is
    /// harmless.
    #[error("the outbox at {location} is unavailable: {detail}")]
    Unavailable {
        /// The store.
        location: String,
        /// What happened.
        detail: String,
        /// The driver's error.
        #[source]
        source: Option<Cause>,
    },
    /// The store failed otherwise: a disk full or read-only, a statement refused.
    #[error("the outbox at {location} failed: {detail}")]
    Store {
        /// The store.
        location: String,
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
    /// The configuration cannot be used: a URL that cannot be read, a schema name that is not
    /// a plain identifier, a store this build was compiled without.
    #[error("{0}")]
    Config(String),
    /// The store's thread has stopped (it panicked, or the process is shutting down).
    #[error("the outbox's store has stopped")]
    Closed,
}

impl OutboxError {
    /// Whether the same operation may succeed if tried again later: the store was
    /// unavailable.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    pub(crate) fn unavailable(
        location: &str,
        detail: impl Into<String>,
        source: Option<Cause>,
    ) -> Self {
        Self::Unavailable {
            location: location.to_owned(),
            detail: detail.into(),
            source,
        }
    }

    pub(crate) fn store(location: &str, detail: impl Into<String>, source: Option<Cause>) -> Self {
        Self::Store {
            location: location.to_owned(),
            detail: detail.into(),
            source,
        }
    }
}
