//! Keeping the books across restarts, with a state file (`--state FILE`): a snapshot of the
//! whole state (`FILE`) and a write-ahead log of every change since (`FILE.log`), synced
//! before an answer goes out, replayed at start and compacted into a new snapshot as it grows.

pub(crate) mod snapshot;
pub(crate) mod store;
pub(crate) mod wal;
