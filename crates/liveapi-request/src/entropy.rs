//! Where the randomness of nonces and request ids comes from.

use std::fmt;
#[cfg(feature = "test-util")]
use std::sync::Mutex;
use std::time::SystemTime;

use liveapi_model::linkv::RequestId;
use liveapi_sign::linkv::Nonce;

use crate::BuildError;

/// The randomness source failed.
///
/// ```
/// use liveapi_request::EntropyError;
/// let err = EntropyError::new("no entropy available yet");
/// assert_eq!(err.to_string(), "the randomness source failed: no entropy available yet");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the randomness source failed: {reason}")]
pub struct EntropyError {
    reason: String,
}

impl EntropyError {
    /// A failure described by `reason` (never a secret).
    #[must_use]
    pub fn new(reason: impl std::fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
        }
    }
}

/// A source of random bytes, for LinkV nonces and request ids.
///
/// [`OsEntropy`] is the real, cryptographically secure one; `SeededEntropy` (feature
/// `test-util`) makes tests deterministic.
pub trait Entropy: Send + Sync + fmt::Debug {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// An [`EntropyError`] if the source cannot produce bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError>;

    /// A fresh `request_id` made at `now`: a time-ordered (version 7) UUID's 32 hex digits,
    /// 74 of its bits random, which carries its creation time
    /// ([`RequestId::created_at`]).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use liveapi_request::{Entropy, OsEntropy};
    /// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let id = OsEntropy.request_id(now)?;
    /// assert_eq!(id.as_str().len(), 32);
    /// assert_eq!(id.created_at(), Some(now));
    /// # Ok::<(), liveapi_request::EntropyError>(())
    /// ```
    ///
    /// # Errors
    /// An [`EntropyError`] if the source cannot produce bytes.
    fn request_id(&self, now: SystemTime) -> Result<RequestId, EntropyError> {
        let mut random = [0u8; 10];
        self.fill(&mut random)?;
        let millis = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Ok(RequestId::from_unix_millis(millis, random))
    }

    /// A fresh LinkV `nonce_str` for `now`. A source that fails is an error, never a
    /// predictable nonce.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use liveapi_request::{Entropy, OsEntropy};
    /// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let nonce = OsEntropy.nonce(now)?;
    /// assert_eq!(&nonce.as_str()[8..18], "1700000000");
    /// # Ok::<(), liveapi_request::BuildError>(())
    /// ```
    ///
    /// # Errors
    /// [`BuildError::Entropy`] if the source fails, [`BuildError::Sign`] if `now` is outside
    /// the years a nonce can express.
    fn nonce(&self, now: SystemTime) -> Result<Nonce, BuildError> {
        let mut failure = None;
        let nonce = Nonce::generate(now, |buf| {
            if let Err(e) = self.fill(buf) {
                failure.get_or_insert(e);
            }
        });
        if let Some(e) = failure {
            return Err(e.into());
        }
        Ok(nonce?)
    }
}

/// The operating system's cryptographically secure generator (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::fill(buf).map_err(EntropyError::new)
    }
}

/// A deterministic generator (SplitMix64) for tests and golden files (feature `test-util`).
///
/// It is **not** secure: a nonce or request id drawn from it is predictable. Use it only
/// where reproducibility matters more than secrecy.
///
/// ```
/// use liveapi_request::{Entropy, SeededEntropy};
/// let now = std::time::SystemTime::now();
/// let a = SeededEntropy::new(7).request_id(now)?;
/// let b = SeededEntropy::new(7).request_id(now)?;
/// assert_eq!(a, b);
/// # Ok::<(), liveapi_request::EntropyError>(())
/// ```
#[cfg(feature = "test-util")]
#[derive(Debug)]
pub struct SeededEntropy {
    state: Mutex<u64>,
}

#[cfg(feature = "test-util")]
impl SeededEntropy {
    /// A generator that starts from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed),
        }
    }
}

#[cfg(feature = "test-util")]
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
