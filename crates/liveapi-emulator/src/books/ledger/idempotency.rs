//! The idempotency records of one ledger: each applied `request_id` with what a repeat must
//! match and what it answers, forgotten after a window of emulator time or beyond a capacity,
//! oldest first.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// What the first application of a `request_id` left for its repeats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Recorded {
    /// The call and its business parameters, normalised: what a repeat must match.
    pub(super) fingerprint: String,
    pub(super) balance_after: u64,
    pub(super) at_ms: u64,
    /// The journal entry of the first application, to count repeats on.
    #[serde(default)]
    pub(super) seq: u64,
}

/// The remembered `request_id`s, and the order they were recorded in for eviction.
#[derive(Debug, Default)]
pub(super) struct Idempotency {
    records: HashMap<String, Recorded>,
    /// Request ids in the order they were recorded, for eviction.
    order: VecDeque<(u64, String)>,
}

impl Idempotency {
    /// The record of `request_id`, if it is remembered.
    pub(super) fn get(&self, request_id: &str) -> Option<&Recorded> {
        self.records.get(request_id)
    }

    /// Remembers `request_id`, replacing an older record of it.
    pub(super) fn remember(&mut self, request_id: String, record: Recorded) {
        self.order.push_back((record.at_ms, request_id.clone()));
        self.records.insert(request_id, record);
    }

    /// Forgets the records older than `window_ms` at `now_ms`, and the oldest beyond
    /// `capacity`.
    pub(super) fn evict(&mut self, now_ms: u64, window_ms: u64, capacity: usize) {
        while let Some((at, _)) = self.order.front() {
            let too_old = now_ms.saturating_sub(*at) >= window_ms;
            if !too_old && self.order.len() <= capacity {
                break;
            }
            if let Some((at, id)) = self.order.pop_front() {
                // Only the record this queue entry was made for; the id may have been
                // recorded again since.
                if self.records.get(&id).is_some_and(|r| r.at_ms == at) {
                    self.records.remove(&id);
                }
            }
        }
    }

    /// Every remembered record, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&String, &Recorded)> {
        self.order.iter().filter_map(|(at, id)| {
            let record = self.records.get(id).filter(|r| r.at_ms == *at)?;
            Some((id, record))
        })
    }
}
