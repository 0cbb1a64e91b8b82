//! The handle to a running emulator: its address and apps, a look at its books, control
//! over its clock and faults, and its shutdown.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use liveapi_model::polyv::{DonateSettings, PolyvResponse};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::connections::{ConnectionStats, Connections};
use crate::shared::{Shared, lock};
use crate::{
    AppliedChange, EmulatorClock, FaultStats, Faults, FaultsError, LinkvApp, PolyvApp,
    RequestRecord,
};

/// A running emulator: its address, its apps' credentials, its state, and control over its
/// clock and faults.
///
/// Dropping it stops the emulator too, without the final write of the state file that
/// [`shutdown`](Self::shutdown) makes.
pub struct RunningEmulator {
    pub(crate) addr: SocketAddr,
    pub(crate) shared: Arc<Shared>,
    pub(crate) conns: Arc<Connections>,
    /// The first of the apps, kept apart so that handing it out cannot fail.
    pub(crate) linkv_app: LinkvApp,
    pub(crate) linkv_apps: Vec<LinkvApp>,
    pub(crate) polyv_app: PolyvApp,
    pub(crate) polyv_apps: Vec<PolyvApp>,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) server: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .field("linkv_apps", &self.linkv_apps)
            .field("polyv_apps", &self.polyv_apps)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of both APIs: `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of `path` (which starts with `/`).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The first LinkV app: the demo app unless it was left out.
    #[must_use]
    pub fn linkv_app(&self) -> &LinkvApp {
        &self.linkv_app
    }

    /// Every LinkV app.
    #[must_use]
    pub fn linkv_apps(&self) -> &[LinkvApp] {
        &self.linkv_apps
    }

    /// The first Polyv account: the demo account unless it was left out.
    #[must_use]
    pub fn polyv_app(&self) -> &PolyvApp {
        &self.polyv_app
    }

    /// Every Polyv account.
    #[must_use]
    pub fn polyv_apps(&self) -> &[PolyvApp] {
        &self.polyv_apps
    }

    /// The emulator's clock, to read, move, freeze or resume.
    #[must_use]
    pub fn clock(&self) -> &EmulatorClock {
        &self.shared.clock
    }

    /// The current fault configuration.
    #[must_use]
    pub fn faults(&self) -> Faults {
        (*self.shared.faults.config()).clone()
    }

    /// Replaces the fault configuration; the fault sequence continues where it was.
    ///
    /// # Errors
    /// A [`FaultsError`] for an invalid configuration, which is then not applied.
    pub fn set_faults(&self, faults: Faults) -> Result<(), FaultsError> {
        self.shared.set_faults(faults)
    }

    /// Restarts the fault sequence from its beginning under `seed`.
    pub fn reseed(&self, seed: u64) {
        self.shared.reseed(seed);
    }

    /// How many requests were eligible for faults, and how many of each kind were injected.
    #[must_use]
    pub fn fault_stats(&self) -> FaultStats {
        self.shared.faults.stats()
    }

    /// A LinkV user's balance (coins that have not expired), if the app and user exist.
    #[must_use]
    pub fn balance(&self, app_key: &str, open_id: &str) -> Option<u64> {
        let now_secs = self.shared.clock.now_ms() / 1_000;
        let entry = self.shared.linkv.get(app_key)?;
        lock(&entry.ledger).balance(open_id, now_secs).ok()
    }

    /// Every user's balance in a LinkV app, by open id.
    #[must_use]
    pub fn balances(&self, app_key: &str) -> BTreeMap<String, u64> {
        let now_secs = self.shared.clock.now_ms() / 1_000;
        self.shared
            .linkv
            .get(app_key)
            .map(|entry| lock(&entry.ledger).balances(now_secs))
            .unwrap_or_default()
    }

    /// The open id LinkV gave a registered `userId`.
    #[must_use]
    pub fn open_id(&self, app_key: &str, user_id: &str) -> Option<String> {
        let entry = self.shared.linkv.get(app_key)?;
        lock(&entry.ledger).open_id(user_id)
    }

    /// Every coin change applied, in all apps, in the order applied (up to the journal's
    /// capacity per app).
    #[must_use]
    pub fn journal(&self) -> Vec<AppliedChange> {
        self.shared.journal()
    }

    /// How many coin changes were applied in all apps, including any the bounded journal
    /// dropped.
    #[must_use]
    pub fn applied_total(&self) -> u64 {
        self.shared
            .linkv
            .values()
            .map(|entry| lock(&entry.ledger).applied_total())
            .sum()
    }

    /// What `donate/get` would answer for the account's channel (or for the account with
    /// `None`), decoded with the SDK's own type. `None` for an unknown account or channel.
    #[must_use]
    pub fn donate_settings(&self, app_id: &str, channel: Option<u64>) -> Option<DonateSettings> {
        let entry = self.shared.polyv.get(app_id)?;
        let view = {
            let donate = lock(&entry.donate);
            if channel.is_some_and(|c| !donate.has_channel(c)) {
                return None;
            }
            donate.view(channel)
        };
        let json = serde_json::to_string(&view).ok()?;
        let raw = RawValue::from_string(json).ok()?;
        DonateSettings::from_data(Some(&raw)).ok()
    }

    /// Empties every app's books, as `POST /_emulator/reset` does: LinkV users, coins,
    /// orders, idempotency records and journal; Polyv donate settings. The clock, the faults,
    /// the request log and the rate limit stay as they are. With a state file the reset is
    /// logged like any change ([`sync_state`](Self::sync_state) waits until it is durable).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Lifts Polyv's rate-limit ban of `ip` (of every client IP with `None`) and starts its
    /// window afresh, as `DELETE /_emulator/rate-limit/bans` does. Returns how many bans were
    /// lifted.
    pub fn lift_bans(&self, ip: Option<IpAddr>) -> usize {
        self.shared.limiter.lift(ip)
    }

    /// Open connections now and at the peak, how many were accepted and refused over the cap,
    /// and how many each timeout closed (`GET /_emulator/connections`).
    #[must_use]
    pub fn connection_stats(&self) -> ConnectionStats {
        self.conns.stats()
    }

    /// The most recent requests, oldest first (up to the request log's capacity).
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.recent(usize::MAX)
    }

    /// The whole state as `GET /_emulator/state` shows it.
    #[must_use]
    pub fn state_json(&self) -> Value {
        self.shared.dump()
    }

    /// Makes every change so far durable and writes a snapshot of the whole state, starting
    /// a new log (nothing happens without a state file). Changes made through this handle
    /// (the clock, the faults) are logged at once and synced with the next group commit; this
    /// waits for them.
    ///
    /// # Errors
    /// The IO error if the log or the snapshot cannot be written.
    pub async fn save_state(&self) -> io::Result<()> {
        match &self.shared.store {
            Some(store) => store.compact().await.map_err(io::Error::other),
            None => Ok(()),
        }
    }

    /// Waits until every change made so far is durable in the state file's log (at once
    /// without a state file). Answers over HTTP already wait for this; changes made through
    /// this handle (the clock, the faults) are queued at once and synced with the next group
    /// commit.
    ///
    /// # Errors
    /// The IO error that stopped the log from being written.
    pub async fn sync_state(&self) -> io::Result<()> {
        self.shared.settle().await.map_err(io::Error::other)
    }

    /// The state store's status as `GET /_emulator/store` shows it (path, log size, records
    /// since the last snapshot, syncs, a dropped torn record, the last error), or `None`
    /// without a state file.
    #[must_use]
    pub fn state_status(&self) -> Option<Value> {
        self.shared.store.as_ref().map(|store| store.describe())
    }

    /// Stops accepting connections, lets answers in flight finish (for up to five seconds;
    /// injected delays are cut short), syncs the log and writes a last snapshot if anything
    /// changed since the previous one.
    ///
    /// # Errors
    /// The IO error if the log or the snapshot cannot be written.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let Some(store) = self.shared.store.clone() else {
            return Ok(());
        };
        store.stop(true);
        tokio::task::spawn_blocking(move || store.join())
            .await
            .map_err(io::Error::other)?
            .map_err(io::Error::other)
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        // Without `shutdown`: what is queued is still written and synced, without a snapshot.
        if let Some(store) = &self.shared.store {
            store.stop(false);
        }
    }
}
