//! The store's writer thread: jobs sent from the async side, run in batches of one
//! transaction each (a savepoint per job) and answered only once the batch has committed.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::error;
use crate::error::OutboxError;

/// The most jobs committed together.
const MAX_BATCH: usize = 512;

/// A job of the store's thread: runs on the connection, and answers once the transaction it
/// ran in has committed (or failed to).
pub(super) trait Job: Send {
    /// Runs the job; its answer waits for the commit.
    fn run(self: Box<Self>, connection: &Connection, location: &str) -> Box<dyn Answer>;
    /// Answers `error` without running.
    fn reject(self: Box<Self>, error: OutboxError);
}

/// The answer of a job that ran, sent once the commit is known.
pub(super) trait Answer: Send {
    fn send(self: Box<Self>, commit_error: Option<&rusqlite::Error>, location: &str);
}

/// A job: `work` and where its answer goes.
pub(super) struct Work<T, F> {
    pub(super) work: F,
    pub(super) reply: oneshot::Sender<Result<T, OutboxError>>,
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
pub(super) fn serve(
    connection: &Connection,
    queue: &mpsc::Receiver<Box<dyn Job>>,
    location: &str,
    read_only: bool,
) {
    // A connection that only reads takes no write lock: `BEGIN` alone.
    let begin = if read_only {
        "BEGIN"
    } else {
        "BEGIN IMMEDIATE"
    };
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = connection.execute_batch(begin) {
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
