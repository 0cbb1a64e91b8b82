//! The journal of one ledger: every applied coin change in order, bounded to the newest
//! entries, with the count of repeats answered for each.

use std::collections::VecDeque;

use super::changes::AppliedChange;

/// The applied changes, oldest first, and how many were ever applied.
#[derive(Debug, Default)]
pub(super) struct Journal {
    entries: VecDeque<AppliedChange>,
    /// Including those dropped beyond the capacity.
    applied_total: u64,
}

impl Journal {
    /// A journal with these entries (oldest first) and this total, from a snapshot.
    pub(super) fn restore(entries: Vec<AppliedChange>, applied_total: u64) -> Self {
        Self {
            entries: entries.into(),
            applied_total,
        }
    }

    /// Adds an applied change, dropping the oldest entries beyond `capacity`.
    pub(super) fn push(&mut self, applied: AppliedChange, capacity: usize) {
        self.applied_total += 1;
        self.entries.push_back(applied);
        while self.entries.len() > capacity {
            self.entries.pop_front();
        }
    }

    /// Counts a repeat on the entry `seq`, if the journal still holds it.
    pub(super) fn count_repeat(&mut self, seq: u64) {
        // Journal entries are in increasing `seq` order.
        if let Ok(i) = self.entries.binary_search_by_key(&seq, |c| c.seq)
            && let Some(entry) = self.entries.get_mut(i)
        {
            entry.repeats += 1;
        }
    }

    /// The entries, oldest first.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &AppliedChange> {
        self.entries.iter()
    }

    /// How many changes were ever applied.
    pub(super) fn applied_total(&self) -> u64 {
        self.applied_total
    }

    /// The highest sequence number, 0 for none.
    pub(super) fn last_seq(&self) -> u64 {
        self.entries.back().map_or(0, |c| c.seq)
    }
}
