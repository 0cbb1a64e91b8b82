//! Everything the request handlers share: apps and their books, the clock, faults, the request
//! log, the rate limiter and the link to the state file.
//!
//! Each app's books sit behind their own mutex, taken only for the synchronous bookkeeping of
//! one request and never across an `.await`, so requests for different apps never wait for
//! each other and no request waits on IO while holding a lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::books::donate::Donate;
use crate::books::ledger::{AppliedChange, Ledger};
use crate::faults::FaultInjector;
use crate::http::reply::LinkvAnswers;
use crate::http::request_log::RequestLog;
use crate::persistence::{FaultSetting, Record, Store};
use crate::vendors::rate_limit::RateLimiter;
use crate::{EmulatorClock, Faults, FaultsError, LinkvApp, PolyvApp};

/// Locks a mutex, recovering the data if a previous holder panicked. The books are updated by
/// code that checks everything before it writes, so a poisoned lock does not mean a
/// half-applied change.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A LinkV app and its ledger.
#[derive(Debug)]
pub(crate) struct LinkvEntry {
    pub(crate) app: LinkvApp,
    pub(crate) ledger: Mutex<Ledger>,
}

/// A Polyv account and its donate settings.
#[derive(Debug)]
pub(crate) struct PolyvEntry {
    pub(crate) app: PolyvApp,
    pub(crate) donate: Mutex<Donate>,
}

/// Limits and windows fixed at start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) body_limit: usize,
    pub(crate) linkv_nonce_window: Duration,
    pub(crate) polyv_timestamp_window: Duration,
    pub(crate) linkv_answers: LinkvAnswers,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) limits: Limits,
    pub(crate) clock: EmulatorClock,
    pub(crate) faults: FaultInjector,
    pub(crate) log: RequestLog,
    pub(crate) limiter: RateLimiter,
    pub(crate) linkv: HashMap<String, LinkvEntry>,
    pub(crate) polyv: HashMap<String, PolyvEntry>,
    /// The last journal sequence number handed out, across apps.
    pub(crate) journal_seq: AtomicU64,
    /// The durable state store, with `--state`.
    pub(crate) store: Option<Arc<Store>>,
    /// Serialises fault changes, so that they are logged in the order they were made.
    pub(crate) settings: Mutex<()>,
    /// Tells long waits (injected latency) that the emulator is shutting down.
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Every coin change applied, in all apps, in the order applied.
    pub(crate) fn journal(&self) -> Vec<AppliedChange> {
        let mut journal: Vec<AppliedChange> = self
            .linkv
            .values()
            .flat_map(|entry| lock(&entry.ledger).journal().cloned().collect::<Vec<_>>())
            .collect();
        journal.sort_by_key(|c| c.seq);
        journal
    }

    /// Logs a record; call it under the lock of what it describes. Returns its sequence
    /// number (0 without a state store).
    pub(crate) fn log(&self, record: impl FnOnce() -> Record) -> u64 {
        self.store
            .as_ref()
            .map_or(0, |store| store.append(&record()))
    }

    /// Waits until every change made so far is durable (at once without a state store).
    ///
    /// # Errors
    /// Why the state store can no longer write.
    pub(crate) async fn settle(&self) -> Result<(), String> {
        match &self.store {
            Some(store) => store.settle().await,
            None => Ok(()),
        }
    }

    /// Replaces the fault configuration, and logs it.
    pub(crate) fn set_faults(&self, faults: Faults) -> Result<(), FaultsError> {
        let _order = lock(&self.settings);
        self.faults.set(faults)?;
        self.faults_changed();
        Ok(())
    }

    /// Restarts the fault sequence under `seed`, and logs it.
    pub(crate) fn reseed(&self, seed: u64) {
        let _order = lock(&self.settings);
        self.faults.reseed(seed);
        self.faults_changed();
    }

    fn faults_changed(&self) {
        if let Some(store) = &self.store {
            store.faults_changed(FaultSetting {
                faults: (*self.faults.config()).clone(),
                seed: self.faults.seed(),
            });
        }
    }

    /// Empties every app's books (LinkV users, coins, orders, idempotency records, journal;
    /// Polyv donate settings), and logs it. The clock, the faults, the request log and the
    /// rate limit are left as they are: they have their own controls.
    pub(crate) fn reset(&self) {
        for entry in self.linkv.values() {
            let mut ledger = lock(&entry.ledger);
            let event = ledger.reset();
            let seq = self.log(|| Record::Linkv {
                app: entry.app.app_key.clone(),
                event,
            });
            ledger.set_log_seq(seq);
        }
        for entry in self.polyv.values() {
            let mut donate = lock(&entry.donate);
            donate.reset();
            // A Polyv record holds the whole account: its defaults, here.
            self.log(|| Record::Polyv {
                app: entry.app.app_id.clone(),
                settings: donate.snapshot(),
            });
        }
    }

    /// Waits for `delay`, or less if the emulator shuts down meanwhile.
    pub(crate) async fn sleep(&self, delay: Duration) {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    }

    /// Every app's books, as written to the state file.
    pub(crate) fn books(&self) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
        let now_secs = self.clock.now_ms() / 1_000;
        let linkv = self
            .linkv
            .iter()
            .map(|(key, entry)| {
                let snapshot = lock(&entry.ledger).snapshot(now_secs);
                (
                    key.clone(),
                    serde_json::to_value(snapshot).unwrap_or(Value::Null),
                )
            })
            .collect();
        let polyv = self
            .polyv
            .iter()
            .map(|(id, entry)| {
                let snapshot = lock(&entry.donate).snapshot();
                (
                    id.clone(),
                    serde_json::to_value(snapshot).unwrap_or(Value::Null),
                )
            })
            .collect();
        (linkv, polyv)
    }

    /// The whole state, for `GET /_emulator/state`.
    pub(crate) fn dump(&self) -> Value {
        let (mut linkv, polyv) = self.books();
        for (key, books) in &mut linkv {
            if let (Some(entry), Value::Object(map)) = (self.linkv.get(key), books) {
                map.insert("alias".to_owned(), Value::String(entry.app.alias.clone()));
            }
        }
        json!({
            "clock": self.clock.status(),
            "seed": self.faults.seed(),
            "faults": *self.faults.config(),
            "fault_stats": self.faults.stats(),
            "state_file": self.store.as_ref().map(|store| store.describe()),
            "linkv": linkv,
            "polyv": polyv,
        })
    }
}
