//! The SQLite store under a broken disk: locked by another process, on a read-only mount, on
//! a full one, and a file of the previous schema version. Each failure is typed and bounded,
//! the commands that only read keep working, and nothing is lost.
//!
//! The mounts are tmpfs made by the test, which needs root (as CI runs); elsewhere those tests
//! print a notice and pass without running, unless `LIVEAPI_CI=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use liveapi_outbox::{Fault, Outbox, OutboxError, Query, SqliteStore};

/// A tmpfs of `size` mounted on a directory of its own, unmounted when dropped.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    fn new(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Self { dir }),
            Ok(out) => liveapi_test_support::service::unavailable(&format!(
                "cannot mount a tmpfs (root is needed): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => liveapi_test_support::service::unavailable(&format!("cannot run mount: {e}")),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remounts it read-only, once the files written on it are closed: a store's thread
    /// closes its file a moment after the store is dropped.
    fn read_only(&self) {
        let mut tries = 0;
        loop {
            let out = Command::new("mount")
                .args(["-o", "remount,ro"])
                .arg(self.path())
                .output()
                .unwrap();
            if out.status.success() {
                return;
            }
            tries += 1;
            assert!(tries < 100, "{out:?}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Mount {
    /// Unmounts it, waiting for a store's thread to close its file; detached if it stays busy.
    fn drop(&mut self) {
        for _ in 0..40 {
            if Command::new("umount")
                .arg(self.dir.path())
                .output()
                .is_ok_and(|out| out.status.success())
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .output();
    }
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_locked_by_another_process_gives_a_typed_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let outbox = Outbox::builder(SqliteStore::open(&path).await.unwrap())
        .store_timeout(Duration::from_secs(2))
        .build();
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let change = credit(&client, &uid, "locked-1", 1);
    // Another process holds the write lock, as a long transaction or a stuck backup does.
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let e = outbox.enqueue(&change).await.unwrap_err();
    assert!(
        matches!(e.fault(), Some(Fault::Timeout | Fault::Locked)),
        "{e}"
    );
    assert!(e.is_retryable(), "{e}");
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    // Enqueued again: once.
    outbox.enqueue(&change).await.unwrap();
    assert_eq!(outbox.drain_once(&client).await.unwrap().applied, 1);
    assert_applied_once(&emulator, &["locked-1".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_that_only_read_work_on_a_read_only_mount_and_write_nothing() {
    let Some(mount) = Mount::new("8m") else {
        return;
    };
    let path = mount.path().join("coins.outbox");
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    {
        let outbox = Outbox::new(SqliteStore::open(&path).await.unwrap());
        for k in 0..5 {
            outbox
                .enqueue(&credit(&client, &uid, &format!("ro-{k}"), 1))
                .await
                .unwrap();
        }
        // Two settled, three pending.
        outbox.drain_once(&client).await.unwrap();
        for k in 5..8 {
            outbox
                .enqueue(&credit(&client, &uid, &format!("ro-{k}"), 1))
                .await
                .unwrap();
        }
    }
    mount.read_only();
    let before = files(mount.path());
    let location = path.to_str().unwrap();
    let reader = Outbox::builder_read_only(location).await.unwrap().build();
    let counts = reader.counts().await.unwrap();
    assert_eq!((counts.applied, counts.pending), (5, 3), "{counts:?}");
    assert_eq!(reader.list(&Query::new()).await.unwrap().len(), 8);
    let id = liveapi::model::linkv::RequestId::new("ro-6").unwrap();
    assert!(reader.get(&id).await.unwrap().is_some());
    // Writing through it is refused, typed.
    let e = reader
        .enqueue(&credit(&client, &uid, "ro-9", 1))
        .await
        .unwrap_err();
    assert_eq!(e.fault(), Some(Fault::ReadOnly), "{e}");
    drop(reader);
    assert_eq!(files(mount.path()), before, "nothing was written");
    // A writer cannot even open it, and says why.
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(e.fault(), Some(Fault::ReadOnly | Fault::CannotOpen)),
        "{e}"
    );
    // Nothing there: a reader creates nothing.
    let absent = mount.path().join("absent.outbox");
    let e = Outbox::builder_read_only(absent.to_str().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.fault(), Some(Fault::CannotOpen), "{e}");
    assert!(!absent.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_named_and_the_commands_that_only_read_still_work() {
    let Some(mount) = Mount::new("600k") else {
        return;
    };
    let path = mount.path().join("coins.outbox");
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let uid = user(&client, "ada").await;
    let outbox = Outbox::new(SqliteStore::open(&path).await.unwrap());
    let mut committed = Vec::new();
    let full = loop {
        let id = format!("full-{:05}", committed.len());
        match outbox.enqueue(&credit(&client, &uid, &id, 1)).await {
            Ok(_) => committed.push(id),
            Err(e) => break e,
        }
        assert!(committed.len() < 100_000, "the disk never filled");
    };
    assert_eq!(full.fault(), Some(Fault::DiskFull), "{full}");
    assert!(!full.is_config() && !full.is_retryable(), "{full}");
    let reader = Outbox::builder_read_only(path.to_str().unwrap())
        .await
        .unwrap()
        .build();
    assert_eq!(
        reader.counts().await.unwrap().pending,
        committed.len() as u64,
        "every enqueue that answered is there"
    );
}

#[tokio::test]
async fn an_outbox_of_the_previous_version_is_read_as_it_is_and_migrated_by_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    {
        // Version 1 as the previous release wrote it, with one pending entry.
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    request_id TEXT NOT NULL UNIQUE, uid TEXT NOT NULL, endpoint TEXT NOT NULL,
                    change TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'refused', 'reconcile')),
                    attempts INTEGER NOT NULL DEFAULT 0, enqueued_at_ms INTEGER NOT NULL,
                    next_attempt_at_ms INTEGER NOT NULL, lease_owner TEXT, lease_token TEXT,
                    lease_until_ms INTEGER, last_error TEXT, settled_at_ms INTEGER, balance INTEGER,
                    outcome_kind TEXT, outcome_status INTEGER, outcome_message TEXT) STRICT;
                 CREATE INDEX outbox_due ON outbox (next_attempt_at_ms, seq) WHERE state = 'pending';
                 CREATE INDEX outbox_state ON outbox (state, seq);
                 CREATE INDEX outbox_uid ON outbox (uid, seq);
                 PRAGMA application_id = 1279348815; PRAGMA user_version = 1;",
            )
            .unwrap();
        let change = r#"{"version":1,"call":"changeGold","uid":"42","request_id":"v1-entry","change":"add","coins":5,"expires_at":4000000000,"created_at_ms":1700000000000}"#;
        connection
            .execute(
                "INSERT INTO outbox (request_id, uid, endpoint, change, state, enqueued_at_ms, \
                 next_attempt_at_ms) VALUES ('v1-entry', '42', 'changeGold', ?1, 'pending', 1, 0)",
                [change],
            )
            .unwrap();
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let reader = Outbox::builder_read_only(path.to_str().unwrap())
        .await
        .unwrap()
        .build();
    let entries = reader.list(&Query::new()).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].request_id().as_str(), "v1-entry");
    assert_eq!(reader.counts().await.unwrap().pending, 1);
    drop(reader);
    assert_eq!(std::fs::read(&path).unwrap(), before, "read as it is");
    let writer = Outbox::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(writer.counts().await.unwrap().pending, 1);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}

#[tokio::test]
async fn a_location_that_could_be_mistaken_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let here = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    for location in [
        "host=127.0.0.1 user=postgres password=S3cretPw dbname=test hots=x",
        " coins.outbox",
        "postgres:/coins",
        "mysql://db/coins",
        "",
    ] {
        match Outbox::open(location).await {
            Err(e @ OutboxError::BadLocation { .. }) => {
                assert!(e.is_config());
                assert!(!format!("{e} {e:?}").contains("S3cretPw"), "{e:?}");
            }
            other => panic!("{location:?}: {other:?}"),
        }
    }
    let created: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    std::env::set_current_dir(here).unwrap();
    assert!(created.is_empty(), "{created:?}");
}
