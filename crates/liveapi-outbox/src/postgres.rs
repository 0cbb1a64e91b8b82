//! The store for fleets: one PostgreSQL table shared by every instance.
//!
//! Claims lock the rows they pick with `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers
//! never pick the same entry; the lease written with the claim keeps others off it after the
//! claim's transaction has ended. Every operation is one statement (a transaction of its
//! own), and the pool keeps several connections, so concurrent enqueues commit in parallel
//! and PostgreSQL flushes their commits together.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use liveapi::model::linkv::PendingChange;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, NoTls, ToStatement, Transaction};

use crate::entry::{Counts, Enqueued, Entry, Query, StateFilter};
use crate::error::OutboxError;
use crate::store::{
    COLUMNS, Claim, ClaimRequest, Row, Settlement, Store, StoreFuture, add_count, change_json,
    same_change, sealed,
};

/// The schema the outbox's tables live in unless configured otherwise.
pub const DEFAULT_POSTGRES_SCHEMA: &str = "liveapi_outbox";

/// The newest schema version this crate writes and reads.
const SCHEMA_VERSION: i64 = 1;

/// Connections kept unless configured otherwise.
const DEFAULT_CONNECTIONS: usize = 4;

/// How long opening a connection may take unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an operation waits for a free connection of the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Migrations: the statements taking the schema from version `n - 1` to `n` are at `n - 1`,
/// with `{table}` standing for the schema-qualified table.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE {table} (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        uid TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        change TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'refused', 'reconcile')),
        attempts BIGINT NOT NULL DEFAULT 0,
        enqueued_at_ms BIGINT NOT NULL,
        next_attempt_at_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_token TEXT,
        lease_until_ms BIGINT,
        last_error TEXT,
        settled_at_ms BIGINT,
        balance BIGINT,
        outcome_kind TEXT,
        outcome_status BIGINT,
        outcome_message TEXT
    );
    CREATE INDEX outbox_due ON {table} (next_attempt_at_ms, seq) WHERE state = 'pending';
    CREATE INDEX outbox_state ON {table} (state, seq);
    CREATE INDEX outbox_uid ON {table} (uid, seq);
"];

/// The store for fleets: a table in a PostgreSQL schema (default [`DEFAULT_POSTGRES_SCHEMA`]) that
/// many processes share, created and migrated when connecting.
///
/// Cloning is cheap; clones share the connection pool. Connections the server closes (a
/// restart, `pg_terminate_backend`) are replaced on the next use; an operation that met one
/// fails with [`OutboxError::Unavailable`] unless it could be repeated safely on a fresh
/// connection, which enqueues, outcomes and queries are.
///
/// Connections are made without TLS: reach the database over a trusted network, a Unix
/// socket or a local proxy that adds TLS. A URL asking for TLS (`sslmode=require`) fails to
/// connect, with nothing sent in the clear.
///
/// ```no_run
/// # async fn run(pending: liveapi::model::linkv::PendingChange) -> Result<(), Box<dyn std::error::Error>> {
/// use liveapi_outbox::{Outbox, PostgresStore};
///
/// let store = PostgresStore::builder("postgres://app@db.internal/payments")
///     .schema("coins")
///     .connections(8)
///     .connect()
///     .await?;
/// let outbox = Outbox::new(store.clone());
///
/// // The order row and its coin change commit together, or neither does.
/// let (mut db, connection) =
///     liveapi_outbox::tokio_postgres::connect("postgres://app@db.internal/payments", liveapi_outbox::tokio_postgres::NoTls).await?;
/// tokio::spawn(connection);
/// let transaction = db.transaction().await?;
/// transaction.execute("UPDATE orders SET state = 'paid' WHERE id = $1", &[&42_i64]).await?;
/// store.enqueue_in(&transaction, &pending).await?;
/// transaction.commit().await?;
/// outbox.wake();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    schema: String,
    location: String,
    sql: Sql,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

/// Configures a [`PostgresStore`].
#[must_use = "a builder does nothing until `connect` is called"]
pub struct PostgresStoreBuilder {
    url: String,
    schema: String,
    connections: usize,
    application_name: Option<String>,
}

impl fmt::Debug for PostgresStoreBuilder {
    /// The URL may hold a password: it is not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("schema", &self.schema)
            .field("connections", &self.connections)
            .field("application_name", &self.application_name)
            .finish_non_exhaustive()
    }
}

