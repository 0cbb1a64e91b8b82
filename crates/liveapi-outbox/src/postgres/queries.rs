//! The store's operations: the statements, with the table's name in them, and each
//! operation run on a connection of the pool.

use liveapi::model::linkv::PendingChange;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, ToStatement};

use super::{PostgresStore, error};
use crate::entry::{Counts, Enqueued, Entry, Query, StateFilter};
use crate::error::OutboxError;
use crate::store::{
    COLUMNS, COUNTS, Claim, ClaimRequest, Resolve, Row, Settlement, Store, StoreFuture,
    add_counts_row, change_json, check_resolvable, same_change, sealed,
};

/// The statements, with the table's name in them.
pub(super) struct Sql {
    pub(super) insert: String,
    pub(super) select_change: String,
    claim: String,
    clamp_schedules: String,
    clamp_leases: String,
    retry: String,
    settle: String,
    token_of: String,
    get: String,
    list: Vec<(StateFilter, String)>,
    counts: String,
    resolvable: String,
    resolve: String,
    reissue: String,
    prune: String,
    release: String,
}

impl Sql {
    pub(super) fn new(table: &str) -> Self {
        let prefixed: Vec<String> = COLUMNS.split(", ").map(|c| format!("o.{c}")).collect();
        let prefixed = prefixed.join(", ");
        Self {
            insert: format!(
                "INSERT INTO {table} (request_id, uid, endpoint, change, state, attempts, \
                 enqueued_at_ms, next_attempt_at_ms) \
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, 0) \
                 ON CONFLICT (request_id) DO NOTHING"
            ),
            select_change: format!("SELECT change FROM {table} WHERE request_id = $1"),
            claim: format!(
                "WITH due AS ( \
                   SELECT seq, lease_owner AS previous_owner FROM {table} \
                   WHERE state = 'pending' AND next_attempt_at_ms <= $1 \
                   AND (lease_until_ms IS NULL OR lease_until_ms <= $2) \
                   AND ($3::text IS NULL OR request_id = $3) \
                   ORDER BY next_attempt_at_ms, seq LIMIT $4 \
                   FOR UPDATE SKIP LOCKED) \
                 UPDATE {table} AS o SET lease_owner = $5, lease_token = $6, \
                   lease_until_ms = $7, attempts = o.attempts + 1 \
                 FROM due WHERE o.seq = due.seq \
                 RETURNING {prefixed}, due.previous_owner"
            ),
            // As SQLite's `CLAMP_SCHEDULES`: a retry scheduled more than a second after now
            // is due now; nothing is due later than now plus the longest backoff.
            clamp_schedules: format!(
                "UPDATE {table} SET next_attempt_at_ms = CASE \
                   WHEN next_attempt_at_ms - coalesce(retry_delay_ms, next_attempt_at_ms) \
                     > $1::bigint + 1000 \
                   THEN $1 ELSE $2 END \
                 WHERE state = 'pending' AND next_attempt_at_ms > $1 \
                 AND (next_attempt_at_ms - coalesce(retry_delay_ms, next_attempt_at_ms) \
                     > $1::bigint + 1000 \
                      OR next_attempt_at_ms > $2)"
            ),
            clamp_leases: format!(
                "UPDATE {table} SET lease_until_ms = $1 \
                 WHERE state = 'pending' AND lease_until_ms > $1"
            ),
            retry: format!(
                "UPDATE {table} SET next_attempt_at_ms = $1, retry_delay_ms = $2, \
                 last_error = $3, lease_owner = NULL, lease_until_ms = NULL \
                 WHERE request_id = $4 AND state = 'pending' AND lease_token = $5"
            ),
            settle: format!(
                "UPDATE {table} SET state = $1, settled_at_ms = $2, balance = $3, \
                 outcome_kind = $4, outcome_status = $5, outcome_message = $6, \
                 lease_owner = NULL, lease_until_ms = NULL \
                 WHERE request_id = $7 AND state = 'pending' AND lease_token = $8"
            ),
            token_of: format!("SELECT state, lease_token FROM {table} WHERE request_id = $1"),
            get: format!("SELECT {COLUMNS} FROM {table} WHERE request_id = $1"),
            list: StateFilter::ALL
                .into_iter()
                .map(|filter| {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM {table} WHERE {} \
                         AND ($1::text IS NULL OR uid = $1) AND seq > $2 \
                         ORDER BY seq LIMIT $3",
                        filter.condition()
                    );
                    (filter, sql)
                })
                .collect(),
            counts: COUNTS.replace("{now}", "$1").replace("{table}", table),
            resolvable: format!(
                "SELECT state, resolution FROM {table} WHERE request_id = $1 FOR UPDATE"
            ),
            resolve: format!(
                "UPDATE {table} SET resolution = $1, resolved_at_ms = $2, resolution_note = $3, \
                 reissued_as = $4 \
                 WHERE request_id = $5 AND state = 'reconcile' AND resolution IS NULL"
            ),
            reissue: format!(
                "INSERT INTO {table} (request_id, uid, endpoint, change, state, attempts, \
                 enqueued_at_ms, next_attempt_at_ms, reissue_of) \
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, 0, $6) \
                 ON CONFLICT (request_id) DO NOTHING"
            ),
            prune: format!(
                "DELETE FROM {table} WHERE seq IN (SELECT seq FROM {table} \
                 WHERE (state IN ('applied', 'refused') AND settled_at_ms < $1) \
                 OR (state = 'reconcile' AND resolution IS NOT NULL AND resolved_at_ms < $1) \
                 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)"
            ),
            release: format!(
                "UPDATE {table} SET lease_owner = NULL, lease_until_ms = NULL \
                 WHERE state = 'pending' AND lease_owner = $1"
            ),
        }
    }

    fn list(&self, filter: StateFilter) -> &str {
        self.list
            .iter()
            .find(|(f, _)| *f == filter)
            .map_or(&self.list[0].1, |(_, sql)| sql)
    }
}
impl PostgresStore {
    /// Runs `operation` once, and once more on a fresh connection if the first met a lost
    /// one: for operations that give the same result when repeated.
    async fn repeatable<T, F, Fut>(&self, mut operation: F) -> Result<T, OutboxError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, OutboxError>>,
    {
        match operation().await {
            // A lost connection only: a lock or a timeout would only be waited for again.
            Err(e) if e.fault() == Some(crate::error::Fault::ConnectionLost) => operation().await,
            result => result,
        }
    }

