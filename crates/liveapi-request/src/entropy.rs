//! Where the randomness of nonces and request ids comes from.

use std::fmt;
use std::sync::Mutex;

use liveapi_model::linkv::RequestId;

/// The randomness source failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the randomness source failed: {0}")]
pub struct EntropyError(pub String);

/// A source of random bytes, for LinkV nonces and request ids.
///
/// [`OsEntropy`] is the real, cryptographically secure one; [`SeededEntropy`] makes tests
/// deterministic.
pub trait Entropy: Send + Sync + fmt::Debug {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// An [`EntropyError`] if the source cannot produce bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError>;

    /// A fresh random `request_id` (a version 4 UUID's 32 hex digits).
    ///
    /// ```
    /// use liveapi_request::{Entropy, OsEntropy};
    /// let id = OsEntropy.request_id()?;
    /// assert_eq!(id.as_str().len(), 32);
    /// # Ok::<(), liveapi_request::EntropyError>(())
    /// ```
    ///
    /// # Errors
    /// An [`EntropyError`] if the source cannot produce bytes.
    fn request_id(&self) -> Result<RequestId, EntropyError> {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes)?;
        Ok(RequestId::from_random_bytes(bytes))
    }
}

/// The operating system's cryptographically secure generator (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::fill(buf).map_err(|e| EntropyError(e.to_string()))
    }
}

/// A deterministic generator (SplitMix64) for tests and golden files.
///
/// It is **not** secure: a nonce or request id drawn from it is predictable. Use it only
/// where reproducibility matters more than secrecy.
///
/// ```
/// use liveapi_request::{Entropy, SeededEntropy};
/// let a = SeededEntropy::new(7).request_id()?;
/// let b = SeededEntropy::new(7).request_id()?;
/// assert_eq!(a, b);
/// # Ok::<(), liveapi_request::EntropyError>(())
/// ```
#[derive(Debug)]
pub struct SeededEntropy {
    state: Mutex<u64>,
}

impl SeededEntropy {
    /// A generator that starts from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed),
        }
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in buf.chunks_mut(8) {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}
