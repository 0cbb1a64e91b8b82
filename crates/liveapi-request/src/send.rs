//! Plugging in an HTTP stack: request in, response out.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::retry::{Attempt, Decision, Failure, RetryPolicy};
use crate::{BuildError, Clock, Entropy, Operation, OsEntropy, SystemClock, VendorError};

/// A blocking HTTP client: sends one request and returns the whole response.
///
/// Implemented for every `FnMut(http::Request<Bytes>) -> Result<http::Response<Bytes>, E>`, so
/// a few lines of glue make `ureq`, a blocking `reqwest` or anything else a transport.
///
/// The implementation must keep TLS certificate and hostname verification on, and should
/// apply a timeout.
pub trait HttpSend {
    /// Why a request got no response.
    type Error: StdError + Send + Sync + 'static;

    /// Sends `request` and reads the response body.
    ///
    /// # Errors
    /// The transport's error if there is no complete response.
    fn send(&mut self, request: http::Request<Bytes>)
    -> Result<http::Response<Bytes>, Self::Error>;
}

impl<F, E> HttpSend for F
where
    F: FnMut(http::Request<Bytes>) -> Result<http::Response<Bytes>, E>,
    E: StdError + Send + Sync + 'static,
{
    type Error = E;

    fn send(&mut self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, E> {
        self(request)
    }
}

/// An async HTTP client: sends one request and returns the whole response.
///
/// Implemented for every `Fn(http::Request<Bytes>) -> impl Future<Output = Result<…>>`, so an
/// async `reqwest` client or a `tower` service plugs in with a closure.
pub trait AsyncHttpSend {
    /// Why a request got no response.
    type Error: StdError + Send + Sync + 'static;

    /// Sends `request` and reads the response body.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, Self::Error>> + Send;
}

impl<F, Fut, E> AsyncHttpSend for F
where
    F: Fn(http::Request<Bytes>) -> Fut,
    Fut: Future<Output = Result<http::Response<Bytes>, E>> + Send,
    E: StdError + Send + Sync + 'static,
{
    type Error = E;

    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, E>> + Send {
        self(request)
    }
}

/// A call that did not succeed: before sending, on the way, or at the server. These three are
/// all there is, so the enum is exhaustive.
#[derive(Debug, thiserror::Error)]
pub enum CallError<E, T> {
    /// The request could not be built; nothing was sent.
    #[error(transparent)]
    Build(BuildError),
    /// The transport failed; the call may or may not have reached the server.
    #[error("transport failed: {0}")]
    Transport(#[source] T),
    /// The server answered with an error.
    #[error(transparent)]
    Api(E),
}

impl<E: VendorError, T> CallError<E, T> {
    /// How the attempt failed, for [`RetryPolicy::decide`].
    #[must_use]
    pub fn failure(&self) -> Failure {
        match self {
            Self::Build(_) => Failure::Fatal,
            Self::Transport(_) => Failure::Transport,
            Self::Api(e) if e.is_rate_limited() => Failure::RateLimited,
            Self::Api(e) if e.is_retryable() => Failure::Retryable,
            Self::Api(_) => Failure::Fatal,
        }
    }
}

/// The clock and randomness that signing draws on: the system clock and the operating
/// system's CSPRNG by default, a [`ManualClock`](crate::ManualClock) and a
/// [`SeededEntropy`](crate::SeededEntropy) in tests.
#[derive(Clone, Debug)]
pub struct Context {
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

impl Default for Context {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
        }
    }
}

impl Context {
    /// A context of the given clock and randomness.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>) -> Self {
        Self { clock, entropy }
    }

    /// The current time.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The randomness.
    #[must_use]
    pub fn entropy(&self) -> &dyn Entropy {
        &*self.entropy
    }

    /// A random number for retry jitter; 0 if the source fails (jitter is not security).
    pub fn jitter(&self) -> u64 {
        let mut bytes = [0u8; 8];
        match self.entropy.fill(&mut bytes) {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(_) => 0,
        }
    }

    /// Builds `operation` signed as of now.
    ///
    /// # Errors
    /// A [`BuildError`] if it cannot be signed.
    pub fn build<O: Operation>(
        &self,
        operation: &O,
        credentials: &O::Credentials,
    ) -> Result<http::Request<Bytes>, BuildError> {
        operation.build(credentials, self.now(), self.entropy())
    }
}

/// Sends `operation` once through a blocking transport.
///
/// ```
/// use bytes::Bytes;
/// use liveapi_model::linkv::{GetUserTokens, OpenId};
/// use liveapi_request::{call, Context, LinkvCredentials};
///
/// let creds = LinkvCredentials::new("app", "secret", "alias", "http://127.0.0.1:1")?;
/// // A stand-in transport that answers every request with a balance of 7 coins.
/// let mut transport = |request: http::Request<Bytes>| {
///     assert_eq!(request.uri().path(), "/open/finanv0/getUserTokens");
///     Ok::<_, std::io::Error>(http::Response::new(Bytes::from(r#"{"status":"200","data":{"tokens":"7"}}"#)))
/// };
/// let balance = call(&GetUserTokens::new(OpenId::new("42")?), &creds, &Context::default(), &mut transport)?;
/// assert_eq!(balance.coins.get(), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A [`CallError`] saying whether building, the transport or the server failed.
pub fn call<O, S>(
    operation: &O,
    credentials: &O::Credentials,
    context: &Context,
    transport: &mut S,
) -> Result<O::Output, CallError<O::Error, S::Error>>
where
    O: Operation,
    S: HttpSend,
{
    let request = context
        .build(operation, credentials)
        .map_err(CallError::Build)?;
    let response = transport.send(request).map_err(CallError::Transport)?;
    operation.parse(&response).map_err(CallError::Api)
}

/// Sends `operation` once through an async transport.
///
/// # Errors
/// A [`CallError`] saying whether building, the transport or the server failed.
pub async fn call_async<O, S>(
    operation: &O,
    credentials: &O::Credentials,
    context: &Context,
    transport: &S,
) -> Result<O::Output, CallError<O::Error, S::Error>>
where
    O: Operation,
    S: AsyncHttpSend,
{
    let request = context
        .build(operation, credentials)
        .map_err(CallError::Build)?;
    let response = transport
        .send(request)
        .await
        .map_err(CallError::Transport)?;
    operation.parse(&response).map_err(CallError::Api)
}

/// Sends `operation` through a blocking transport, re-signing and retrying as `policy` says,
/// pausing with `sleep` (pass [`std::thread::sleep`]; tests pass a recorder).
///
/// Each attempt gets a fresh nonce or timestamp; a LinkV `request_id` is part of the operation
/// and so the same on every attempt, which is what makes retrying a coin change safe.
///
/// # Errors
/// The [`CallError`] of the last attempt.
pub fn call_with_retries<O, S>(
    operation: &O,
    credentials: &O::Credentials,
    context: &Context,
    transport: &mut S,
    policy: &RetryPolicy,
    mut sleep: impl FnMut(Duration),
) -> Result<O::Output, CallError<O::Error, S::Error>>
where
    O: Operation,
    S: HttpSend,
{
    let mut number = 0;
    loop {
        number += 1;
        let error = match call(operation, credentials, context, transport) {
            Ok(output) => return Ok(output),
            Err(error) => error,
        };
        let attempt = Attempt {
            number,
            failure: error.failure(),
            idempotent: O::IDEMPOTENT,
            remaining: None,
        };
        match policy.decide(attempt, context.jitter()) {
            Decision::Stop => return Err(error),
            Decision::RetryAfter(pause) => sleep(pause),
        }
    }
}
