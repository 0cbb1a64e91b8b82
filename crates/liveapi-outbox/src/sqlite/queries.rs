//! The store's operations, each a job of the writer thread: enqueue, claim, record, and
//! the queries.

use liveapi::model::linkv::PendingChange;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, error};
use crate::entry::{Counts, Enqueued, Entry, Query};
use crate::error::OutboxError;
use crate::store::{
    COLUMNS, COUNTS, Claim, ClaimRequest, Resolve, Row, Settlement, Store, StoreFuture,
    add_counts_row, change_json, same_change, sealed,
};

impl Store for SqliteStore {}

#[allow(private_interfaces)] // `Backend` is sealed: see its definition.
impl sealed::Backend for SqliteStore {
    fn location(&self) -> &str {
        &self.location
    }

    fn enqueue(&self, change: PendingChange, now_ms: i64) -> StoreFuture<'_, Enqueued> {
        self.run(move |connection, location| {
            let json = change_json(&change)?;
            let request_id = change.request_id().as_str();
            let added = connection
                .prepare_cached(
                    "INSERT INTO outbox (request_id, uid, endpoint, change, state, attempts, \
                     enqueued_at_ms, next_attempt_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, 0) \
                     ON CONFLICT (request_id) DO NOTHING",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        request_id,
                        change.uid().as_str(),
                        change.endpoint(),
                        json,
                        now_ms
                    ])
                })
                .map_err(|e| error(location, "enqueueing", &e))?;
            if added == 1 {
                return Ok(Enqueued::Added);
            }
            let stored: String = connection
                .prepare_cached("SELECT change FROM outbox WHERE request_id = ?1")
                .and_then(|mut s| s.query_row([request_id], |row| row.get(0)))
                .map_err(|e| error(location, "enqueueing", &e))?;
            if same_change(&stored, &change, request_id)? {
                Ok(Enqueued::AlreadyQueued)
            } else {
                Err(OutboxError::IdConflict {
                    request_id: change.request_id().clone(),
                })
            }
        })
    }

    fn claim(&self, request: ClaimRequest) -> StoreFuture<'_, Vec<Claim>> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "claiming", &e);
            // Schedules and leases written by a clock ahead of this one are brought back.
            connection
                .prepare_cached(CLAMP_SCHEDULES)
                .and_then(|mut s| s.execute(params![request.now_ms, request.latest_due_ms]))
                .map_err(failed)?;
            connection
                .prepare_cached(
                    "UPDATE outbox SET lease_until_ms = ?1 \
                     WHERE state = 'pending' AND lease_until_ms > ?1",
                )
                .and_then(|mut s| s.execute(params![request.latest_lease_ms]))
                .map_err(failed)?;
            let mut due = connection
                .prepare_cached(
                    "SELECT seq, lease_owner FROM outbox \
                     WHERE state = 'pending' AND next_attempt_at_ms <= ?1 \
                     AND (lease_until_ms IS NULL OR lease_until_ms <= ?2) \
                     AND (?3 IS NULL OR request_id = ?3) \
                     ORDER BY next_attempt_at_ms, seq LIMIT ?4",
                )
                .map_err(failed)?;
            let candidates = due
                .query_map(
                    params![
                        request.due_by_ms,
                        request.now_ms,
                        request.only,
                        request.limit
                    ],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<String>>(1)?)),
                )
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(failed)?;
            let mut lease = connection
                .prepare_cached(&format!(
                    "UPDATE outbox SET lease_owner = ?1, lease_token = ?2, lease_until_ms = ?3, \
                     attempts = attempts + 1 WHERE seq = ?4 RETURNING {COLUMNS}"
                ))
                .map_err(failed)?;
            let mut claims = Vec::with_capacity(candidates.len());
            for (seq, previous_owner) in candidates {
                let row = lease
                    .query_row(
                        params![request.owner, request.token, request.lease_until_ms, seq],
                        read_row,
                    )
                    .map_err(failed)?;
                claims.push(Claim {
                    entry: row.into_entry()?,
                    token: request.token.clone(),
                    taken_over_from: previous_owner,
                });
            }
            Ok(claims)
        })
    }

    fn record(
        &self,
        request_id: String,
        token: String,
        settlement: Settlement,
        now_ms: i64,
    ) -> StoreFuture<'_, bool> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "recording an outcome", &e);
            let changed = match (&settlement, settlement.columns()) {
                (
                    Settlement::Retry {
                        at_ms,
                        delay_ms,
                        error,
                    },
                    _,
                ) => connection
                    .prepare_cached(
                        "UPDATE outbox SET next_attempt_at_ms = ?1, retry_delay_ms = ?2, \
                         last_error = ?3, lease_owner = NULL, lease_until_ms = NULL \
                         WHERE request_id = ?4 AND state = 'pending' AND lease_token = ?5",
                    )
                    .and_then(|mut s| {
                        s.execute(params![at_ms, delay_ms, error, request_id, token])
                    }),
                (_, Some(c)) => connection
                    .prepare_cached(
                        "UPDATE outbox SET state = ?1, settled_at_ms = ?2, balance = ?3, \
                         outcome_kind = ?4, outcome_status = ?5, outcome_message = ?6, \
                         lease_owner = NULL, lease_until_ms = NULL \
                         WHERE request_id = ?7 AND state = 'pending' AND lease_token = ?8",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            c.state, now_ms, c.balance, c.kind, c.status, c.message, request_id,
                            token
                        ])
                    }),
                (_, None) => Ok(0),
            }
            .map_err(failed)?;
            Ok(changed == 1)
        })
    }

    fn get(&self, request_id: String) -> StoreFuture<'_, Option<Entry>> {
        self.run(move |connection, location| {
            connection
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM outbox WHERE request_id = ?1"
                ))
                .and_then(|mut s| s.query_row([&request_id], read_row).optional())
                .map_err(|e| error(location, "reading an entry", &e))?
                .map(Row::into_entry)
                .transpose()
        })
    }

    fn list(&self, query: Query) -> StoreFuture<'_, Vec<Entry>> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "listing entries", &e);
            let sql = format!(
                "SELECT {COLUMNS} FROM outbox WHERE {} AND (?1 IS NULL OR uid = ?1) \
                 AND seq > ?2 ORDER BY seq LIMIT ?3",
                query.state.condition()
            );
            let mut statement = connection.prepare_cached(&sql).map_err(failed)?;
            let rows = statement
                .query_map(
                    params![
                        query.open_id.as_ref().map(|u| u.as_str()),
                        i64::try_from(query.after).unwrap_or(i64::MAX),
                        query.limit
                    ],
                    read_row,
                )
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(failed)?;
            rows.into_iter().map(Row::into_entry).collect()
        })
    }

    fn counts(&self, now_ms: i64) -> StoreFuture<'_, Counts> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "counting entries", &e);
            let sql = COUNTS.replace("{now}", "?1").replace("{table}", "outbox");
            let mut statement = connection.prepare_cached(&sql).map_err(failed)?;
            let rows = statement
                .query_map([now_ms], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, bool>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, Option<i64>>(3)?,
                        row.get::<_, Option<i64>>(4)?,
                    ))
                })
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(failed)?;
            let mut counts = Counts::default();
            for (state, leased, n, oldest, next) in rows {
                add_counts_row(&mut counts, &state, leased, n, oldest, next);
            }
            Ok(counts)
        })
    }

    fn resolve(&self, resolve: Resolve) -> StoreFuture<'_, ()> {
        self.run(move |connection, location| {
            let failed = |e: rusqlite::Error| error(location, "resolving an entry", &e);
            let found: Option<(String, Option<String>)> = connection
                .prepare_cached("SELECT state, resolution FROM outbox WHERE request_id = ?1")
                .and_then(|mut s| {
                    s.query_row([&resolve.request_id], |row| Ok((row.get(0)?, row.get(1)?)))
                        .optional()
                })
                .map_err(failed)?;
            crate::store::check_resolvable(&resolve, found)?;
            let reissued_as = resolve
                .reissue
                .as_ref()
                .map(|change| change.request_id().to_string());
            connection
                .prepare_cached(
                    "UPDATE outbox SET resolution = ?1, resolved_at_ms = ?2, \
                     resolution_note = ?3, reissued_as = ?4 \
                     WHERE request_id = ?5 AND state = 'reconcile' AND resolution IS NULL",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        resolve.decision.name(),
                        resolve.at_ms,
                        resolve.note,
                        reissued_as,
                        resolve.request_id
                    ])
                })
                .map_err(failed)?;
            if let Some(change) = &resolve.reissue {
                let json = change_json(change)?;
                let added = connection
                    .prepare_cached(
                        "INSERT INTO outbox (request_id, uid, endpoint, change, state, attempts, \
                         enqueued_at_ms, next_attempt_at_ms, reissue_of) \
                         VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, 0, ?6) \
                         ON CONFLICT (request_id) DO NOTHING",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            change.request_id().as_str(),
                            change.uid().as_str(),
                            change.endpoint(),
                            json,
                            resolve.at_ms,
                            resolve.request_id
                        ])
                    })
                    .map_err(failed)?;
                if added != 1 {
                    return Err(OutboxError::IdConflict {
                        request_id: change.request_id().clone(),
                    });
                }
            }
            Ok(())
        })
    }

    fn prune(&self, before_ms: i64, batch: u32) -> StoreFuture<'_, u64> {
        self.run(move |connection, location| {
            connection
                .prepare_cached(PRUNE)
                .and_then(|mut s| s.execute(params![before_ms, batch]))
                .map(|n| n as u64)
                .map_err(|e| error(location, "pruning settled entries", &e))
        })
    }

    fn release(&self, owner: String) -> StoreFuture<'_, u64> {
        self.run(move |connection, location| {
            connection
                .prepare_cached(
                    "UPDATE outbox SET lease_owner = NULL, lease_until_ms = NULL \
                     WHERE state = 'pending' AND lease_owner = ?1",
                )
                .and_then(|mut s| s.execute([owner]))
                .map(|n| n as u64)
                .map_err(|e| error(location, "releasing leases", &e))
        })
    }
}

