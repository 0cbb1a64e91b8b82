//! The clock and randomness that signing draws on.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use crate::{BuildError, Clock, Entropy, Operation, OsEntropy, SystemClock};

/// The clock and randomness that signing draws on: the system clock and the operating
/// system's CSPRNG by default, a `ManualClock` and a `SeededEntropy` (feature `test-util`) in
/// tests.
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

    /// A fresh `request_id` made now by this context's clock and randomness.
    ///
    /// # Errors
    /// An [`EntropyError`](crate::EntropyError) if the randomness source fails.
    pub fn request_id(&self) -> Result<liveapi_model::linkv::RequestId, crate::EntropyError> {
        self.entropy.request_id(self.now())
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
