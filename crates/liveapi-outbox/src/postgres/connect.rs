//! Connecting: the builder, the connection pool, TLS, the timeouts every session gets, and
//! what names the store in messages.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::queries::Sql;
use super::settings::{Settings, SslMode};
use super::{DEFAULT_POSTGRES_SCHEMA, Inner, PostgresStore};
use crate::error::{Fault, OutboxError};
use crate::location::Location;

/// Connections kept unless configured otherwise.
const DEFAULT_CONNECTIONS: usize = 4;

/// How long opening a connection may take unless the location or the builder says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one statement may run unless configured otherwise (`statement_timeout`): every
/// statement of the outbox touches a few rows by index.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a statement waits for a lock unless configured otherwise (`lock_timeout`): a
/// table locked by a migration or a hand-run `LOCK TABLE` gives a typed error, not a hang.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an operation waits for a free connection of the pool.
const POOL_WAIT: Duration = Duration::from_secs(5);

/// Configures a [`PostgresStore`].
#[must_use = "a builder does nothing until `connect` is called"]
pub struct PostgresStoreBuilder {
    location: Result<Location, OutboxError>,
    schema: String,
    connections: usize,
    application_name: Option<String>,
    ssl_mode: Option<SslMode>,
    root_cert: Option<PathBuf>,
    connect_timeout: Option<Duration>,
    statement_timeout: Duration,
    lock_timeout: Duration,
}

impl fmt::Debug for PostgresStoreBuilder {
    /// The location is shown with its password replaced.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("location", &self.location.as_ref().ok())
            .field("schema", &self.schema)
            .field("connections", &self.connections)
            .field("application_name", &self.application_name)
            .field("ssl_mode", &self.ssl_mode)
            .field("root_cert", &self.root_cert)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

impl PostgresStoreBuilder {
    /// A builder for `location` with the default settings.
    pub(super) fn new(location: &str) -> Self {
        let location = Location::parse(location).and_then(|l| {
            if l.is_postgres() {
                Ok(l)
            } else {
                Err(OutboxError::BadLocation {
                    location: l.redacted().to_owned(),
                    detail:
                        "not a PostgreSQL location: a postgres:// URL or a libpq key=value string"
                            .to_owned(),
                })
            }
        });
        Self {
            location,
            schema: DEFAULT_POSTGRES_SCHEMA.to_owned(),
            connections: DEFAULT_CONNECTIONS,
            application_name: None,
            ssl_mode: None,
            root_cert: None,
            connect_timeout: None,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
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
    /// `pg_stat_activity`); default: the location's, else `liveapi-outbox`.
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = Some(name.into());
        self
    }

    /// How the connections use TLS, over the location's `sslmode` (default: the location's,
    /// else [`SslMode::Disable`]). The certificate is always verified when TLS is used.
    pub fn ssl_mode(mut self, mode: SslMode) -> Self {
        self.ssl_mode = Some(mode);
        self
    }

    /// A PEM file of the CA certificates to trust instead of the Mozilla roots, over the
    /// location's `sslrootcert`: the CA of a provider whose certificates are not signed by a
    /// public CA (many managed PostgreSQL services publish theirs).
    pub fn ssl_root_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.root_cert = Some(path.into());
        self
    }

    /// How long opening a connection may take, over the location's `connect_timeout`
    /// (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout.max(Duration::from_millis(1)));
        self
    }

    /// How long one statement may run, the session's `statement_timeout` (default
    /// [`DEFAULT_STATEMENT_TIMEOUT`]).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a statement waits for a lock, the session's `lock_timeout` (default
    /// [`DEFAULT_LOCK_TIMEOUT`]).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Connects, creates the schema and table if missing and migrates them.
    ///
    /// # Errors
    /// [`OutboxError::BadLocation`] for a location that cannot be read,
    /// [`OutboxError::Config`] for a schema name that is not a plain identifier or a CA file
    /// that cannot be read; the store's errors when the server cannot be reached or refuses
    /// (their [`Fault`] names the cause: authentication, a database that does not exist,
    /// TLS…); [`OutboxError::SchemaTooNew`] for an outbox of a newer version and
    /// [`OutboxError::Foreign`] for a table of another program named `outbox` in the schema
    /// (nothing changed in either case).
    pub async fn connect(self) -> Result<PostgresStore, OutboxError> {
        let store = self.pool(true)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to read only: nothing is created or migrated, and every session is read-only
    /// (`default_transaction_read_only`). For the operator's commands that only look.
    ///
    /// # Errors
    /// As [`connect`](Self::connect), and a [`Fault::CannotOpen`] store error when the schema
    /// holds no outbox.
    pub async fn connect_read_only(self) -> Result<PostgresStore, OutboxError> {
        let store = self.pool(false)?;
        let version = store.read_version().await?;
        if version < super::migrate::SCHEMA_VERSION {
            // An outbox of the previous version, read through a view of the newer columns.
            let inner = &store.inner;
            let table = format!(
                "(SELECT *, {} FROM {}.outbox) AS outbox",
                crate::store::V2_COLUMNS_AS_NULL,
                inner.schema
            );
            return Ok(PostgresStore {
                inner: Arc::new(Inner {
                    pool: inner.pool.clone(),
                    sql: Sql::new(&table),
                    schema: inner.schema.clone(),
                    location: inner.location.clone(),
                    read_only: true,
                }),
            });
        }
        Ok(store)
    }

    fn pool(self, writable: bool) -> Result<PostgresStore, OutboxError> {
        let location = self.location?;
        let mut settings = Settings::read(&location)?;
        check_schema(&self.schema)?;
        let config = &mut settings.config;
        if let Some(name) = &self.application_name {
            config.application_name(name);
        } else if config.get_application_name().is_none() {
            config.application_name("liveapi-outbox");
        }
        let connect_timeout = self
            .connect_timeout
            .or_else(|| config.get_connect_timeout().copied())
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        config.connect_timeout(connect_timeout);
        // Every session bounded: a statement, a lock wait, a transaction left idle.
        let mut options = config.get_options().unwrap_or_default().to_owned();
        options.push_str(&format!(
            " -c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout={}",
            self.statement_timeout.as_millis(),
            self.lock_timeout.as_millis(),
            (self.statement_timeout * 4).as_millis(),
        ));
        if !writable {
            options.push_str(" -c default_transaction_read_only=on");
        }
        config.options(options.trim());
        let ssl_mode = self.ssl_mode.or(settings.ssl_mode).unwrap_or_default();
        super::settings::apply(config, ssl_mode);
        let root_cert = self.root_cert.or(settings.root_cert);
        let shown = location.redacted().to_owned();
        let described = format!("{shown} (schema {})", self.schema);
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if ssl_mode.uses_tls() {
            let tls = super::tls::connector(root_cert.as_deref(), &described)?;
            Manager::from_config(settings.config, tls, manager_config)
        } else {
            Manager::from_config(settings.config, NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(self.connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(connect_timeout + Duration::from_secs(1)))
            .recycle_timeout(Some(connect_timeout))
            .build()
            .map_err(|e| OutboxError::Config(format!("the connection pool: {e}")))?;
        let table = format!("{}.outbox", self.schema);
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                pool,
                sql: Sql::new(&table),
                schema: self.schema,
                location: described,
                read_only: !writable,
            }),
        })
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

/// A CA file that cannot be used.
pub(super) fn bad_root_cert(location: &str, detail: String) -> OutboxError {
    OutboxError::of_fault(location, Fault::Tls, detail, None)
}
