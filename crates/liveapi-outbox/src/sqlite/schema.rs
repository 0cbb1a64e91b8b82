//! Opening the file: telling an outbox from a foreign, damaged or newer file before
//! anything is written, the journal settings, and the migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error;
use crate::error::{Fault, OutboxError};

/// `application_id` of an outbox file: `LAPO` (liveapi outbox), so that the file names
/// itself and a foreign one is never mistaken for it.
const APPLICATION_ID: i32 = 0x4C41_504F;

/// The newest schema version this crate writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// Migrations: the statements taking the schema from version `n - 1` to `n` are at `n - 1`.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL UNIQUE,
        uid TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        change TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'refused', 'reconcile')),
        attempts INTEGER NOT NULL DEFAULT 0,
        enqueued_at_ms INTEGER NOT NULL,
        next_attempt_at_ms INTEGER NOT NULL,
        lease_owner TEXT,
        lease_token TEXT,
        lease_until_ms INTEGER,
        last_error TEXT,
        settled_at_ms INTEGER,
        balance INTEGER,
        outcome_kind TEXT,
        outcome_status INTEGER,
        outcome_message TEXT
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (next_attempt_at_ms, seq) WHERE state = 'pending';
    CREATE INDEX outbox_state ON outbox (state, seq);
    CREATE INDEX outbox_uid ON outbox (uid, seq);
",
    "
    ALTER TABLE outbox ADD COLUMN retry_delay_ms INTEGER;
    ALTER TABLE outbox ADD COLUMN resolution TEXT;
    ALTER TABLE outbox ADD COLUMN resolved_at_ms INTEGER;
    ALTER TABLE outbox ADD COLUMN resolution_note TEXT;
    ALTER TABLE outbox ADD COLUMN reissued_as TEXT;
    ALTER TABLE outbox ADD COLUMN reissue_of TEXT;
",
];

/// How long a statement waits for another process's lock before giving up: well inside the
/// outbox's bound on a store call ([`OutboxBuilder::store_timeout`](crate::OutboxBuilder::store_timeout)).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(4);

/// Opens, checks and migrates the file.
pub(super) fn open(path: &Path, location: &str) -> Result<Connection, OutboxError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|e| error(location, "opening the file", &e))?;
    check(&connection, location, true)?;
    // WAL: readers do not block the writer, and a commit appends to the log instead of
    // rewriting pages. FULL: the log is synced at every commit, so a committed enqueue
    // survives a power cut, not only a crash.
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| error(location, "switching to WAL", &e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OutboxError::of_fault(
            location,
            Fault::Other,
            format!("the file cannot use write-ahead logging (journal mode {mode})"),
            None,
        ));
    }
    connection
        .execute_batch("PRAGMA synchronous = FULL")
        .map_err(|e| error(location, "setting synchronous commits", &e))?;
    migrate(&connection, location)?;
    Ok(connection)
}

/// Opens the file to read only: nothing is created, migrated or written (no journal mode
/// switched, no checkpoint), so that the operator's commands work on a file that cannot be
/// written (a read-only mount, a full disk). A file of the previous schema version is read
/// through a temporary view that shows the newer columns as empty.
pub(super) fn open_read_only(path: &Path, location: &str) -> Result<Connection, OutboxError> {
    if !path.exists() {
        return Err(OutboxError::of_fault(
            location,
            Fault::CannotOpen,
            "there is no outbox file here (a command that only reads creates none)",
            None,
        ));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|e| error(location, "opening the file to read", &e))?;
    let connection = match check(&connection, location, false) {
        Ok(()) => connection,
        // A file in WAL mode whose shared-memory index cannot be made (a read-only directory
        // or mount): read it as it is on disk, which nothing can change meanwhile.
        Err(OutboxError::Store {
            fault: Fault::CannotOpen | Fault::ReadOnly,
            ..
        }) => {
            drop(connection);
            let uri = format!("file:{}?immutable=1", uri_path(path));
            let connection = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .map_err(|e| error(location, "opening the file to read", &e))?;
            check(&connection, location, false)?;
            connection
        }
        Err(e) => return Err(e),
    };
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| error(location, "reading the file's header", &e))?;
    if version == 0 {
        return Err(OutboxError::of_fault(
            location,
            Fault::CannotOpen,
            "the file holds no outbox yet",
            None,
        ));
    }
    if version < SCHEMA_VERSION {
        connection
            .execute_batch(&format!(
                "CREATE TEMP VIEW outbox AS SELECT *, {} FROM main.outbox",
                crate::store::V2_COLUMNS_AS_NULL
            ))
            .map_err(|e| error(location, "reading an older outbox", &e))?;
    }
    Ok(connection)
}