impl PostgresStoreBuilder {
    /// The schema of the outbox's tables (default [`DEFAULT_POSTGRES_SCHEMA`]): 1 to 63 of
    /// `a-z 0-9 _`, not starting with a digit (a plain PostgreSQL identifier, so it needs no
    /// quoting anywhere). It is created if missing.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// How many connections the pool keeps (default 4, at least 1): concurrent enqueues and
    /// outcomes use one each.
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections.max(1);
        self
    }

    /// The name the connections give the server (`application_name`, shown in
    /// `pg_stat_activity`); default: the URL's, else `liveapi-outbox`.
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = Some(name.into());
        self
    }

    /// Connects, creates the schema and table if missing and migrates them.
    ///
    /// # Errors
    /// [`OutboxError::Config`] for a URL that cannot be read or a schema name that is not a
    /// plain identifier; [`OutboxError::Unavailable`] when the server cannot be reached;
    /// [`OutboxError::SchemaTooNew`] for an outbox of a newer version and
    /// [`OutboxError::Foreign`] for a table of another program named `outbox` in the schema
    /// (nothing changed in either case).
    pub async fn connect(self) -> Result<PostgresStore, OutboxError> {
        let mut config: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| OutboxError::Config(format!("the PostgreSQL URL cannot be read: {e}")))?;
        check_schema(&self.schema)?;
        if let Some(name) = &self.application_name {
            config.application_name(name);
        } else if config.get_application_name().is_none() {
            config.application_name("liveapi-outbox");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let location = describe(&config, &self.schema);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| OutboxError::Config(format!("the connection pool: {e}")))?;
        let table = format!("{}.outbox", self.schema);
        let store = PostgresStore {
            inner: Arc::new(Inner {
                pool,
                sql: Sql::new(&table),
                schema: self.schema,
                location,
            }),
        };
        store.migrate().await?;
        Ok(store)
    }
}

/// Refuses a schema name that would need quoting.
fn check_schema(schema: &str) -> Result<(), OutboxError> {
    let mut chars = schema.chars();
    let plain = matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && schema.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(OutboxError::Config(format!(
            "the outbox's schema name `{schema}` is not 1 to 63 of a-z 0-9 _ starting with a letter or _"
        )))
    }
}

