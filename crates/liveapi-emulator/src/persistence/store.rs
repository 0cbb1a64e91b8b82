//! The durable state store behind `--state FILE`: a snapshot (`FILE`) and a write-ahead log
//! (`FILE.log`) with group commit.
//!
//! Every change to the books (registrations, coin changes with their idempotency records,
//! repeats, donate settings) and every run-time change of the clock or the faults becomes a
//! [`Record`], appended to an in-memory queue in the order the changes were made: a ledger's
//! records are queued under the ledger's lock, so replaying them in log order redoes the
//! changes in the order they happened. A writer thread takes whatever was queued while its
//! previous sync ran, writes it, makes it durable with one `sync_data` and then wakes every
//! request waiting for it: the answer to a request goes out only once the log is durable up to
//! the last record queued when the request released its lock ([`Store::settle`]), so a repeat
//! answered "already applied" never overtakes the record of the first application.
//!
//! When the log passes a size, the writer compacts it: it writes a snapshot of the whole
//! state that says which log record it covers up to, then replaces the log with an empty one.
//! A crash between the two leaves a snapshot and an old log whose records replay skips. A
//! ledger's snapshot also carries the sequence number of its own last record, since it may
//! already hold changes whose records are still queued for the new log.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::clock::Mode;
use crate::persistence::record::Record;
use crate::persistence::snapshot::FaultSetting;
use crate::persistence::wal;
use crate::persistence::writer::write_loop;
use crate::shared::{Shared, lock};

/// The log size past which it is compacted into a snapshot by default: 64 MiB.
pub(crate) const DEFAULT_COMPACT_AFTER: u64 = 64 << 20;

/// How far the log is durable, shared with the requests waiting for it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Durable {
    /// Every record up to this one is synced.
    pub(super) seq: u64,
    /// Compactions tried, to wake whoever asked for one.
    pub(super) compactions: u64,
    /// Whether the last one worked.
    pub(super) compaction_ok: bool,
    /// The log could not be written: nothing more will be durable.
    pub(super) failed: bool,
    /// The writer has stopped (at shutdown): nothing more will be written.
    pub(super) stopped: bool,
}

#[derive(Debug, Default)]
pub(super) struct Queue {
    /// Framed records not yet written.
    pub(super) bytes: Vec<u8>,
    pub(super) records: u64,
    /// The last sequence number handed out.
    pub(super) last: u64,
    pub(super) compact: bool,
    /// Stop once the queue is written; `Some(true)`: compact first.
    pub(super) stop: Option<bool>,
}

/// What the inspection API shows.
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct Status {
    pub(super) log_bytes: u64,
    pub(super) records_since_snapshot: u64,
    pub(super) records_written: u64,
    pub(super) syncs: u64,
    pub(super) snapshots: u64,
    /// Emulator time, unix milliseconds.
    pub(super) last_sync_ms: Option<u64>,
    pub(super) last_snapshot_ms: Option<u64>,
    pub(super) torn_tail_dropped: Option<String>,
    pub(super) last_error: Option<String>,
}

/// The state store of a running emulator.
#[derive(Debug)]
pub(crate) struct Store {
    pub(super) path: PathBuf,
    pub(super) log: PathBuf,
    pub(super) compact_after: u64,
    pub(super) queue: Mutex<Queue>,
    pub(super) wake: Condvar,
    /// The last sequence number handed out (the queue's `last`, readable without its lock).
    pub(super) assigned: AtomicU64,
    pub(super) durable: watch::Sender<Durable>,
    pub(super) status: Mutex<Status>,
    /// Books of apps that are not configured, written back with every snapshot.
    pub(super) orphans: (BTreeMap<String, Value>, BTreeMap<String, Value>),
    /// Whether the clock and the faults were changed at run time (or restored so), and so
    /// belong in snapshots; until then the start configuration rules.
    pub(super) clock_set: AtomicBool,
    pub(super) faults_set: AtomicBool,
    /// The log file, until the writer thread takes it.
    pub(super) file: Mutex<Option<File>>,
    pub(super) writer: Mutex<Option<JoinHandle<()>>>,
}

impl Store {
    /// Queues a record and returns its sequence number. Call it under the lock of what the
    /// record describes, right after the change, so that records queue in the order of the
    /// changes.
    pub(crate) fn append(&self, record: &Record) -> u64 {
        let json = match serde_json::to_string(record) {
            Ok(json) => json,
            Err(e) => {
                self.fail(format!("cannot encode a log record: {e}"));
                return self.assigned.load(Ordering::Acquire);
            }
        };
        let mut queue = lock(&self.queue);
        let seq = queue.last + 1;
        let payload = format!("{{\"seq\":{seq},\"record\":{json}}}");
        if payload.len() > wal::MAX_RECORD {
            drop(queue);
            self.fail(format!(
                "a log record of {} bytes is too long",
                payload.len()
            ));
            return self.assigned.load(Ordering::Acquire);
        }
        wal::frame(payload.as_bytes(), &mut queue.bytes);
        queue.records += 1;
        queue.last = seq;
        self.assigned.store(seq, Ordering::Release);
        drop(queue);
        self.wake.notify_one();
        seq
    }

