//! The state store's tests: group commit, compaction, records at the length limit, and
//! failures to read or write its files.

use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

use crate::books::donate::DonateSnapshot;
use crate::books::ledger::Retention;
use crate::clock::Mode;
use crate::persistence::record::{Entry, Record};
use crate::persistence::replay::{Layout, open};
use crate::persistence::snapshot::{self, Document};
use crate::persistence::store::{DEFAULT_COMPACT_AFTER, Store};
use crate::persistence::wal;
use crate::persistence::writer::write_loop;
use crate::shared::lock;

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
