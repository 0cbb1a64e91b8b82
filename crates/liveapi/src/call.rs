//! A call of the client, as a value: settings can be changed before it is awaited, and it
//! owns a handle to the client, so its future is `'static`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use liveapi_request::{CallSettings, Operation};

use crate::client::ClientCredentials;
use crate::{Client, Error};

/// The future a call becomes when awaited: `'static` and `Send`, so it can be spawned.
pub type CallFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'static>>;

/// Adds the per-call settings to a call builder whose settings live in `self.settings`.
macro_rules! call_settings {
    () => {
        /// How long each attempt of this call may take, instead of the client's setting.
        pub fn attempt_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.settings = self.settings.attempt_timeout(timeout);
            self
        }

        /// How long this call may take in all, retries and pauses included, instead of the
        /// client's setting; `None` for no limit beyond the retry policy's.
        pub fn deadline(mut self, deadline: Option<std::time::Duration>) -> Self {
            self.settings = self.settings.deadline(deadline);
            self
        }

        /// How many attempts this call gets, retries included (at least 1), instead of the
        /// client's retry policy's.
        pub fn max_attempts(mut self, attempts: u32) -> Self {
            self.settings = self.settings.max_attempts(attempts);
            self
        }
    };
}
pub(crate) use call_settings;

/// A call of [`Client`], sent when awaited.
///
/// ```no_run
/// # async fn run(client: liveapi::Client, uid: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
/// use std::time::Duration;
///
/// // A balance shown on a page: one quick attempt, no retries.
/// let balance = client
///     .balance(&uid)
///     .attempt_timeout(Duration::from_millis(500))
///     .max_attempts(1)
///     .await?;
/// // A call spawned onto the runtime: its future owns what it needs.
/// let task = tokio::spawn(client.balance(&uid).into_future());
/// # let _ = (balance, task);
/// # Ok(()) }
/// ```
#[must_use = "a call is sent only when awaited"]
pub struct Call<O> {
    client: Client,
    operation: O,
    settings: CallSettings,
}

impl<O: fmt::Debug> fmt::Debug for Call<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("operation", &self.operation)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<O> Call<O> {
    pub(crate) fn new(client: Client, operation: O) -> Self {
        Self {
            client,
            operation,
            settings: CallSettings::new(),
        }
    }

    /// The operation this call sends.
    #[must_use]
    pub fn operation(&self) -> &O {
        &self.operation
    }

    call_settings!();
}

impl<O> IntoFuture for Call<O>
where
    O: Operation + Send + Sync + 'static,
    O::Credentials: ClientCredentials + Sync,
    O::Output: Send + 'static,
    O::Error: Into<Error>,
{
    type Output = Result<O::Output, Error>;
    type IntoFuture = CallFuture<O::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.client.send(&self.operation, &self.settings).await })
    }
}
