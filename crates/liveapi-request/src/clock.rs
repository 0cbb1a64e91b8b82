//! Where the time of a signature comes from.

use std::fmt;
#[cfg(feature = "test-util")]
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
#[cfg(feature = "test-util")]
use std::time::{Duration, UNIX_EPOCH};

/// A source of the current time, for nonces and timestamps.
///
/// [`SystemClock`] is the real one; `ManualClock` (feature `test-util`) makes tests
/// deterministic.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to, for tests (feature `test-util`).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_request::{Clock, ManualClock};
///
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_600_000_000));
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_600_000_005));
/// ```
#[cfg(feature = "test-util")]
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicU64,
}

#[cfg(feature = "test-util")]
impl ManualClock {
    /// A clock stopped at `at` (to the millisecond).
    #[must_use]
    pub fn new(at: SystemTime) -> Self {
        Self {
            millis: AtomicU64::new(to_millis(at)),
        }
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: SystemTime) {
        self.millis.store(to_millis(at), Ordering::SeqCst);
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.millis.fetch_add(by, Ordering::SeqCst);
    }
}

#[cfg(feature = "test-util")]
fn to_millis(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(feature = "test-util")]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}
