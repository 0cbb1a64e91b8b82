//! The embedded store: one SQLite file, written by a thread of its own.
//!
//! SQLite blocks while it writes, so the connection lives on a dedicated thread and the async
//! side sends it jobs; the runtime never blocks on the disk. The thread takes every job
//! waiting in its queue and runs them in one transaction (each inside a savepoint, so that
//! one job's failure does not undo the others), then commits once: many concurrent enqueues
//! cost one `fsync`. No job is answered before the commit, so an answered enqueue is on disk.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use liveapi::model::linkv::PendingChange;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::entry::{Counts, Enqueued, Entry, Query};
use crate::error::OutboxError;
use crate::store::{
    COLUMNS, Claim, ClaimRequest, Row, Settlement, Store, StoreFuture, add_count, change_json,
    same_change, sealed,
};

/// `application_id` of an outbox file: `LAPO` (liveapi outbox), so that the file names
/// itself and a foreign one is never mistaken for it.
const APPLICATION_ID: i32 = 0x4C41_504F;

/// The newest schema version this crate writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Migrations: the statements taking the schema from version `n - 1` to `n` are at `n - 1`.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL UNIQUE,
        uid TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        change TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'refused', 'reconcile')),
        attempts INTEGER NOT NULL DEFAULT 0,
        enqueued_at_ms INTEGER NOT NULL,
        next_attempt_at_ms INTEGER NOT NULL,
        lease_owner TEXT,
        lease_token TEXT,
        lease_until_ms INTEGER,
        last_error TEXT,
        settled_at_ms INTEGER,
        balance INTEGER,
        outcome_kind TEXT,
        outcome_status INTEGER,
        outcome_message TEXT
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (next_attempt_at_ms, seq) WHERE state = 'pending';
    CREATE INDEX outbox_state ON outbox (state, seq);
    CREATE INDEX outbox_uid ON outbox (uid, seq);
"];

/// The most jobs committed together.
const MAX_BATCH: usize = 512;

/// How long a statement waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A job of the store's thread: runs on the connection, and answers once the transaction it
/// ran in has committed (or failed to).
trait Job: Send {
    /// Runs the job; its answer waits for the commit.
    fn run(self: Box<Self>, connection: &Connection, location: &str) -> Box<dyn Answer>;
    /// Answers `error` without running.
    fn reject(self: Box<Self>, error: OutboxError);
}

/// The answer of a job that ran, sent once the commit is known.
trait Answer: Send {
    fn send(self: Box<Self>, commit_error: Option<&rusqlite::Error>, location: &str);
}

/// A job: `work` and where its answer goes.
struct Work<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T, OutboxError>>,
}

impl<T, F> Job for Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &str) -> Result<T, OutboxError> + Send,
{
    fn run(self: Box<Self>, connection: &Connection, location: &str) -> Box<dyn Answer> {
        let result = in_savepoint(connection, location, self.work);
        Box::new(Done {
            result,
            reply: self.reply,
        })
    }

    fn reject(self: Box<Self>, error: OutboxError) {
        let _ = self.reply.send(Err(error));
    }
}

/// What a job answers.
struct Done<T> {
    result: Result<T, OutboxError>,
    reply: oneshot::Sender<Result<T, OutboxError>>,
}

