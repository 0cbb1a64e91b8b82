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

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::mem;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::books::donate::{Donate, DonateSnapshot};
use crate::books::ledger::{Event, Ledger, LedgerSnapshot, Retention};
use crate::clock::Mode;
use crate::persistence::snapshot::{self, Document, FaultSetting};
use crate::persistence::wal;
use crate::shared::{Shared, lock};
use crate::{LinkvApp, PolyvApp};

/// The log size past which it is compacted into a snapshot by default: 64 MiB.
pub(crate) const DEFAULT_COMPACT_AFTER: u64 = 64 << 20;

/// One logged change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Record {
    /// A change to a LinkV app's ledger.
    Linkv { app: String, event: Event },
    /// A Polyv account's donate settings after a change.
    Polyv {
        app: String,
        settings: DonateSnapshot,
    },
    /// The clock after a change.
    Clock { mode: Mode },
    /// The faults after a change.
    Faults { setting: FaultSetting },
}

/// A record as the log holds it.
#[derive(Deserialize)]
struct Entry {
    seq: u64,
    record: Record,
}

/// How far the log is durable, shared with the requests waiting for it.
#[derive(Clone, Copy, Debug, Default)]
struct Durable {
    /// Every record up to this one is synced.
    seq: u64,
    /// Compactions tried, to wake whoever asked for one.
    compactions: u64,
    /// Whether the last one worked.
    compaction_ok: bool,
    /// The log could not be written: nothing more will be durable.
    failed: bool,
    /// The writer has stopped (at shutdown): nothing more will be written.
    stopped: bool,
}

#[derive(Debug, Default)]
struct Queue {
    /// Framed records not yet written.
    bytes: Vec<u8>,
    records: u64,
    /// The last sequence number handed out.
    last: u64,
    compact: bool,
    /// Stop once the queue is written; `Some(true)`: compact first.
    stop: Option<bool>,
}

/// What the inspection API shows.
#[derive(Clone, Debug, Default, Serialize)]
struct Status {
    log_bytes: u64,
    records_since_snapshot: u64,
    records_written: u64,
    syncs: u64,
    snapshots: u64,
    /// Emulator time, unix milliseconds.
    last_sync_ms: Option<u64>,
    last_snapshot_ms: Option<u64>,
    torn_tail_dropped: Option<String>,
    last_error: Option<String>,
}

/// The state store of a running emulator.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    log: PathBuf,
    compact_after: u64,
    queue: Mutex<Queue>,
    wake: Condvar,
    /// The last sequence number handed out (the queue's `last`, readable without its lock).
    assigned: AtomicU64,
    durable: watch::Sender<Durable>,
    status: Mutex<Status>,
    /// Books of apps that are not configured, written back with every snapshot.
    orphans: (BTreeMap<String, Value>, BTreeMap<String, Value>),
    /// Whether the clock and the faults were changed at run time (or restored so), and so
    /// belong in snapshots; until then the start configuration rules.
    clock_set: AtomicBool,
    faults_set: AtomicBool,
    /// The log file, until the writer thread takes it.
    file: Mutex<Option<File>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// The apps and settings a store is opened for.
pub(crate) struct Layout<'a> {
    pub(crate) linkv: &'a [LinkvApp],
    pub(crate) polyv: &'a [PolyvApp],
    pub(crate) seed: u64,
    pub(crate) retention: Retention,
    pub(crate) compact_after: u64,
}

/// The state a store held at start.
#[derive(Debug)]
pub(crate) struct Books {
    pub(crate) ledgers: HashMap<String, Ledger>,
    pub(crate) donates: HashMap<String, Donate>,
    pub(crate) clock: Option<Mode>,
    pub(crate) faults: Option<FaultSetting>,
}