    async fn try_enqueue(
        &self,
        change: &PendingChange,
        now_ms: i64,
    ) -> Result<Enqueued, OutboxError> {
        let client = self.client().await?;
        let insert_statement = self.statement(&client, &self.inner.sql.insert).await?;
        let select = self
            .statement(&client, &self.inner.sql.select_change)
            .await?;
        insert(
            &**client,
            &insert_statement,
            &select,
            change,
            now_ms,
            &self.inner.location,
        )
        .await
    }

    async fn try_claim(&self, request: &ClaimRequest) -> Result<Vec<Claim>, OutboxError> {
        let location = &self.inner.location;
        let client = self.client().await?;
        // Schedules and leases written by a clock ahead of this one are brought back.
        let clamp = self
            .statement(&client, &self.inner.sql.clamp_schedules)
            .await?;
        client
            .execute(&clamp, &[&request.now_ms, &request.latest_due_ms])
            .await
            .map_err(|e| error(location, "claiming", e))?;
        let clamp = self
            .statement(&client, &self.inner.sql.clamp_leases)
            .await?;
        client
            .execute(&clamp, &[&request.latest_lease_ms])
            .await
            .map_err(|e| error(location, "claiming", e))?;
        let statement = self.statement(&client, &self.inner.sql.claim).await?;
        let limit = i64::from(request.limit);
        let rows = client
            .query(
                &statement,
                &[
                    &request.due_by_ms,
                    &request.now_ms,
                    &request.only,
                    &limit,
                    &request.owner,
                    &request.token,
                    &request.lease_until_ms,
                ],
            )
            .await
            .map_err(|e| error(location, "claiming", e))?;
        let mut claims = Vec::with_capacity(rows.len());
        for row in rows {
            let previous_owner: Option<String> = row
                .try_get(20)
                .map_err(|e| error(location, "claiming", e))?;
            claims.push(Claim {
                entry: read_row(&row, location)?.into_entry()?,
                token: request.token.clone(),
                taken_over_from: previous_owner,
            });
        }
        claims.sort_by_key(|c| c.entry.seq);
        Ok(claims)
    }

