//! The embedded store: one SQLite file, written by a thread of its own.
//!
//! SQLite blocks while it writes, so the connection lives on a dedicated thread and the async
//! side sends it jobs; the runtime never blocks on the disk. The thread takes every job
//! waiting in its queue and runs them in one transaction (each inside a savepoint, so that
//! one job's failure does not undo the others), then commits once: many concurrent enqueues
//! cost one `fsync`. No job is answered before the commit, so an answered enqueue is on disk.

mod queries;
mod schema;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use rusqlite::{Connection, ErrorCode};
use tokio::sync::oneshot;

use crate::error::{Fault, OutboxError};
use crate::store::StoreFuture;
use writer::{Job, Work, serve};

/// The embedded store: a SQLite file in WAL mode with synchronous commits, created and
/// migrated when opened.
///
/// Cloning is cheap; clones share the file's one writer thread, which ends when the last
/// clone is dropped. Several processes may open the same file: SQLite's locks serialise
/// their writes, and leases keep their dispatchers from sending the same entry at once.
///
/// ```no_run
/// # async fn run() -> Result<(), liveapi_outbox::OutboxError> {
/// use liveapi_outbox::{Outbox, SqliteStore};
///
/// let outbox = Outbox::new(SqliteStore::open("coins.outbox").await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    jobs: mpsc::Sender<Box<dyn Job>>,
    path: PathBuf,
    location: String,
    read_only: bool,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the outbox file at `path`, creating it if it does not exist, and brings its
    /// schema up to date.
    ///
    /// # Errors
    /// [`OutboxError::Corrupt`] for a file that is not a SQLite database or is damaged,
    /// [`OutboxError::Foreign`] for another program's database,
    /// [`OutboxError::SchemaTooNew`] for an outbox of a newer version (nothing is changed in
    /// any of these cases), or the store's error if the file cannot be opened or written.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, OutboxError> {
        Self::start(path.as_ref().to_owned(), false).await
    }

    /// Opens the outbox file at `path` to read only: nothing is created, migrated or written,
    /// so that it works on a file that cannot be written (a read-only mount, a full disk).
    /// Writes through it fail with a [`Fault::ReadOnly`](crate::Fault::ReadOnly) store error.
    ///
    /// # Errors
    /// As [`open`](Self::open), and a [`Fault::CannotOpen`](crate::Fault::CannotOpen) store
    /// error when there is no outbox at `path`.
    pub async fn open_read_only(path: impl AsRef<Path>) -> Result<Self, OutboxError> {
        Self::start(path.as_ref().to_owned(), true).await
    }

    async fn start(path: PathBuf, read_only: bool) -> Result<Self, OutboxError> {
        let location = path.display().to_string();
        let (ready, answer) = oneshot::channel();
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let (thread_path, thread_location) = (path.clone(), location.clone());
        thread::Builder::new()
            .name("liveapi-outbox-sqlite".to_owned())
            .spawn(move || {
                let opened = if read_only {
                    schema::open_read_only(&thread_path, &thread_location)
                } else {
                    schema::open(&thread_path, &thread_location)
                };
                let connection = match opened {
                    Ok(connection) => {
                        let _ = ready.send(Ok(()));
                        connection
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                serve(&connection, &queue, &thread_location, read_only);
            })
            .map_err(|e| {
                OutboxError::of_fault(
                    &location,
                    Fault::Other,
                    "cannot start its thread",
                    Some(Box::new(e)),
                )
            })?;
        answer.await.map_err(|_| OutboxError::Closed)??;
        Ok(Self {
            jobs,
            path,
            location,
            read_only,
        })
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the store's thread, in a savepoint of the batch's transaction, and
    /// answers its result once the transaction has committed.
    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection, &str) -> Result<T, OutboxError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let (reply, answer) = oneshot::channel();
        let sent = self.jobs.send(Box::new(Work { work, reply }));
        Box::pin(async move {
            sent.map_err(|_| OutboxError::Closed)?;
            answer.await.map_err(|_| OutboxError::Closed)?
        })
    }
}

/// The outbox error of a SQLite failure while `doing` something, its cause named.
fn error(location: &str, doing: &str, e: &rusqlite::Error) -> OutboxError {
    let detail = format!("{doing}: {e}");
    let fault = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            return OutboxError::Corrupt {
                location: location.to_owned(),
                detail,
            };
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Fault::Locked,
        Some(ErrorCode::DiskFull) => Fault::DiskFull,
        Some(ErrorCode::ReadOnly) => Fault::ReadOnly,
        Some(ErrorCode::CannotOpen) => Fault::CannotOpen,
        Some(ErrorCode::PermissionDenied) => Fault::PermissionDenied,
        Some(ErrorCode::SystemIoFailure) => match e {
            // A write that the file system refused: full, or mounted read-only.
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE =>
            {
                Fault::DiskFull
            }
            _ => Fault::Other,
        },
        _ => Fault::Other,
    };
    OutboxError::of_fault(location, fault, detail, None)
}
