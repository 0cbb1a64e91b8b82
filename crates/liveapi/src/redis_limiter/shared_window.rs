//! The window in Redis that every process shares: where it is, the connection to it, and the
//! script that admits a send there.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::diagnosis::{self, Failure};

/// The script every permit runs: the whole decision in one atomic step on the server.
static ACQUIRE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("acquire.lua")));

/// Redis's answer to one permit.
pub(super) enum Verdict {
    Admitted,
    Full(Duration),
}

/// The shared window of one budget, in one Redis.
pub(super) struct SharedWindow {
    client: redis::Client,
    key: String,
    /// Host, port and database, for logs: never the password.
    address: String,
    /// Whether the connection is TLS (`rediss://`).
    tls: bool,
    /// The budget's requests per window.
    limit: u32,
    /// The shared window: the budget's, plus the transit margin.
    window: Duration,
    /// How long one Redis call may take.
    timeout: Duration,
    process_id: u64,
    sends: AtomicU64,
}

impl SharedWindow {
    pub(super) fn new(
        client: redis::Client,
        key: String,
        address: String,
        limit: u32,
        window: Duration,
        timeout: Duration,
    ) -> Self {
        Self {
            tls: super::tls::is_tls(&client),
            client,
            key,
            address,
            limit,
            window,
            timeout,
            process_id: process_id(),
            sends: AtomicU64::new(0),
        }
    }

    /// The Redis key of the window.
    pub(super) fn key(&self) -> &str {
        &self.key
    }

    /// Host, port and database: what logs may say of the Redis.
    pub(super) fn address(&self) -> &str {
        &self.address
    }

    pub(super) fn tls(&self) -> bool {
        self.tls
    }

    pub(super) fn window(&self) -> Duration {
        self.window
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A connection that opens on first use, on the Tokio runtime of the caller, and never
    /// retries on its own: a call that fails is this limiter's to judge.
    pub(super) fn connect(&self) -> Result<ConnectionManager, Failure> {
        if self.tls {
            super::tls::ensure_crypto_provider();
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(0);
        ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.judge(&e))
    }

    /// Whether `error` is an outage or the configuration's, in words without the password.
    fn judge(&self, error: &redis::RedisError) -> Failure {
        let info = self.client.get_connection_info().redis_settings();
        diagnosis::judge(error, info.db(), &self.key, info.password())
    }

    fn member(&self) -> String {
        let n = self.sends.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}:{n}", self.process_id)
    }

    /// One run of the script, within the timeout: a send now, and the `backfill` sends this
    /// process made without Redis, at their ages.
    pub(super) async fn ask(
        &self,
        mut connection: ConnectionManager,
        backfill: &[(u64, Duration)],
    ) -> Result<Verdict, Failure> {
        let mut invocation = ACQUIRE.key(&self.key);
        invocation
            .arg(self.limit)
            .arg(micros(self.window))
            .arg(self.member());
        for (_, age) in backfill {
            invocation.arg(micros(*age)).arg(self.member());
        }
        let answer = tokio::time::timeout(
            self.timeout,
            invocation.invoke_async::<(i64, i64)>(&mut connection),
        )
        .await;
        match answer {
            Ok(Ok((1, _))) => Ok(Verdict::Admitted),
            Ok(Ok((_, wait))) => Ok(Verdict::Full(Duration::from_micros(
                u64::try_from(wait).unwrap_or(0),
            ))),
            Ok(Err(error)) => Err(self.judge(&error)),
            Err(_) => Err(Failure::Unanswered(format!(
                "no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

/// A random id for this limiter's members, so that no two processes' sends collide in the
/// shared window: the process id and the time, hashed under the standard library's randomly
/// keyed SipHash (seeded from the operating system).
fn process_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::hash::BuildHasher::hash_one(
        &std::collections::hash_map::RandomState::new(),
        (std::process::id(), nanos),
    )
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
