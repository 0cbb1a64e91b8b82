//! Creating and migrating the outbox's schema, once however many instances start together,
//! and refusing a newer or foreign one untouched.

use tokio_postgres::GenericClient;

use super::{PostgresStore, error};
use crate::error::{Fault, OutboxError};

/// The newest schema version this crate writes and reads.
pub(super) const SCHEMA_VERSION: i64 = 2;

/// Migrations: the statements taking the schema from version `n - 1` to `n` are at `n - 1`,
/// with `{table}` standing for the schema-qualified table.
const MIGRATIONS: &[&str] = &[
    "
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
",
    "
    ALTER TABLE {table} ADD COLUMN retry_delay_ms BIGINT;
    ALTER TABLE {table} ADD COLUMN resolution TEXT;
    ALTER TABLE {table} ADD COLUMN resolved_at_ms BIGINT;
    ALTER TABLE {table} ADD COLUMN resolution_note TEXT;
    ALTER TABLE {table} ADD COLUMN reissued_as TEXT;
    ALTER TABLE {table} ADD COLUMN reissue_of TEXT;
",
];

impl PostgresStore {
    /// Creates or migrates the schema, under an advisory lock so that instances starting
    /// together migrate once; checks first, without writing, that the schema is not newer.
    ///
    /// The lock is the session's, taken before the migration's transaction begins: a
    /// transaction that began before another instance's migration committed could still see
    /// the catalog as it was. The connection is taken out of the pool and closed afterwards,
    /// which releases the lock whatever happened.
    pub(super) async fn migrate(&self) -> Result<(), OutboxError> {
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
}

impl PostgresStore {
    /// Checks, without writing, that the schema holds an outbox this version reads; answers
    /// its version.
    pub(super) async fn read_version(&self) -> Result<i64, OutboxError> {
        let location = &self.inner.location;
        let client = self.client().await?;
        match version(&**client, &self.inner.schema)
            .await
            .map_err(|e| error(location, "reading the schema's version", e))?
        {
            None | Some(0) => Err(OutboxError::of_fault(
                location,
                Fault::CannotOpen,
                "the schema holds no outbox (a command that only reads creates none)",
                None,
            )),
            Some(found) if found > SCHEMA_VERSION => Err(OutboxError::SchemaTooNew {
                location: location.clone(),
                found,
                supported: SCHEMA_VERSION,
            }),
            Some(found) => Ok(found),
        }
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