    async fn try_record(
        &self,
        request_id: &str,
        token: &str,
        settlement: &Settlement,
        now_ms: i64,
    ) -> Result<bool, OutboxError> {
        let location = &self.inner.location;
        let failed = |e| error(location, "recording an outcome", e);
        let client = self.client().await?;
        let changed = match (settlement, settlement.columns()) {
            (
                Settlement::Retry {
                    at_ms,
                    delay_ms,
                    error,
                },
                _,
            ) => {
                let statement = self.statement(&client, &self.inner.sql.retry).await?;
                client
                    .execute(&statement, &[at_ms, delay_ms, error, &request_id, &token])
                    .await
                    .map_err(failed)?
            }
            (_, Some(c)) => {
                let statement = self.statement(&client, &self.inner.sql.settle).await?;
                client
                    .execute(
                        &statement,
                        &[
                            &c.state,
                            &now_ms,
                            &c.balance,
                            &c.kind,
                            &c.status,
                            &c.message,
                            &request_id,
                            &token,
                        ],
                    )
                    .await
                    .map_err(failed)?
            }
            (_, None) => 0,
        };
        if changed == 1 {
            return Ok(true);
        }
        // Repeated after a lost connection, the first try may have been the one that wrote.
        let statement = self.statement(&client, &self.inner.sql.token_of).await?;
        let row = client
            .query_opt(&statement, &[&request_id])
            .await
            .map_err(failed)?;
        Ok(row.is_some_and(|row| {
            let state: Option<String> = row.get(0);
            let stored: Option<String> = row.get(1);
            state.as_deref() != Some("pending") && stored.as_deref() == Some(token)
        }))
    }

    async fn try_get(&self, request_id: &str) -> Result<Option<Entry>, OutboxError> {
        let location = &self.inner.location;
        let client = self.client().await?;
        let statement = self.statement(&client, &self.inner.sql.get).await?;
        let row = client
            .query_opt(&statement, &[&request_id])
            .await
            .map_err(|e| error(location, "reading an entry", e))?;
        row.map(|row| read_row(&row, location)?.into_entry())
            .transpose()
    }

    async fn try_list(&self, query: &Query) -> Result<Vec<Entry>, OutboxError> {
        let location = &self.inner.location;
        let client = self.client().await?;
        let statement = self
            .statement(&client, self.inner.sql.list(query.state))
            .await?;
        let uid = query.open_id.as_ref().map(|u| u.as_str());
        let after = i64::try_from(query.after).unwrap_or(i64::MAX);
        let limit = i64::from(query.limit);
        let rows = client
            .query(&statement, &[&uid, &after, &limit])
            .await
            .map_err(|e| error(location, "listing entries", e))?;
        rows.iter()
            .map(|row| read_row(row, location)?.into_entry())
            .collect()
    }

    async fn try_counts(&self, now_ms: i64) -> Result<Counts, OutboxError> {
        let location = &self.inner.location;
        let client = self.client().await?;
        let statement = self.statement(&client, &self.inner.sql.counts).await?;
        let rows = client
            .query(&statement, &[&now_ms])
            .await
            .map_err(|e| error(location, "counting entries", e))?;
        let mut counts = Counts::default();
        for row in rows {
            add_counts_row(
                &mut counts,
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                row.get(4),
            );
        }
        Ok(counts)
    }

    async fn try_resolve(&self, resolve: &Resolve) -> Result<(), OutboxError> {
        let location = &self.inner.location;
        let failed = |e| error(location, "resolving an entry", e);
        let sql = &self.inner.sql;
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(failed)?;
        let found = transaction
            .query_opt(sql.resolvable.as_str(), &[&resolve.request_id])
            .await
            .map_err(failed)?
            .map(|row| (row.get::<_, String>(0), row.get::<_, Option<String>>(1)));
        check_resolvable(resolve, found)?;
        let reissued_as = resolve
            .reissue
            .as_ref()
            .map(|change| change.request_id().to_string());
        transaction
            .execute(
                sql.resolve.as_str(),
                &[
                    &resolve.decision.name(),
                    &resolve.at_ms,
                    &resolve.note,
                    &reissued_as,
                    &resolve.request_id,
                ],
            )
            .await
            .map_err(failed)?;
        if let Some(change) = &resolve.reissue {
            let json = change_json(change)?;
            let added = transaction
                .execute(
                    sql.reissue.as_str(),
                    &[
                        &change.request_id().as_str(),
                        &change.uid().as_str(),
                        &change.endpoint(),
                        &json,
                        &resolve.at_ms,
                        &resolve.request_id,
                    ],
                )
                .await
                .map_err(failed)?;
            if added != 1 {
                return Err(OutboxError::IdConflict {
                    request_id: change.request_id().clone(),
                });
            }
        }
        transaction.commit().await.map_err(failed)
    }

    async fn try_prune(&self, before_ms: i64, batch: u32) -> Result<u64, OutboxError> {
        let client = self.client().await?;
        let statement = self.statement(&client, &self.inner.sql.prune).await?;
        client
            .execute(&statement, &[&before_ms, &i64::from(batch)])
            .await
            .map_err(|e| error(&self.inner.location, "pruning settled entries", e))
    }

    async fn try_release(&self, owner: &str) -> Result<u64, OutboxError> {
        let client = self.client().await?;
        let statement = self.statement(&client, &self.inner.sql.release).await?;
        client
            .execute(&statement, &[&owner])
            .await
            .map_err(|e| error(&self.inner.location, "releasing leases", e))
    }
}