/// Brings back the schedules a clock ahead of this one wrote: an entry whose retry was
/// scheduled more than a second after now (its time minus its delay; the second leaves
/// alone what clocks a few milliseconds apart write) is due now; any other is due no later
/// than `?2` (now plus the longest backoff).
const CLAMP_SCHEDULES: &str = "UPDATE outbox SET next_attempt_at_ms = CASE \
    WHEN next_attempt_at_ms - coalesce(retry_delay_ms, next_attempt_at_ms) > ?1 + 1000 \
    THEN ?1 ELSE ?2 END \
    WHERE state = 'pending' AND next_attempt_at_ms > ?1 \
    AND (next_attempt_at_ms - coalesce(retry_delay_ms, next_attempt_at_ms) > ?1 + 1000 \
         OR next_attempt_at_ms > ?2)";

/// Deletes a batch of entries settled before `?1`: applied, refused, or resolved; never one
/// pending or needing reconciliation.
const PRUNE: &str = "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox \
    WHERE (state IN ('applied', 'refused') AND settled_at_ms < ?1) \
    OR (state = 'reconcile' AND resolution IS NOT NULL AND resolved_at_ms < ?1) \
    ORDER BY seq LIMIT ?2)";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: row.get(0)?,
        request_id: row.get(1)?,
        change: row.get(2)?,
        state: row.get(3)?,
        attempts: row.get(4)?,
        enqueued_at_ms: row.get(5)?,
        next_attempt_at_ms: row.get(6)?,
        lease_owner: row.get(7)?,
        lease_until_ms: row.get(8)?,
        last_error: row.get(9)?,
        settled_at_ms: row.get(10)?,
        balance: row.get(11)?,
        outcome_kind: row.get(12)?,
        outcome_status: row.get(13)?,
        outcome_message: row.get(14)?,
        resolution: row.get(15)?,
        resolved_at_ms: row.get(16)?,
        resolution_note: row.get(17)?,
        reissued_as: row.get(18)?,
        reissue_of: row.get(19)?,
    })
}