/// Host, port, database and schema: what names the store in messages. Never the user's
/// password, nor any other option of the URL.
fn describe(config: &tokio_postgres::Config, schema: &str) -> String {
    use tokio_postgres::config::Host;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{name}:{port}"),
                None => name,
            }
        })
        .collect();
    format!(
        "postgres://{}/{} (schema {schema})",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// The statements, with the table's name in them.
struct Sql {
    insert: String,
    select_change: String,
    claim: String,
    retry: String,
    settle: String,
    token_of: String,
    get: String,
    list: Vec<(StateFilter, String)>,
    counts: String,
}

impl Sql {
    fn new(table: &str) -> Self {
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
            retry: format!(
                "UPDATE {table} SET next_attempt_at_ms = $1, last_error = $2, \
                 lease_owner = NULL, lease_until_ms = NULL \
                 WHERE request_id = $3 AND state = 'pending' AND lease_token = $4"
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
            counts: format!(
                "SELECT state, coalesce(lease_until_ms > $1, false), count(*) FROM {table} \
                 GROUP BY 1, 2"
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
    /// Connects to the outbox at `url` with the default settings (schema
    /// [`DEFAULT_POSTGRES_SCHEMA`], 4 connections).
    ///
    /// # Errors
    /// As [`PostgresStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, OutboxError> {
        Self::builder(url).connect().await
    }

    /// A builder for the outbox at `url` (`postgres://user@host:port/database?options`; a
    /// password in it is never shown).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            url: url.into(),
            schema: DEFAULT_POSTGRES_SCHEMA.to_owned(),
            connections: DEFAULT_CONNECTIONS,
            application_name: None,
        }
    }

    /// The schema of the outbox's tables.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// Enqueues `change` inside the caller's own `transaction`, on the caller's connection to
    /// the same database: it commits or rolls back with the business operation (the order
    /// row). Dispatchers see it once the transaction has committed; call
    /// [`Outbox::wake`](crate::Outbox::wake) then to have this process's dispatcher send
    /// it at once.
    ///
    /// A `deadpool_postgres` transaction is one too (`&*transaction`).
    ///
    /// # Errors
    /// [`OutboxError::IdConflict`] for another change under the same request id; the
    /// database's errors, after which the transaction is to be rolled back.
    pub async fn enqueue_in(
        &self,
        transaction: &Transaction<'_>,
        change: &PendingChange,
    ) -> Result<Enqueued, OutboxError> {
        let sql = &self.inner.sql;
        let now_ms = crate::entry::to_ms(std::time::SystemTime::now());
        insert(
            transaction,
            sql.insert.as_str(),
            sql.select_change.as_str(),
            change,
            now_ms,
            &self.inner.location,
        )
        .await
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, OutboxError> {
        self.inner.pool.get().await.map_err(|e| {
            let source: Option<crate::error::Cause> = match e {
                deadpool_postgres::PoolError::Backend(e) => Some(Box::new(e)),
                _ => None,
            };
            OutboxError::unavailable(&self.inner.location, "no connection", source)
        })
    }

    async fn statement(
        &self,
        client: &deadpool_postgres::Object,
        sql: &str,
    ) -> Result<tokio_postgres::Statement, OutboxError> {
        client
            .prepare_cached(sql)
            .await
            .map_err(|e| error(&self.inner.location, "preparing a statement", e))
    }

    /// Creates or migrates the schema, under an advisory lock so that instances starting
    /// together migrate once; checks first, without writing, that the schema is not newer.
    ///
    /// The lock is the session's, taken before the migration's transaction begins: a
    /// transaction that began before another instance's migration committed could still see
    /// the catalog as it was. The connection is taken out of the pool and closed afterwards,
    /// which releases the lock whatever happened.
    async fn migrate(&self) -> Result<(), OutboxError> {
        let location = &self.inner.location;
        let schema = &self.inner.schema;
        let failed = |e| error(location, "migrating the schema", e);
        let mut client = deadpool_postgres::Object::take(self.client().await?);
        let found = version(&*client, schema).await.map_err(failed)?;
        if let Some(found) = found.filter(|v| *v > SCHEMA_VERSION) {
            return Err(OutboxError::SchemaTooNew {
                location: location.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        client
            .execute(
                "SELECT pg_advisory_lock(hashtext($1))",
                &[&format!("liveapi-outbox:{schema}")],
            )
            .await
            .map_err(failed)?;
        let transaction = client.transaction().await.map_err(failed)?;
        let found = version(&*transaction, schema).await.map_err(failed)?;
        let found = match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(OutboxError::SchemaTooNew {
                    location: location.clone(),
                    found: v,
                    supported: SCHEMA_VERSION,
                });
            }
            Some(v) => v,
            None => {
                let foreign: Option<String> = transaction
                    .query_one(
                        "SELECT to_regclass($1)::text",
                        &[&format!("{schema}.outbox")],
                    )
                    .await
                    .map_err(failed)?
                    .get(0);
                if foreign.is_some() {
                    return Err(OutboxError::Foreign {
                        location: location.clone(),
                        detail: format!(
                            "the schema {schema} has a table named outbox without the outbox's version table"
                        ),
                    });
                }
                transaction
                    .batch_execute(&format!(
                        "CREATE SCHEMA IF NOT EXISTS {schema}; \
                         CREATE TABLE {schema}.outbox_schema (version BIGINT NOT NULL); \
                         INSERT INTO {schema}.outbox_schema VALUES (0);"
                    ))
                    .await
                    .map_err(failed)?;
                0
            }
        };
        let table = format!("{schema}.outbox");
        let from = usize::try_from(found).unwrap_or(0);
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(from) {
            transaction
                .batch_execute(&sql.replace("{table}", &table))
                .await
                .map_err(failed)?;
            tracing::info!(target: "liveapi_outbox", location = %location, version = step + 1, "outbox schema migrated");
        }
        transaction
            .execute(
                &format!("UPDATE {schema}.outbox_schema SET version = $1"),
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(failed)?;
        transaction.commit().await.map_err(failed)
    }

    /// Runs `operation` once, and once more on a fresh connection if the first met a lost
    /// one: for operations that give the same result when repeated.
    async fn repeatable<T, F, Fut>(&self, mut operation: F) -> Result<T, OutboxError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, OutboxError>>,
    {
        match operation().await {
            Err(e) if e.is_retryable() => operation().await,
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
                .try_get(15)
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
            (Settlement::Retry { at_ms, error }, _) => {
                let statement = self.statement(&client, &self.inner.sql.retry).await?;
                client
                    .execute(&statement, &[at_ms, error, &request_id, &token])
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
        let uid = query.uid.as_ref().map(|u| u.as_str());
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
            add_count(&mut counts, row.get(0), row.get(1), row.get(2));
        }
        Ok(counts)
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
}

/// Inserts `change` unless its request id is there; then checks that the one there is the
/// same change.
async fn insert<C, S1, S2>(
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

/// The outbox's schema version, `None` if it has no version table.
async fn version<C: GenericClient + Sync>(
    client: &C,
    schema: &str,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let table: Option<String> = client
        .query_one(
            "SELECT to_regclass($1)::text",
            &[&format!("{schema}.outbox_schema")],
        )
        .await?
        .get(0);
    if table.is_none() {
        return Ok(None);
    }
    let row = client
        .query_one(
            &format!("SELECT coalesce(max(version), 0) FROM {schema}.outbox_schema"),
            &[],
        )
        .await?;
    Ok(Some(row.get(0)))
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
        })
    };
    read().map_err(|e| error(location, "reading a row", e))
}

/// The outbox error of a PostgreSQL failure while `doing` something: the connection or the
/// server going away is [`OutboxError::Unavailable`], anything else
/// [`OutboxError::Store`].
fn error(location: &str, doing: &str, e: tokio_postgres::Error) -> OutboxError {
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    let passing = e.is_closed()
        || io
        || e.code().is_some_and(|code| {
            code.code().starts_with("08") // connection exception
                || code.code().starts_with("57P") // admin or crash shutdown, cannot connect now
                || *code == SqlState::TOO_MANY_CONNECTIONS
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
        });
    let detail = format!("{doing}: {e}");
    if passing {
        OutboxError::unavailable(location, detail, Some(Box::new(e)))
    } else {
        OutboxError::store(location, detail, Some(Box::new(e)))
    }
}