impl Books {
    /// Empty books for the configured apps.
    pub(crate) fn fresh(layout: &Layout<'_>) -> Self {
        Self {
            ledgers: layout
                .linkv
                .iter()
                .map(|app| {
                    let ledger = Ledger::new(&app.app_key, layout.seed, layout.retention);
                    (app.app_key.clone(), ledger)
                })
                .collect(),
            donates: layout
                .polyv
                .iter()
                .map(|app| {
                    (
                        app.app_id.clone(),
                        Donate::new(app.channels.iter().copied()),
                    )
                })
                .collect(),
            clock: None,
            faults: None,
        }
    }
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

fn system_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Creates an empty log at `log` (through a temporary file and a rename) and returns it open
/// for appending.
fn fresh_log(log: &Path) -> io::Result<File> {
    snapshot::write_atomically(log, &wal::header())
}

/// Opens the store at `path`: reads the snapshot, replays the log, drops a torn last record
/// (truncating the log to the last good one) and returns the store with the state.
///
/// # Errors
/// Unreadable files, and a log damaged anywhere but in its last record (the message names the
/// file and the byte offset).
pub(crate) fn open(path: &Path, layout: &Layout<'_>) -> io::Result<(Store, Books)> {
    let log = snapshot::sibling(path, ".log")?;
    let document = snapshot::load(path)?;
    let bytes = match fs::read(&log) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let scan = match &bytes {
        Some(bytes) => wal::scan(bytes)
            .map_err(|e| invalid(format!("log {} is damaged {e}", log.display())))?,
        None => wal::Scan::default(),
    };

    let mut books = Books::fresh(layout);
    let restore = |key: &str, value: Value| -> io::Result<Ledger> {
        let snapshot: LedgerSnapshot = serde_json::from_value(value)
            .map_err(|e| invalid(format!("app {key} in {}: {e}", path.display())))?;
        Ok(Ledger::restore(
            key,
            layout.seed,
            layout.retention,
            snapshot,
        ))
    };
    // Apps that are no longer configured are replayed too, and written back as they are.
    let mut orphan_ledgers = HashMap::new();
    for (key, value) in document.linkv {
        let ledger = restore(&key, value)?;
        match books.ledgers.get_mut(&key) {
            Some(slot) => *slot = ledger,
            None => {
                orphan_ledgers.insert(key, ledger);
            }
        }
    }
    let mut orphan_donates = BTreeMap::new();
    for (id, value) in document.polyv {
        let Some(donate) = books.donates.get_mut(&id) else {
            orphan_donates.insert(id, value);
            continue;
        };
        let snapshot: DonateSnapshot = serde_json::from_value(value)
            .map_err(|e| invalid(format!("account {id} in {}: {e}", path.display())))?;
        donate.restore(snapshot);
    }
    books.clock = document.clock;
    books.faults = document.faults;

    let mut last = document.log_seq;
    let mut replayed = 0u64;
    for &(offset, payload) in &scan.records {
        let entry: Entry = serde_json::from_slice(payload).map_err(|e| {
            invalid(format!(
                "log {} is damaged at byte offset {offset}: undecodable record: {e}",
                log.display()
            ))
        })?;
        if entry.seq <= document.log_seq {
            continue;
        }
        if entry.seq <= last {
            return Err(invalid(format!(
                "log {} is damaged at byte offset {offset}: record {} after record {last}",
                log.display(),
                entry.seq
            )));
        }
        last = entry.seq;
        replayed += 1;
        match entry.record {
            Record::Linkv { app, event } => {
                let ledger = match books.ledgers.get_mut(&app) {
                    Some(ledger) => ledger,
                    None => orphan_ledgers
                        .entry(app.clone())
                        .or_insert_with(|| Ledger::new(&app, layout.seed, layout.retention)),
                };
                ledger.apply(entry.seq, event);
            }
            Record::Polyv { app, settings } => {
                match layout.polyv.iter().find(|a| a.app_id == app) {
                    Some(config) => {
                        // The record holds the whole account: start from the defaults.
                        let mut donate = Donate::new(config.channels.iter().copied());
                        donate.restore(settings);
                        books.donates.insert(app, donate);
                    }
                    None => {
                        let value = serde_json::to_value(settings).map_err(io::Error::other)?;
                        orphan_donates.insert(app, value);
                    }
                }
            }
            Record::Clock { mode } => books.clock = Some(mode),
            Record::Faults { setting } => books.faults = Some(setting),
        }
    }
    let last = books
        .ledgers
        .values()
        .chain(orphan_ledgers.values())
        .map(Ledger::log_seq)
        .fold(last, u64::max);

    let mut status = Status {
        records_since_snapshot: replayed,
        ..Status::default()
    };
    let file = match (&bytes, &scan.torn) {
        (None, _) => fresh_log(&log)?,
        (Some(_), Some(torn)) => {
            let warning = format!(
                "dropped a torn last record ({} bytes at byte offset {} of {}: {}); it was \
                 never synced, so no answer depended on it",
                torn.bytes,
                torn.offset,
                log.display(),
                torn.why
            );
            tracing::warn!("{warning}");
            status.torn_tail_dropped = Some(warning);
            if scan.good_len < wal::HEADER_LEN {
                fresh_log(&log)?
            } else {
                let file = OpenOptions::new().write(true).open(&log)?;
                file.set_len(scan.good_len as u64)?;
                file.sync_all()?;
                drop(file);
                OpenOptions::new().append(true).open(&log)?
            }
        }
        (Some(_), None) => OpenOptions::new().append(true).open(&log)?,
    };
    status.log_bytes = file.metadata()?.len();

    let now_secs = system_secs();
    let orphans = (
        orphan_ledgers
            .into_iter()
            .map(|(key, ledger)| {
                let value =
                    serde_json::to_value(ledger.snapshot(now_secs)).map_err(io::Error::other)?;
                Ok((key, value))
            })
            .collect::<io::Result<_>>()?,
        orphan_donates,
    );
    let (durable, _) = watch::channel(Durable {
        seq: last,
        ..Durable::default()
    });
    let store = Store {
        path: path.to_owned(),
        log,
        compact_after: layout.compact_after,
        queue: Mutex::new(Queue {
            last,
            ..Queue::default()
        }),
        wake: Condvar::new(),
        assigned: AtomicU64::new(last),
        durable,
        status: Mutex::new(status),
        orphans,
        clock_set: AtomicBool::new(books.clock.is_some()),
        faults_set: AtomicBool::new(books.faults.is_some()),
        file: Mutex::new(Some(file)),
        writer: Mutex::new(None),
    };
    Ok((store, books))
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
    fn fail(&self, why: String) {
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

impl Shared {
    /// The whole state as a snapshot covering the log up to `log_seq`.
    fn document(&self, store: &Store, log_seq: u64) -> Document {
        let (mut linkv, mut polyv) = self.books();
        for (key, value) in &store.orphans.0 {
            linkv.entry(key.clone()).or_insert_with(|| value.clone());
        }
        for (key, value) in &store.orphans.1 {
            polyv.entry(key.clone()).or_insert_with(|| value.clone());
        }
        let mut document = Document::new(log_seq);
        document.linkv = linkv;
        document.polyv = polyv;
        document.clock = store
            .clock_set
            .load(Ordering::Acquire)
            .then(|| self.clock.mode());
        document.faults = store
            .faults_set
            .load(Ordering::Acquire)
            .then(|| FaultSetting {
                faults: (*self.faults.config()).clone(),
                seed: self.faults.seed(),
            });
        document
    }
}

/// Reads the emulator's time.
type NowMs<'a> = &'a dyn Fn() -> u64;
/// Takes a snapshot of the whole state, covering the log up to a sequence number.
type Snapshot<'a> = &'a dyn Fn(&Store, u64) -> Document;

/// The writer thread: group commit, compaction, and the last write at stop.
fn write_loop(store: &Store, mut file: File, now_ms: NowMs<'_>, document: Snapshot<'_>) {
    loop {
        let (bytes, records, last, compact, stop) = {
            let mut queue = lock(&store.queue);
            while queue.bytes.is_empty() && !queue.compact && queue.stop.is_none() {
                queue = store
                    .wake
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            (
                mem::take(&mut queue.bytes),
                mem::take(&mut queue.records),
                queue.last,
                mem::take(&mut queue.compact),
                queue.stop,
            )
        };
        let failed = store.durable.borrow().failed;
        if !bytes.is_empty() && !failed {
            match file.write_all(&bytes).and_then(|()| file.sync_data()) {
                Ok(()) => {
                    // The status first: whoever the sync wakes sees it counted. The time is
                    // read before the status lock: the clock's lock is taken before the
                    // store's when the clock logs a change.
                    let now = now_ms();
                    {
                        let mut status = lock(&store.status);
                        status.syncs += 1;
                        status.log_bytes += bytes.len() as u64;
                        status.records_since_snapshot += records;
                        status.records_written += records;
                        status.last_sync_ms = Some(now);
                    }
                    store.durable.send_modify(|d| d.seq = last);
                }
                Err(e) => store.fail(format!("cannot append to {}: {e}", store.log.display())),
            }
        }
        let (big, pending) = {
            let status = lock(&store.status);
            (
                status.log_bytes >= store.compact_after,
                status.records_since_snapshot > 0,
            )
        };
        // A clean stop leaves a snapshot of everything (and an empty log), unless the last
        // one is still current.
        let final_snapshot =
            bytes.is_empty() && stop == Some(true) && (pending || !store.path.exists());
        if (compact || big || final_snapshot) && !store.durable.borrow().failed {
            let ok = match compact_now(store, &mut file, now_ms, document) {
                Ok(()) => true,
                Err(e) => {
                    // Not fatal: the old snapshot and the log still hold everything.
                    let why = format!("cannot write snapshot {}: {e}", store.path.display());
                    tracing::error!("emulator state store: {why}");
                    lock(&store.status).last_error = Some(why);
                    false
                }
            };
            store.durable.send_modify(|d| {
                d.compactions += 1;
                d.compaction_ok = ok;
            });
        } else if compact {
            store.durable.send_modify(|d| {
                d.compactions += 1;
                d.compaction_ok = false;
            });
        }
        // Stop once everything queued before the stop is written.
        if stop.is_some() && bytes.is_empty() && !compact {
            store.durable.send_modify(|d| d.stopped = true);
            return;
        }
    }
}

/// Writes a snapshot of everything synced so far, then replaces the log with an empty one.
fn compact_now(
    store: &Store,
    file: &mut File,
    now_ms: NowMs<'_>,
    document: Snapshot<'_>,
) -> io::Result<()> {
    // Everything up to `covered` is written and synced, so the state read now holds it.
    let covered = store.durable.borrow().seq;
    let document = document(store, covered);
    let bytes = serde_json::to_vec_pretty(&document).map_err(io::Error::other)?;
    snapshot::write_atomically(&store.path, &bytes)?;
    // Records after `covered` are still queued: they go to the new log.
    *file = fresh_log(&store.log)?;
    let now = now_ms();
    let mut status = lock(&store.status);
    status.log_bytes = wal::HEADER_LEN as u64;
    status.records_since_snapshot = 0;
    status.snapshots += 1;
    status.last_snapshot_ms = Some(now);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETENTION: Retention = Retention {
        idempotency_window_ms: 1_000,
        idempotency_capacity: 10,
        journal_capacity: 10,
    };

    fn open_empty(dir: &Path) -> Arc<Store> {
        Arc::new(open(&dir.join("state.json"), &layout()).unwrap().0)
    }

    fn spawn_writer(store: &Arc<Store>) -> std::thread::JoinHandle<()> {
        let file = lock(&store.file).take().unwrap();
        let store = Arc::clone(store);
        std::thread::spawn(move || {
            write_loop(&store, file, &|| 7, &|_, seq| Document::new(seq));
        })
    }

    fn clock_record(i: u64) -> Record {
        Record::Clock {
            mode: Mode::Frozen { at_ms: i },
        }
    }

    fn settle(store: &Store) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(store.settle())
            .unwrap();
    }

    #[test]
    fn records_queued_during_a_sync_share_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_empty(dir.path());
        // Queued from many threads while no sync can run: one sync makes them all durable.
        std::thread::scope(|scope| {
            for t in 0..8 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..50 {
                        store.append(&clock_record(t * 100 + i));
                    }
                });
            }
        });
        let writer = spawn_writer(&store);
        settle(&store);
        assert_eq!(store.durable.borrow().seq, 400);
        assert_eq!(store.syncs(), 1);
        // Then appends while the writer runs: every record durable, never more syncs than
        // records.
        std::thread::scope(|scope| {
            for t in 0..8 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..50 {
                        store.append(&clock_record(t * 100 + i));
                        settle(store);
                    }
                });
            }
        });
        assert_eq!(store.durable.borrow().seq, 800);
        let status = store.describe();
        assert_eq!(status["records_written"], 800);
        assert!(store.syncs() <= 401, "{status}");
        store.stop(false);
        writer.join().unwrap();

        // All 800 records read back, in order.
        let bytes = fs::read(dir.path().join("state.json.log")).unwrap();
        let scan = wal::scan(&bytes).unwrap();
        assert_eq!(scan.records.len(), 800);
        let seqs: Vec<u64> = scan
            .records
            .iter()
            .map(|(_, p)| serde_json::from_slice::<Entry>(p).unwrap().seq)
            .collect();
        assert_eq!(seqs, (1..=800).collect::<Vec<_>>());
    }

    #[test]
    fn a_compaction_covers_what_was_synced_and_starts_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_empty(dir.path());
        for i in 0..5 {
            store.append(&clock_record(i));
        }
        let writer = spawn_writer(&store);
        settle(&store);
        // What a clean stop would have to snapshot (it decides whether to write one).
        assert_eq!(store.describe()["records_since_snapshot"], 5);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(store.compact())
            .unwrap();
        assert_eq!(store.describe()["records_since_snapshot"], 0);
        store.append(&clock_record(99));
        store.stop(false);
        writer.join().unwrap();
        let snapshot = snapshot::load(&dir.path().join("state.json")).unwrap();
        assert_eq!(snapshot.log_seq, 5);
        let bytes = fs::read(dir.path().join("state.json.log")).unwrap();
        let scan = wal::scan(&bytes).unwrap();
        assert_eq!(scan.records.len(), 1);
        let entry: Entry = serde_json::from_slice(scan.records[0].1).unwrap();
        assert_eq!((entry.seq, entry.record), (6, clock_record(99)));
        let status = store.describe();
        assert_eq!(
            (
                status["snapshots"].as_u64(),
                status["last_snapshot_ms"].as_u64()
            ),
            (Some(1), Some(7))
        );
    }

    fn layout() -> Layout<'static> {
        Layout {
            linkv: &[],
            polyv: &[],
            seed: 0,
            retention: RETENTION,
            compact_after: DEFAULT_COMPACT_AFTER,
        }
    }

    fn polyv_record(app_len: usize) -> Record {
        Record::Polyv {
            app: "a".repeat(app_len),
            settings: DonateSnapshot::default(),
        }
    }

    #[test]
    fn records_up_to_the_longest_length_are_logged_and_a_longer_one_fails_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_empty(dir.path());
        let json = serde_json::to_string(&polyv_record(0)).unwrap();
        // The payload as `append` frames it, for a one-digit sequence number.
        let overhead = format!("{{\"seq\":1,\"record\":{json}}}").len();
        let longest = wal::MAX_RECORD - overhead;
        assert_eq!(store.append(&polyv_record(longest)), 1);
        let writer = spawn_writer(&store);
        settle(&store);
        assert_eq!(store.describe()["failed"], false);

        // One byte more (the sequence number has one digit still) cannot be logged.
        assert_eq!(store.append(&polyv_record(longest + 1)), 1);
        let status = store.describe();
        assert_eq!(status["failed"], true);
        assert!(
            status["last_error"].as_str().unwrap().contains("too long"),
            "{status}"
        );
        // Nothing after a failure is written or acknowledged.
        assert_eq!(store.append(&clock_record(1)), 2);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(runtime.block_on(store.settle()).is_err());
        store.stop(false);
        writer.join().unwrap();
        let bytes = fs::read(dir.path().join("state.json.log")).unwrap();
        let scan = wal::scan(&bytes).unwrap();
        assert_eq!(scan.records.len(), 1);
        assert_eq!(scan.records[0].1.len(), wal::MAX_RECORD);
    }

    #[test]
    fn a_snapshot_that_cannot_be_written_fails_the_compaction_but_not_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_empty(dir.path());
        // A directory where the snapshot goes: renaming the new snapshot onto it fails.
        fs::create_dir(dir.path().join("state.json")).unwrap();
        store.append(&clock_record(1));
        let writer = spawn_writer(&store);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = runtime.block_on(store.compact()).unwrap_err();
        assert!(err.contains("cannot write snapshot"), "{err}");
        // The log still holds everything: later records are still acknowledged.
        store.append(&clock_record(2));
        runtime.block_on(store.settle()).unwrap();
        assert_eq!(store.describe()["failed"], false);
        store.stop(false);
        writer.join().unwrap();
        assert!(store.join().is_ok());
    }

    #[test]
    fn a_log_cut_inside_its_header_is_started_afresh_with_a_whole_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let log = dir.path().join("state.json.log");
        fs::write(&log, &wal::header()[..5]).unwrap();
        let (store, _) = open(&path, &layout()).unwrap();
        assert_eq!(fs::read(&log).unwrap(), wal::header());
        assert!(store.describe()["torn_tail_dropped"].is_string());
    }

    #[cfg(unix)]
    #[test]
    fn a_log_that_exists_but_cannot_be_read_is_an_error_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let log = dir.path().join("state.json.log");
        // A link to itself: it exists, and reading it fails with something else than "not
        // found". Opening must not replace it with an empty log.
        std::os::unix::fs::symlink(&log, &log).unwrap();
        assert!(open(&path, &layout()).is_err());
        assert!(fs::symlink_metadata(&log).unwrap().file_type().is_symlink());
    }

    #[test]
    fn a_log_that_cannot_be_written_fails_every_wait_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_empty(dir.path());
        // A handle that cannot write: the next append fails.
        let read_only = File::open(dir.path().join("state.json.log")).unwrap();
        *lock(&store.file) = Some(read_only);
        let writer = spawn_writer(&store);
        store.append(&clock_record(1));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = runtime.block_on(store.settle()).unwrap_err();
        assert!(err.contains("cannot append"), "{err}");
        let status = store.describe();
        assert_eq!(status["failed"], true);
        assert_eq!(status["durable_seq"], 0);
        assert!(
            status["last_error"]
                .as_str()
                .unwrap()
                .contains("state.json.log")
        );
        // Later records are not acknowledged either.
        store.append(&clock_record(2));
        assert!(runtime.block_on(store.settle()).is_err());
        store.stop(false);
        writer.join().unwrap();
        // And the end says so.
        let err = store.join().unwrap_err();
        assert!(err.contains("cannot append"), "{err}");
    }
}