impl<T: Send> Answer for Done<T> {
    fn send(self: Box<Self>, commit_error: Option<&rusqlite::Error>, location: &str) {
        let result = match (self.result, commit_error) {
            (Ok(_), Some(e)) => Err(error(location, "committing", e)),
            (result, _) => result,
        };
        let _ = self.reply.send(result);
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
        let path = path.as_ref().to_owned();
        let location = path.display().to_string();
        let (ready, answer) = oneshot::channel();
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let (thread_path, thread_location) = (path.clone(), location.clone());
        thread::Builder::new()
            .name("liveapi-outbox-sqlite".to_owned())
            .spawn(move || {
                let connection = match open(&thread_path, &thread_location) {
                    Ok(connection) => {
                        let _ = ready.send(Ok(()));
                        connection
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                serve(&connection, &queue, &thread_location);
            })
            .map_err(|e| {
                OutboxError::store(&location, "cannot start its thread", Some(Box::new(e)))
            })?;
        answer.await.map_err(|_| OutboxError::Closed)??;
        Ok(Self {
            jobs,
            path,
            location,
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

impl Store for SqliteStore {}

#[allow(private_interfaces)] // `Backend` is sealed: see its definition.
impl sealed::Backend for SqliteStore {
    fn location(&self) -> &str {
        &self.location
    }

    fn enqueue(&self, change: PendingChange, now_ms: i64) -> StoreFuture<'_, Enqueued> {
        self.run(move |connection, location| {
            let json = change_json(&change)?;
            let request_id = change.request_id().as_str();
            let added = connection
                .prepare_cached(
                    "INSERT INTO outbox (request_id, uid, endpoint, change, state, attempts, \
                     enqueued_at_ms, next_attempt_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, 0) \
                     ON CONFLICT (request_id) DO NOTHING",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        request_id,
                        change.uid().as_str(),
                        change.endpoint(),
                        json,
                        now_ms
                    ])
                })
                .map_err(|e| error(location, "enqueueing", &e))?;
            if added == 1 {
                return Ok(Enqueued::Added);
            }
            let stored: String = connection
                .prepare_cached("SELECT change FROM outbox WHERE request_id = ?1")
                .and_then(|mut s| s.query_row([request_id], |row| row.get(0)))
                .map_err(|e| error(location, "enqueueing", &e))?;
            if same_change(&stored, &change, request_id)? {
                Ok(Enqueued::AlreadyQueued)
            } else {
                Err(OutboxError::IdConflict {
                    request_id: change.request_id().clone(),
                })
            }
        })
    }

    fn claim(&self, request: ClaimRequest) -> StoreFuture<'_, Vec<Claim>> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "claiming", &e);
            let mut due = connection
                .prepare_cached(
                    "SELECT seq, lease_owner FROM outbox \
                     WHERE state = 'pending' AND next_attempt_at_ms <= ?1 \
                     AND (lease_until_ms IS NULL OR lease_until_ms <= ?2) \
                     AND (?3 IS NULL OR request_id = ?3) \
                     ORDER BY next_attempt_at_ms, seq LIMIT ?4",
                )
                .map_err(failed)?;
            let candidates = due
                .query_map(
                    params![
                        request.due_by_ms,
                        request.now_ms,
                        request.only,
                        request.limit
                    ],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<String>>(1)?)),
                )
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(failed)?;
            let mut lease = connection
                .prepare_cached(&format!(
                    "UPDATE outbox SET lease_owner = ?1, lease_token = ?2, lease_until_ms = ?3, \
                     attempts = attempts + 1 WHERE seq = ?4 RETURNING {COLUMNS}"
                ))
                .map_err(failed)?;
            let mut claims = Vec::with_capacity(candidates.len());
            for (seq, previous_owner) in candidates {
                let row = lease
                    .query_row(
                        params![request.owner, request.token, request.lease_until_ms, seq],
                        read_row,
                    )
                    .map_err(failed)?;
                claims.push(Claim {
                    entry: row.into_entry()?,
                    token: request.token.clone(),
                    taken_over_from: previous_owner,
                });
            }
            Ok(claims)
        })
    }

    fn record(
        &self,
        request_id: String,
        token: String,
        settlement: Settlement,
        now_ms: i64,
    ) -> StoreFuture<'_, bool> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "recording an outcome", &e);
            let changed = match (&settlement, settlement.columns()) {
                (Settlement::Retry { at_ms, error }, _) => connection
                    .prepare_cached(
                        "UPDATE outbox SET next_attempt_at_ms = ?1, last_error = ?2, \
                         lease_owner = NULL, lease_until_ms = NULL \
                         WHERE request_id = ?3 AND state = 'pending' AND lease_token = ?4",
                    )
                    .and_then(|mut s| s.execute(params![at_ms, error, request_id, token])),
                (_, Some(c)) => connection
                    .prepare_cached(
                        "UPDATE outbox SET state = ?1, settled_at_ms = ?2, balance = ?3, \
                         outcome_kind = ?4, outcome_status = ?5, outcome_message = ?6, \
                         lease_owner = NULL, lease_until_ms = NULL \
                         WHERE request_id = ?7 AND state = 'pending' AND lease_token = ?8",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            c.state, now_ms, c.balance, c.kind, c.status, c.message, request_id,
                            token
                        ])
                    }),
                (_, None) => Ok(0),
            }
            .map_err(failed)?;
            Ok(changed == 1)
        })
    }

    fn get(&self, request_id: String) -> StoreFuture<'_, Option<Entry>> {
        self.run(move |connection, location| {
            connection
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM outbox WHERE request_id = ?1"
                ))
                .and_then(|mut s| s.query_row([&request_id], read_row).optional())
                .map_err(|e| error(location, "reading an entry", &e))?
                .map(Row::into_entry)
                .transpose()
        })
    }

    fn list(&self, query: Query) -> StoreFuture<'_, Vec<Entry>> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "listing entries", &e);
            let sql = format!(
                "SELECT {COLUMNS} FROM outbox WHERE {} AND (?1 IS NULL OR uid = ?1) \
                 AND seq > ?2 ORDER BY seq LIMIT ?3",
                query.state.condition()
            );
            let mut statement = connection.prepare_cached(&sql).map_err(failed)?;
            let rows = statement
                .query_map(
                    params![
                        query.uid.as_ref().map(|u| u.as_str()),
                        i64::try_from(query.after).unwrap_or(i64::MAX),
                        query.limit
                    ],
                    read_row,
                )
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(failed)?;
            rows.into_iter().map(Row::into_entry).collect()
        })
    }

    fn counts(&self, now_ms: i64) -> StoreFuture<'_, Counts> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "counting entries", &e);
            let mut statement = connection
                .prepare_cached(
                    "SELECT state, coalesce(lease_until_ms > ?1, 0), count(*) FROM outbox \
                     GROUP BY 1, 2",
                )
                .map_err(failed)?;
            let rows = statement
                .query_map([now_ms], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, bool>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(failed)?;
            let mut counts = Counts::default();
            for (state, leased, n) in rows {
                add_count(&mut counts, &state, leased, n);
            }
            Ok(counts)
        })
    }
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: row.get(0)?,
        request_id: row.get(1)?,
        change: row.get(2)?,
        state: row.get(3)?,
        attempts: row.get(4)?,
        enqueued_at_ms: row.get(5)?,
        next_attempt_at_ms: row.get(6)?,
        lease_owner: row.get(7)?,
        lease_until_ms: row.get(8)?,
        last_error: row.get(9)?,
        settled_at_ms: row.get(10)?,
        balance: row.get(11)?,
        outcome_kind: row.get(12)?,
        outcome_status: row.get(13)?,
        outcome_message: row.get(14)?,
    })
}

