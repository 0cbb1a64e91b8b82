//! The state store's files on disk: where the log sits beside the snapshot, and how a file is
//! replaced so that a crash leaves either the old one or the new one.
//!
//! Writes go to a temporary file next to the target, which is synced and renamed over it (and
//! the directory synced).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::persistence::wal;

/// `path` with `suffix` added to its file name: `state.json` → `state.json.log`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> io::Result<PathBuf> {
    let mut name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "state file has no name"))?
        .to_os_string();
    name.push(suffix);
    Ok(path.with_file_name(name))
}

/// Makes a rename in `path`'s directory durable. Not every platform can open a directory,
/// hence best effort.
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

/// Writes `bytes` to `path` through a temporary file, a sync and a rename, and returns the
/// temporary file's handle (now `path`'s), positioned after `bytes`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<fs::File> {
    let tmp = sibling(path, ".tmp")?;
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    sync_dir(path);
    Ok(file)
}

/// Creates an empty log at `log` (through a temporary file and a rename) and returns it open
/// for appending.
pub(crate) fn fresh_log(log: &Path) -> io::Result<File> {
    write_atomically(log, &wal::header())
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
}
