//! The optional state file: read at start, written after changes and at shutdown, so that a
//! restarted emulator loses nothing.
//!
//! Writes are atomic: the whole state goes to a temporary file next to the target, which is
//! flushed to disk and then renamed over it, so a crash leaves either the old file or the new
//! one, never half of one. A burst of changes is coalesced into one write (at most one every
//! [`SAVE_SPACING`]); `RunningEmulator::shutdown` and `RunningEmulator::save_state` write at
//! once.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::state::{Shared, lock};

/// The shortest time between two background writes (longer when writes are slow).
pub(crate) const SAVE_SPACING: Duration = Duration::from_millis(200);

const VERSION: u32 = 1;

/// The file's format: each app's books under its id. Books of apps that are not configured
/// are kept as they are and written back, so starting once with fewer apps loses nothing.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Document {
    version: u32,
    #[serde(default)]
    pub(crate) linkv: BTreeMap<String, Value>,
    #[serde(default)]
    pub(crate) polyv: BTreeMap<String, Value>,
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
    if document.version != VERSION {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "state file version {} is not supported (expected {VERSION})",
                document.version
            ),
        ));
    }
    Ok(document)
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "state file has no name"))?
        .to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    // Make the rename itself durable; not every platform can open a directory, hence best effort.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The link between the running emulator and its state file.
#[derive(Debug)]
pub(crate) struct Persist {
    path: PathBuf,
    dirty: AtomicBool,
    notify: Notify,
    /// Serialises writers (the background task, explicit saves, shutdown), so an older
    /// snapshot can never be renamed over a newer one.
    writing: Mutex<()>,
    orphans: Document,
    last_error: Mutex<Option<String>>,
}

impl Persist {
    pub(crate) fn new(path: PathBuf, orphans: Document) -> Self {
        Self {
            path,
            dirty: AtomicBool::new(false),
            notify: Notify::new(),
            writing: Mutex::new(()),
            orphans,
            last_error: Mutex::new(None),
        }
    }

    pub(crate) fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    pub(crate) fn describe(&self) -> Value {
        serde_json::json!({
            "path": self.path.display().to_string(),
            "last_error": *lock(&self.last_error),
        })
    }
}

/// Writes the current state now. Blocking: call it from a blocking thread.
pub(crate) fn save_now(shared: &Shared) -> io::Result<()> {
    let Some(persist) = &shared.persist else {
        return Ok(());
    };
    let _writing = lock(&persist.writing);
    // Cleared before the snapshot: a change made while it is taken marks the state dirty
    // again and gets its own write.
    persist.dirty.store(false, Ordering::Release);
    let (mut linkv, mut polyv) = shared.books();
    for (key, value) in &persist.orphans.linkv {
        linkv.entry(key.clone()).or_insert_with(|| value.clone());
    }
    for (key, value) in &persist.orphans.polyv {
        polyv.entry(key.clone()).or_insert_with(|| value.clone());
    }
    let document = Document {
        version: VERSION,
        linkv,
        polyv,
    };
    let bytes = serde_json::to_vec_pretty(&document)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let result = write_atomically(&persist.path, &bytes);
    *lock(&persist.last_error) = result.as_ref().err().map(ToString::to_string);
    result
}

/// Writes the state on a blocking thread.
pub(crate) async fn save(shared: Arc<Shared>) -> io::Result<()> {
    tokio::task::spawn_blocking(move || save_now(&shared))
        .await
        .map_err(io::Error::other)?
}

/// The background writer: waits for changes, writes, pauses, until shutdown.
pub(crate) async fn run_saver(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let Some(persist) = &shared.persist else {
        return;
    };
    loop {
        tokio::select! {
            () = persist.notify.notified() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        if !persist.dirty.load(Ordering::Acquire) {
            continue;
        }
        // Errors are kept in `last_error` for the inspection API; the next change retries.
        let started = Instant::now();
        let _ = save(Arc::clone(&shared)).await;
        // A big state takes long to write: keep writing it from taking more than a fifth of
        // the time, however busy the emulator is.
        let pause = SAVE_SPACING.max(started.elapsed().saturating_mul(4));
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("liveapi-emulator-sf-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert!(!dir.join("state.json.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

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