/// Runs `work` in a savepoint: its writes are undone if it fails, and only its own.
fn in_savepoint<T>(
    connection: &Connection,
    location: &str,
    work: impl FnOnce(&Connection, &str) -> Result<T, OutboxError>,
) -> Result<T, OutboxError> {
    connection
        .execute_batch("SAVEPOINT job")
        .map_err(|e| error(location, "starting a savepoint", &e))?;
    let result = work(connection, location);
    let end = if result.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    connection
        .execute_batch(end)
        .map_err(|e| error(location, "ending a savepoint", &e))?;
    result
}

/// The store's thread: takes the jobs waiting, runs them in one transaction, commits, then
/// answers them; until every handle is dropped.
fn serve(connection: &Connection, queue: &mpsc::Receiver<Box<dyn Job>>, location: &str) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = connection.execute_batch("BEGIN IMMEDIATE") {
            for job in batch {
                job.reject(error(location, "starting a transaction", &e));
            }
            continue;
        }
        let answers: Vec<Box<dyn Answer>> = batch
            .into_iter()
            .map(|job| job.run(connection, location))
            .collect();
        let committed = connection.execute_batch("COMMIT");
        if committed.is_err() {
            // Nothing of the batch is kept; a failed COMMIT may leave the transaction open.
            let _ = connection.execute_batch("ROLLBACK");
        }
        for answer in answers {
            answer.send(committed.as_ref().err(), location);
        }
    }
}

