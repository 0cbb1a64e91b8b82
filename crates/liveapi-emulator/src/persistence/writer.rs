//! The writer thread: group commit (one sync for whatever was queued while the previous one
//! ran), compaction into a new snapshot when the log grows, and the last write at stop.

use std::fs::File;
use std::io::{self, Write};
use std::mem;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use crate::persistence::files::{fresh_log, write_atomically};
use crate::persistence::snapshot::{Document, FaultSetting};
use crate::persistence::store::Store;
use crate::persistence::wal;
use crate::shared::{Shared, lock};

/// Reads the emulator's time.
pub(super) type NowMs<'a> = &'a dyn Fn() -> u64;
/// Takes a snapshot of the whole state, covering the log up to a sequence number.
pub(super) type Snapshot<'a> = &'a dyn Fn(&Store, u64) -> Document;

/// The writer thread: group commit, compaction, and the last write at stop.
pub(super) fn write_loop(store: &Store, mut file: File, now_ms: NowMs<'_>, document: Snapshot<'_>) {
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
pub(super) fn compact_now(
    store: &Store,
    file: &mut File,
    now_ms: NowMs<'_>,
    document: Snapshot<'_>,
) -> io::Result<()> {
    // Everything up to `covered` is written and synced, so the state read now holds it.
    let covered = store.durable.borrow().seq;
    let document = document(store, covered);
    let bytes = serde_json::to_vec_pretty(&document).map_err(io::Error::other)?;
    write_atomically(&store.path, &bytes)?;
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

impl Shared {
    /// The whole state as a snapshot covering the log up to `log_seq`.
    pub(super) fn document(&self, store: &Store, log_seq: u64) -> Document {
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
