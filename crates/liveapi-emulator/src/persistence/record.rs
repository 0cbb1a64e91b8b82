//! What the write-ahead log holds: one record per change, as JSON, with its sequence number.

use serde::{Deserialize, Serialize};

use crate::books::donate::DonateSnapshot;
use crate::books::ledger::Event;
use crate::clock::Mode;
use crate::persistence::snapshot::FaultSetting;

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
pub(super) struct Entry {
    pub(super) seq: u64,
    pub(super) record: Record,
}