/// Opens, checks and migrates the file.
fn open(path: &Path, location: &str) -> Result<Connection, OutboxError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|e| error(location, "opening the file", &e))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| error(location, "setting the busy timeout", &e))?;
    let pragma = |name: &str| -> Result<i64, OutboxError> {
        connection
            .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .map_err(|e| error(location, "reading the file's header", &e))
    };
    // Reading the header is what tells a file that is not a database.
    let application_id = pragma("application_id")?;
    let version = pragma("user_version")?;
    let tables: i64 = connection
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
            [],
            |row| row.get(0),
        )
        .map_err(|e| error(location, "reading the file's tables", &e))?;
    match (application_id, version) {
        (id, _) if id == i64::from(APPLICATION_ID) => {}
        (0, 0) if tables == 0 => {}
        (0, 0) => {
            return Err(OutboxError::Foreign {
                location: location.to_owned(),
                detail: format!("the database holds {tables} tables or indexes of another program"),
            });
        }
        (id, version) => {
            return Err(OutboxError::Foreign {
                location: location.to_owned(),
                detail: format!(
                    "its application_id is {id:#x} and its user_version {version} (an outbox's application_id is {APPLICATION_ID:#x})"
                ),
            });
        }
    }
    if version > SCHEMA_VERSION {
        return Err(OutboxError::SchemaTooNew {
            location: location.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let integrity: String = connection
        .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
        .map_err(|e| error(location, "checking the file", &e))?;
    if integrity != "ok" {
        return Err(OutboxError::Corrupt {
            location: location.to_owned(),
            detail: integrity,
        });
    }
    // WAL: readers do not block the writer, and a commit appends to the log instead of
    // rewriting pages. FULL: the log is synced at every commit, so a committed enqueue
    // survives a power cut, not only a crash.
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| error(location, "switching to WAL", &e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OutboxError::store(
            location,
            format!("the file cannot use write-ahead logging (journal mode {mode})"),
            None,
        ));
    }
    connection
        .execute_batch("PRAGMA synchronous = FULL")
        .map_err(|e| error(location, "setting synchronous commits", &e))?;
    migrate(&connection, location)?;
    Ok(connection)
}

/// Applies the migrations the file lacks, in one transaction; checks the version again
/// inside it, as another process may have migrated meanwhile.
fn migrate(connection: &Connection, location: &str) -> Result<(), OutboxError> {
    let failed = |e: rusqlite::Error| error(location, "migrating the schema", &e);
    connection
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(failed)?;
    let result = (|| {
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(failed)?;
        if version > SCHEMA_VERSION {
            return Err(OutboxError::SchemaTooNew {
                location: location.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let from = usize::try_from(version).unwrap_or(0);
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(from) {
            connection.execute_batch(sql).map_err(failed)?;
            tracing::info!(target: "liveapi_outbox", location, version = step + 1, "outbox schema migrated");
        }
        connection
            .execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}"
            ))
            .map_err(failed)
    })();
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = connection.execute_batch(end).map_err(failed);
    result.and(ended)
}

/// The outbox error of a SQLite failure while `doing` something.
fn error(location: &str, doing: &str, e: &rusqlite::Error) -> OutboxError {
    let detail = format!("{doing}: {e}");
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OutboxError::Corrupt {
            location: location.to_owned(),
            detail,
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            OutboxError::unavailable(location, detail, None)
        }
        _ => OutboxError::store(location, detail, None),
    }
}
