//! Keeping the books across restarts, with a state file (`--state FILE`): a snapshot of the
//! whole state (`FILE`) and a write-ahead log of every change since (`FILE.log`), synced
//! before an answer goes out, replayed at start and compacted into a new snapshot as it grows.
//!
//! - `store`: the running store, the queue of records and how far they are durable;
//! - `record`: what one log record holds;
//! - `wal`: the log's bytes on disk (header, framing, checksums, torn tails);
//! - `writer`: the thread that syncs the log and writes snapshots;
//! - `snapshot`: the snapshot file's format;
//! - `replay`: opening a state file at start;
//! - `files`: file names and atomic replacement.

mod files;
mod record;
mod replay;
pub(crate) mod snapshot;
mod store;
#[cfg(test)]
mod tests;
mod wal;
mod writer;

pub(crate) use record::Record;
pub(crate) use replay::{Books, Layout, open};
pub(crate) use snapshot::FaultSetting;
pub(crate) use store::{DEFAULT_COMPACT_AFTER, Store};
