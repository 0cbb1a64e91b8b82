//! A bounded ring of the most recent requests and their answers, for the inspection API and
//! the dashboard.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::vendors::signature_refusal::SignatureRefusal;
use crate::{FaultKind, Vendor};

/// One request as the emulator saw it. Query strings and bodies are not kept, except the
/// parameters of a refused signature, masked, in [`signature`](Self::signature).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Position among all requests since start, from 1.
    pub seq: u64,
    /// When it arrived, in the emulator's unix milliseconds.
    pub at_ms: u64,
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The vendor the path belongs to, if any.
    pub vendor: Option<Vendor>,
    /// The client's IP address.
    pub client: String,
    /// The HTTP status answered; `None` if the connection was reset instead.
    pub status: Option<u16>,
    /// The vendor's message (`msg` / `message`), empty on success.
    pub message: String,
    /// The fault injected, if any.
    pub fault: Option<FaultKind>,
    /// For a refused signature, what the emulator expected (absent from the JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureRefusal>,
}

/// A request and the body of its answer (empty when none was sent).
#[derive(Clone, Debug)]
struct Entry {
    record: RequestRecord,
    answer: Bytes,
}

#[derive(Debug)]
pub(crate) struct RequestLog {
    capacity: usize,
    seq: AtomicU64,
    entries: Mutex<VecDeque<Entry>>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            seq: AtomicU64::new(0),
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(4_096))),
        }
    }

    /// The next sequence number; taken when a request arrives.
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The last sequence number handed out.
    pub(crate) fn last_seq(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }

    /// Keeps a request without an answer (its connection was reset instead).
    pub(crate) fn push(&self, record: RequestRecord) {
        self.push_answered(record, Bytes::new());
    }

    /// Keeps a request and its answer's body (shared, not copied).
    pub(crate) fn push_answered(&self, record: RequestRecord, answer: Bytes) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(Entry { record, answer });
    }

    /// The most recent `limit` records, oldest first.
    pub(crate) fn recent(&self, limit: usize) -> Vec<RequestRecord> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let skip = entries.len().saturating_sub(limit);
        entries
            .iter()
            .skip(skip)
            .map(|e| e.record.clone())
            .collect()
    }

    /// The most recent `limit` records that `keep` accepts, newest first, with their answers.
    pub(crate) fn newest_answered(
        &self,
        limit: usize,
        keep: impl Fn(&RequestRecord) -> bool,
    ) -> Vec<(RequestRecord, Bytes)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .rev()
            .filter(|e| keep(&e.record))
            .take(limit)
            .map(|e| (e.record.clone(), e.answer.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64) -> RequestRecord {
        RequestRecord {
            seq,
            at_ms: 0,
            method: "GET".into(),
            path: "/".into(),
            vendor: None,
            client: "127.0.0.1".into(),
            status: Some(200),
            message: String::new(),
            fault: None,
            signature: None,
        }
    }

    #[test]
    fn keeps_only_the_most_recent() {
        let log = RequestLog::new(3);
        for _ in 0..5 {
            let seq = log.next_seq();
            log.push(record(seq));
        }
        let seqs: Vec<_> = log.recent(10).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(log.recent(1)[0].seq, 5);
        let newest: Vec<_> = log
            .newest_answered(2, |r| r.seq != 5)
            .iter()
            .map(|(r, _)| r.seq)
            .collect();
        assert_eq!(newest, [4, 3]);
        let off = RequestLog::new(0);
        off.push(record(1));
        assert!(off.recent(10).is_empty());
    }
}