/// A path as the path of a `file:` URI.
fn uri_path(path: &Path) -> String {
    let mut uri = String::new();
    for byte in path.display().to_string().bytes() {
        match byte {
            b'?' | b'#' | b'%' => uri.push_str(&format!("%{byte:02X}")),
            b => uri.push(char::from(b)),
        }
    }
    uri
}

/// Checks that the file is an outbox of a version this crate reads, or (when `writable`) a
/// new, empty database: before anything is written.
fn check(connection: &Connection, location: &str, writable: bool) -> Result<(), OutboxError> {
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| error(location, "setting the busy timeout", &e))?;
    let pragma = |name: &str| -> Result<i64, OutboxError> {
        connection
            .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .map_err(|e| error(location, "reading the file's header", &e))
    };
    // Reading the header is what tells a file that is not a database.
    let application_id = pragma("application_id")?;
    let version = pragma("user_version")?;
    let tables: i64 = connection
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
            [],
            |row| row.get(0),
        )
        .map_err(|e| error(location, "reading the file's tables", &e))?;
    match (application_id, version) {
        (id, _) if id == i64::from(APPLICATION_ID) => {}
        (0, 0) if tables == 0 && writable => {}
        (0, 0) if tables == 0 => {
            return Err(OutboxError::of_fault(
                location,
                Fault::CannotOpen,
                "the file holds no outbox yet",
                None,
            ));
        }
        (0, 0) => {
            return Err(OutboxError::Foreign {
                location: location.to_owned(),
                detail: format!("the database holds {tables} tables or indexes of another program"),
            });
        }
        (id, version) => {
            return Err(OutboxError::Foreign {
                location: location.to_owned(),
                detail: format!(
                    "its application_id is {id:#x} and its user_version {version} (an outbox's application_id is {APPLICATION_ID:#x})"
                ),
            });
        }
    }
    if version > SCHEMA_VERSION {
        return Err(OutboxError::SchemaTooNew {
            location: location.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let integrity: String = connection
        .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
        .map_err(|e| error(location, "checking the file", &e))?;
    if integrity != "ok" {
        return Err(OutboxError::Corrupt {
            location: location.to_owned(),
            detail: integrity,
        });
    }
    Ok(())
}

/// Applies the migrations the file lacks, in one transaction; checks the version again
/// inside it, as another process may have migrated meanwhile.
fn migrate(connection: &Connection, location: &str) -> Result<(), OutboxError> {
    let failed = |e: rusqlite::Error| error(location, "migrating the schema", &e);
    connection
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(failed)?;
    let result = (|| {
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(failed)?;
        if version > SCHEMA_VERSION {
            return Err(OutboxError::SchemaTooNew {
                location: location.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let from = usize::try_from(version).unwrap_or(0);
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(from) {
            connection.execute_batch(sql).map_err(failed)?;
            tracing::info!(target: "liveapi_outbox", location, version = step + 1, "outbox schema migrated");
        }
        connection
            .execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}"
            ))
            .map_err(failed)
    })();
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = connection.execute_batch(end).map_err(failed);
    result.and(ended)
}