    /// Notes that the clock was changed at run time, and logs it.
    pub(crate) fn clock_changed(&self, mode: Mode) {
        self.clock_set.store(true, Ordering::Release);
        self.append(&Record::Clock { mode });
    }

    /// Notes that the faults were changed at run time, and logs them.
    pub(crate) fn faults_changed(&self, setting: FaultSetting) {
        self.faults_set.store(true, Ordering::Release);
        self.append(&Record::Faults { setting });
    }

    /// Waits until every record queued so far is durable.
    ///
    /// # Errors
    /// Why the log can no longer be written.
    pub(crate) async fn settle(&self) -> Result<(), String> {
        let target = self.assigned.load(Ordering::Acquire);
        if self.durable.borrow().seq >= target {
            return Ok(());
        }
        let mut durable = self.durable.subscribe();
        match durable
            .wait_for(|d| d.seq >= target || d.failed || d.stopped)
            .await
        {
            Ok(d) if d.seq >= target => Ok(()),
            _ => Err(self.failure()),
        }
    }

    /// Writes a snapshot now (after the queue) and starts a new log.
    ///
    /// # Errors
    /// Why the snapshot could not be written.
    pub(crate) async fn compact(&self) -> Result<(), String> {
        let mut durable = self.durable.subscribe();
        let before = durable.borrow().compactions;
        lock(&self.queue).compact = true;
        self.wake.notify_one();
        match durable
            .wait_for(|d| d.compactions > before || d.failed || d.stopped)
            .await
        {
            Ok(d) if !d.failed && d.compaction_ok => Ok(()),
            _ => Err(self.failure()),
        }
    }

    fn failure(&self) -> String {
        lock(&self.status)
            .last_error
            .clone()
            .unwrap_or_else(|| "the state store has stopped".to_owned())
    }

    /// Stops writing for good: answers that wait for durability get an error from now on.
    pub(super) fn fail(&self, why: String) {
        tracing::error!("emulator state store: {why}");
        lock(&self.status).last_error = Some(why);
        self.durable.send_modify(|d| d.failed = true);
    }

    /// Starts the writer thread.
    pub(crate) fn start(shared: &Arc<Shared>) -> io::Result<()> {
        let Some(store) = &shared.store else {
            return Ok(());
        };
        let Some(file) = lock(&store.file).take() else {
            return Ok(());
        };
        let shared = Arc::clone(shared);
        let handle = std::thread::Builder::new()
            .name("emulator-state".into())
            .spawn(move || {
                if let Some(store) = &shared.store {
                    let now_ms = || shared.clock.now_ms();
                    let document = |store: &Store, seq| shared.document(store, seq);
                    write_loop(store, file, &now_ms, &document);
                }
            })?;
        *lock(&store.writer) = Some(handle);
        Ok(())
    }

    /// Tells the writer thread to write what is queued (and, with `compact`, a snapshot) and
    /// stop.
    pub(crate) fn stop(&self, compact: bool) {
        let mut queue = lock(&self.queue);
        queue.stop = Some(compact || queue.stop == Some(true));
        drop(queue);
        self.wake.notify_one();
    }

    /// Waits for the writer thread to end (after [`stop`](Self::stop)). Blocking.
    pub(crate) fn join(&self) -> Result<(), String> {
        let handle = lock(&self.writer).take();
        if let Some(handle) = handle {
            handle
                .join()
                .map_err(|_| "the state store's writer panicked".to_owned())?;
        }
        match lock(&self.status).last_error.clone() {
            Some(e) if self.durable.borrow().failed => Err(e),
            _ => Ok(()),
        }
    }

    /// The store's status, for the inspection API.
    pub(crate) fn describe(&self) -> Value {
        let status = lock(&self.status).clone();
        let durable = *self.durable.borrow();
        json!({
            "path": self.path.display().to_string(),
            "log_path": self.log.display().to_string(),
            "log_bytes": status.log_bytes,
            "compact_after_bytes": self.compact_after,
            "records_since_snapshot": status.records_since_snapshot,
            "records_written": status.records_written,
            "last_seq": self.assigned.load(Ordering::Acquire),
            "durable_seq": durable.seq,
            "syncs": status.syncs,
            "snapshots": status.snapshots,
            "last_sync_ms": status.last_sync_ms,
            "last_snapshot_ms": status.last_snapshot_ms,
            "torn_tail_dropped": status.torn_tail_dropped,
            "failed": durable.failed,
            "last_error": status.last_error,
        })
    }

    /// How many syncs the writer made.
    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        lock(&self.status).syncs
    }
}
