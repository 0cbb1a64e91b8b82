//! A call of the client, as a value: settings can be changed before it is awaited, and it
//! owns a handle to the client, so its future is `'static`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use liveapi_model::linkv::{DeviceId, ThGetToken};
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
        /// client's setting.
        pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
            self.settings = self.settings.deadline(deadline);
            self
        }

        /// No deadline for this call beyond what the retry policy allows, whatever the
        /// client's setting.
        pub fn no_deadline(mut self) -> Self {
            self.settings = self.settings.no_deadline();
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

/// A call of [`Client`], sent when awaited; answers `T` (the operation's output unless the
/// client method narrows it, as [`Client::balance`] does to the coins).
///
/// ```no_run
/// # async fn run(client: liveapi::Client, open_id: liveapi::model::linkv::OpenId) -> Result<(), liveapi::Error> {
/// use std::time::Duration;
///
/// // A balance shown on a page: one quick attempt, no retries.
/// let balance = client
///     .balance(&open_id)
///     .attempt_timeout(Duration::from_millis(500))
///     .max_attempts(1)
///     .await?;
/// // A call spawned onto the runtime: its future owns what it needs.
/// let task = tokio::spawn(client.balance(&open_id).into_future());
/// # let _ = (balance, task);
/// # Ok(()) }
/// ```
#[must_use = "a call is sent only when awaited"]
pub struct Call<O: Operation, T = <O as Operation>::Output> {
    client: Client,
    operation: O,
    settings: CallSettings,
    answer: fn(O::Output) -> T,
}

impl<O: Operation + fmt::Debug, T> fmt::Debug for Call<O, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("operation", &self.operation)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<O: Operation> Call<O> {
    pub(crate) fn new(client: Client, operation: O) -> Self {
        Self {
            client,
            operation,
            settings: CallSettings::new(),
            answer: |output| output,
        }
    }

    /// Answers what `answer` makes of the operation's output.
    pub(crate) fn map<U>(self, answer: fn(O::Output) -> U) -> Call<O, U> {
        Call {
            client: self.client,
            operation: self.operation,
            settings: self.settings,
            answer,
        }
    }
}

impl<O: Operation, T> Call<O, T> {
    /// The operation this call sends.
    #[must_use]
    pub fn operation(&self) -> &O {
        &self.operation
    }

    /// The operation this call sends, by value: to store, or to send later with
    /// [`Client::execute`].
    #[must_use]
    pub fn into_operation(self) -> O {
        self.operation
    }

    call_settings!();
}

impl Call<ThGetToken> {
    /// Sends the user's device id (`aid`). The 2020 page requires it and the 2021 page dropped
    /// it (`thGetToken` in `docs/linkv.md#calls`), so it is optional: send it if your LinkV
    /// deployment asks for it.
    ///
    /// ```no_run
    /// # async fn run(client: liveapi::Client) -> Result<(), liveapi::Error> {
    /// use liveapi::model::linkv::{DeviceId, UserId};
    ///
    /// let user = client
    ///     .login_user(UserId::new("user-42")?)
    ///     .aid(DeviceId::new("3f2a9c1e-device")?)
    ///     .await?;
    /// println!("open id {}", user.open_id);
    /// # Ok(()) }
    /// ```
    pub fn aid(mut self, aid: DeviceId) -> Self {
        self.operation = self.operation.with_aid(aid);
        self
    }
}

impl<O, T> IntoFuture for Call<O, T>
where
    O: Operation + Send + Sync + 'static,
    O::Credentials: ClientCredentials + Sync,
    O::Output: Send + 'static,
    T: Send + 'static,
{
    type Output = Result<T, Error>;
    type IntoFuture = CallFuture<T>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let output = self.client.send(&self.operation, &self.settings).await?;
            Ok((self.answer)(output))
        })
    }
}
