//! Test support (feature `test-util`): a PostgreSQL schema of its own per test.
//!
//! Tests find the server in `LIVEAPI_TEST_POSTGRES_URL`. Without it a test is skipped with a
//! notice, unless `LIVEAPI_CI=1` says that this is CI, where a missing server is a failure:
//! a Postgres test never passes by not running there.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{OutboxError, PostgresStore};

/// The variable naming the test server: `postgres://postgres@127.0.0.1:5432/test`.
pub const URL_VARIABLE: &str = "LIVEAPI_TEST_POSTGRES_URL";

/// The variable that, set to `1`, makes a missing test server a failure.
pub const CI_VARIABLE: &str = "LIVEAPI_CI";

/// A test's own PostgreSQL schema, dropped (with everything in it) when this is dropped, so
/// that tests run in parallel and leave nothing behind.
#[derive(Debug)]
pub struct TestSchema {
    url: String,
    name: String,
}

/// Why a test cannot have its schema.
#[derive(Debug, thiserror::Error)]
pub enum TestSchemaError {
    /// CI runs without a test server.
    #[error(
        "{URL_VARIABLE} is not set, and {CI_VARIABLE}=1 says this is CI, where the PostgreSQL tests must run"
    )]
    Missing,
    /// The server cannot be used.
    #[error("the PostgreSQL test server cannot be used: {0}")]
    Server(String),
}

impl TestSchema {
    /// The test server's URL: `Ok(None)` (after printing a notice) when none is configured
    /// outside CI.
    ///
    /// # Errors
    /// [`TestSchemaError::Missing`] in CI without a server.
    pub fn url_from_env() -> Result<Option<String>, TestSchemaError> {
        match std::env::var(URL_VARIABLE) {
            Ok(url) if !url.trim().is_empty() => Ok(Some(url)),
            _ if std::env::var(CI_VARIABLE).is_ok_and(|v| v == "1") => {
                Err(TestSchemaError::Missing)
            }
            _ => {
                eprintln!(
                    "notice: {URL_VARIABLE} is not set: skipping a PostgreSQL test \
                     (e.g. {URL_VARIABLE}=postgres://postgres@127.0.0.1:5432/test)"
                );
                Ok(None)
            }
        }
    }

    /// A fresh schema name for the test `label` on the server of
    /// [`url_from_env`](Self::url_from_env); nothing is created until a store connects to it.
    ///
    /// # Errors
    /// As [`url_from_env`](Self::url_from_env).
    pub fn new(label: &str) -> Result<Option<Self>, TestSchemaError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let Some(url) = Self::url_from_env()? else {
            return Ok(None);
        };
        let label: String = label
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9') => c,
                _ => '_',
            })
            .take(24)
            .collect();
        let mut random = [0u8; 4];
        getrandom::fill(&mut random).map_err(|e| TestSchemaError::Server(e.to_string()))?;
        let name = format!(
            "test_{label}_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            u32::from_le_bytes(random)
        );
        Ok(Some(Self { url, name }))
    }

    /// The server's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A store in this schema, with `connections` connections whose `application_name` is
    /// the schema's name (so that a test can find, and cut, its connections).
    ///
    /// # Errors
    /// As [`PostgresStoreBuilder::connect`](crate::PostgresStoreBuilder::connect).
    pub async fn store(&self, connections: usize) -> Result<PostgresStore, OutboxError> {
        PostgresStore::builder(self.url.as_str())
            .schema(self.name.as_str())
            .connections(connections)
            .application_name(self.name.as_str())
            .connect()
            .await
    }

    /// A plain connection to the server, for what a test does beside the store; its
    /// connection task runs on the current runtime.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) =
            tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// Drops the schema now, reporting a failure.
    fn drop_schema(url: &str, name: &str) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let task = tokio::spawn(async move {
                let _ = connection.await;
            });
            let dropped = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await
                .map_err(|e| e.to_string());
            drop(client);
            let _ = task.await;
            dropped
        })
    }
}

impl Drop for TestSchema {
    /// Drops the schema from a thread of its own, so that it works inside and outside an
    /// async runtime.
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let done = std::thread::spawn(move || Self::drop_schema(&url, &name)).join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!(
                "warning: the test schema {} was not dropped: {e}",
                self.name
            ),
            Err(_) => eprintln!("warning: dropping the test schema {} panicked", self.name),
        }
    }
}
