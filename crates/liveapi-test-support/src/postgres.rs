//! A PostgreSQL schema of its own per test, so that tests run in parallel on one server and
//! leave nothing behind.
//!
//! The server is [`service::postgres_url`]: without it a test is
//! skipped with a notice, and in CI it fails.

use std::sync::atomic::{AtomicU32, Ordering};

use liveapi_outbox::{OutboxError, PostgresStore};

use crate::service;

/// A test's own PostgreSQL schema, dropped (with everything in it) when this is dropped, so
/// that tests run in parallel and leave nothing behind.
#[derive(Debug)]
pub struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    /// A fresh schema name for the test `label` on the server of
    /// [`service::postgres_url`]; nothing is created until a store connects to it. `None`
    /// (after a notice) when no server is configured.
    ///
    /// # Panics
    /// In CI without a server, or when the system has no random bytes for the name.
    #[must_use]
    pub fn new(label: &str) -> Option<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let url = service::postgres_url()?;
        let label: String = label
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9') => c,
                _ => '_',
            })
            .take(24)
            .collect();
        let mut random = [0u8; 4];
        if let Err(e) = getrandom::fill(&mut random) {
            panic!("no random bytes for a test schema's name: {e}");
        }
        let name = format!(
            "test_{label}_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            u32::from_le_bytes(random)
        );
        Some(Self { url, name })
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
    /// As [`PostgresStoreBuilder::connect`](liveapi_outbox::PostgresStoreBuilder::connect).
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
