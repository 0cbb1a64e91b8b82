//! Opening a state file at start: reading the snapshot, replaying the log after it, and
//! dropping a torn last record, so that the books are as they were when the last change was
//! acknowledged.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Condvar, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::watch;

use crate::books::donate::{Donate, DonateSnapshot};
use crate::books::ledger::{Ledger, LedgerSnapshot, Retention};
use crate::clock::Mode;
use crate::persistence::files::{fresh_log, sibling};
use crate::persistence::record::{Entry, Record};
use crate::persistence::snapshot::{self, FaultSetting};
use crate::persistence::store::{Durable, Queue, Status, Store};
use crate::persistence::wal;
use crate::{LinkvApp, PolyvApp};

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

/// Opens the store at `path`: reads the snapshot, replays the log, drops a torn last record
/// (truncating the log to the last good one) and returns the store with the state.
///
/// # Errors
/// Unreadable files, and a log damaged anywhere but in its last record (the message names the
/// file and the byte offset).
pub(crate) fn open(path: &Path, layout: &Layout<'_>) -> io::Result<(Store, Books)> {
    let log = sibling(path, ".log")?;
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
