//! Connecting: the builder, the connection pool, and what names the store in messages.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::queries::Sql;
use super::{DEFAULT_POSTGRES_SCHEMA, Inner, PostgresStore};
use crate::error::OutboxError;

/// Connections kept unless configured otherwise.
const DEFAULT_CONNECTIONS: usize = 4;

/// How long opening a connection may take unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an operation waits for a free connection of the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

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
    /// A builder for `url` with the default settings.
    pub(super) fn new(url: String) -> Self {
        Self {
            url,
            schema: DEFAULT_POSTGRES_SCHEMA.to_owned(),
            connections: DEFAULT_CONNECTIONS,
            application_name: None,
        }
    }

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
