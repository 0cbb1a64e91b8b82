//! The state store's snapshot file: the whole state as JSON, written atomically (see `files`)
//! when the log is compacted and at shutdown, read at start before the log is replayed.
//!
//! Version 1 files (the one-file format of earlier releases: the whole state, from before the
//! log) read as a snapshot that covers no log record.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Faults;
use crate::clock::Mode;

/// The version this code writes.
const VERSION: u32 = 2;

/// The file's format: each app's books under its id, and the settings changed at run time.
/// Books of apps that are not configured are kept as they are and written back, so starting
/// once with fewer apps loses nothing.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Document {
    version: u32,
    /// The last log record whose effect the snapshot holds: replay starts after it.
    #[serde(default)]
    pub(crate) log_seq: u64,
    #[serde(default)]
    pub(crate) linkv: BTreeMap<String, Value>,
    #[serde(default)]
    pub(crate) polyv: BTreeMap<String, Value>,
    /// The clock, once it was moved at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) clock: Option<Mode>,
    /// The faults, once they were set at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) faults: Option<FaultSetting>,
}

impl Document {
    pub(crate) fn new(log_seq: u64) -> Self {
        Self {
            version: VERSION,
            log_seq,
            ..Self::default()
        }
    }
}

/// The fault configuration and seed, as set at run time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct FaultSetting {
    pub(crate) faults: Faults,
    pub(crate) seed: u64,
}

/// Reads the state file; a missing file is an empty state.
pub(crate) fn load(path: &Path) -> io::Result<Document> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Document::default()),
        Err(e) => return Err(e),
    };
    let document: Document = serde_json::from_slice(&bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if !(1..=VERSION).contains(&document.version) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "state file version {} is not supported (expected 1 to {VERSION})",
                document.version
            ),
        ));
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_empty_state_and_bad_version_is_refused() {
        let dir = std::env::temp_dir().join(format!("liveapi-emulator-sv-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert!(load(&path).unwrap().linkv.is_empty());
        fs::write(&path, br#"{"version":99}"#).unwrap();
        assert_eq!(load(&path).unwrap_err().kind(), io::ErrorKind::InvalidData);
        fs::write(&path, b"{not json").unwrap();
        assert_eq!(load(&path).unwrap_err().kind(), io::ErrorKind::InvalidData);
        fs::remove_dir_all(&dir).unwrap();
    }
}