impl Store for PostgresStore {}

#[allow(private_interfaces)] // `Backend` is sealed: see its definition.
impl sealed::Backend for PostgresStore {
    fn location(&self) -> &str {
        &self.inner.location
    }

    fn enqueue(&self, change: PendingChange, now_ms: i64) -> StoreFuture<'_, Enqueued> {
        Box::pin(async move {
            let change = &change;
            self.repeatable(|| self.try_enqueue(change, now_ms)).await
        })
    }

    fn claim(&self, request: ClaimRequest) -> StoreFuture<'_, Vec<Claim>> {
        // Not repeated: a claim whose answer was lost holds its entries until the lease
        // expires, and a second claim would not find them.
        Box::pin(async move { self.try_claim(&request).await })
    }

    fn record(
        &self,
        request_id: String,
        token: String,
        settlement: Settlement,
        now_ms: i64,
    ) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let (request_id, token, settlement) = (&request_id, &token, &settlement);
            self.repeatable(|| self.try_record(request_id, token, settlement, now_ms))
                .await
        })
    }

    fn get(&self, request_id: String) -> StoreFuture<'_, Option<Entry>> {
        Box::pin(async move {
            let request_id = &request_id;
            self.repeatable(|| self.try_get(request_id)).await
        })
    }

    fn list(&self, query: Query) -> StoreFuture<'_, Vec<Entry>> {
        Box::pin(async move {
            let query = &query;
            self.repeatable(|| self.try_list(query)).await
        })
    }

    fn counts(&self, now_ms: i64) -> StoreFuture<'_, Counts> {
        Box::pin(async move { self.repeatable(|| self.try_counts(now_ms)).await })
    }

    fn resolve(&self, resolve: Resolve) -> StoreFuture<'_, ()> {
        // Not repeated: a transaction whose commit answer was lost may have committed; the
        // person sees the entry resolved when trying again.
        Box::pin(async move { self.try_resolve(&resolve).await })
    }

    fn prune(&self, before_ms: i64, batch: u32) -> StoreFuture<'_, u64> {
        Box::pin(async move { self.repeatable(|| self.try_prune(before_ms, batch)).await })
    }

    fn release(&self, owner: String) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let owner = &owner;
            self.repeatable(|| self.try_release(owner)).await
        })
    }
}

/// Inserts `change` unless its request id is there; then checks that the one there is the
/// same change.
pub(super) async fn insert<C, S1, S2>(
    client: &C,
    insert: &S1,
    select: &S2,
    change: &PendingChange,
    now_ms: i64,
    location: &str,
) -> Result<Enqueued, OutboxError>
where
    C: GenericClient + Sync,
    S1: ToStatement + Sync + Send + ?Sized,
    S2: ToStatement + Sync + Send + ?Sized,
{
    let failed = |e| error(location, "enqueueing", e);
    let json = change_json(change)?;
    let request_id = change.request_id().as_str();
    let params: [&(dyn ToSql + Sync); 5] = [
        &request_id,
        &change.uid().as_str(),
        &change.endpoint(),
        &json,
        &now_ms,
    ];
    if client.execute(insert, &params).await.map_err(failed)? == 1 {
        return Ok(Enqueued::Added);
    }
    let stored: String = client
        .query_one(select, &[&request_id])
        .await
        .map_err(failed)?
        .get(0);
    if same_change(&stored, change, request_id)? {
        Ok(Enqueued::AlreadyQueued)
    } else {
        Err(OutboxError::IdConflict {
            request_id: change.request_id().clone(),
        })
    }
}

fn read_row(row: &tokio_postgres::Row, location: &str) -> Result<Row, OutboxError> {
    let read = || -> Result<Row, tokio_postgres::Error> {
        Ok(Row {
            seq: row.try_get(0)?,
            request_id: row.try_get(1)?,
            change: row.try_get(2)?,
            state: row.try_get(3)?,
            attempts: row.try_get(4)?,
            enqueued_at_ms: row.try_get(5)?,
            next_attempt_at_ms: row.try_get(6)?,
            lease_owner: row.try_get(7)?,
            lease_until_ms: row.try_get(8)?,
            last_error: row.try_get(9)?,
            settled_at_ms: row.try_get(10)?,
            balance: row.try_get(11)?,
            outcome_kind: row.try_get(12)?,
            outcome_status: row.try_get(13)?,
            outcome_message: row.try_get(14)?,
            resolution: row.try_get(15)?,
            resolved_at_ms: row.try_get(16)?,
            resolution_note: row.try_get(17)?,
            reissued_as: row.try_get(18)?,
            reissue_of: row.try_get(19)?,
        })
    };
    read().map_err(|e| error(location, "reading a row", e))
}
