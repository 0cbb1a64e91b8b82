//! The emulator's clock: the system time by default, or moved, offset or frozen by a test.
//!
//! It decides whether a LinkV nonce or a Polyv timestamp is fresh, when coins expire and when
//! idempotency entries are forgotten. Rate limiting is not tied to it (see `vendors::rate_limit`).

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// How the emulator's clock starts.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_emulator::ClockStart;
///
/// let frozen = ClockStart::FrozenAt(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let late = ClockStart::Behind(Duration::from_secs(120));
/// assert_ne!(frozen, late);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockStart {
    /// The system time.
    #[default]
    System,
    /// The system time plus a fixed amount (a server whose clock runs fast).
    Ahead(Duration),
    /// The system time minus a fixed amount (a server whose clock runs slow).
    Behind(Duration),
    /// Stopped at this instant until advanced, set or resumed.
    FrozenAt(SystemTime),
}

/// How the clock runs: what the state store keeps of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Running { offset_ms: i64 },
    Frozen { at_ms: u64 },
}

/// What the clock reads and how it runs, as the inspection API shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockStatus {
    /// The emulator's time in unix milliseconds.
    pub now_ms: u64,
    /// Whether the clock stands still.
    pub frozen: bool,
    /// How far the emulator's time is ahead of the system time (negative: behind), in
    /// milliseconds.
    pub offset_ms: i64,
}

/// The emulator's clock, shared by every request. Cloning gives another handle to the same
/// clock.
///
/// It decides whether a LinkV nonce or a Polyv timestamp is fresh, when coins expire, when
/// idempotency records are forgotten, and the `Date` of every answer (the time the SDK
/// corrects its clock skew by). Polyv's rate limit does not follow it.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_emulator::{ClockStart, EmulatorClock};
///
/// let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let clock = EmulatorClock::new(ClockStart::FrozenAt(start));
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now(), start + Duration::from_secs(90));
/// assert!(clock.status().frozen);
/// ```
#[derive(Clone)]
pub struct EmulatorClock {
    mode: Arc<Mutex<Mode>>,
    /// Told of every change of mode, under the clock's lock so that changes reach it in the
    /// order they were made: the state store logs them.
    observer: Arc<OnceLock<Observer>>,
}

/// What is told of the clock's changes.
pub(crate) type Observer = Box<dyn Fn(Mode) + Send + Sync>;

impl fmt::Debug for EmulatorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorClock")
            .field(
                "mode",
                &*self.mode.lock().unwrap_or_else(PoisonError::into_inner),
            )
            .finish_non_exhaustive()
    }
}

fn system_ms() -> u64 {
    millis(SystemTime::now())
}

fn millis(at: SystemTime) -> u64 {
    // The emulator's clock can be set anywhere, 1970 included; before it counts as 1970.
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn offset_between(at_ms: u64, system_ms: u64) -> i64 {
    let diff = i128::from(at_ms) - i128::from(system_ms);
    i64::try_from(diff).unwrap_or(if diff < 0 { i64::MIN } else { i64::MAX })
}

fn shift(ms: u64, by: i64) -> u64 {
    ms.checked_add_signed(by)
        .unwrap_or(if by < 0 { 0 } else { u64::MAX })
}

impl EmulatorClock {
    /// A clock that starts as `start` says.
    #[must_use]
    pub fn new(start: ClockStart) -> Self {
        let mode = match start {
            ClockStart::System => Mode::Running { offset_ms: 0 },
            ClockStart::Ahead(by) => Mode::Running {
                offset_ms: duration_ms(by),
            },
            ClockStart::Behind(by) => Mode::Running {
                offset_ms: duration_ms(by).saturating_neg(),
            },
            ClockStart::FrozenAt(at) => Mode::Frozen { at_ms: millis(at) },
        };
        Self {
            mode: Arc::new(Mutex::new(mode)),
            observer: Arc::new(OnceLock::new()),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Mode) -> R) -> R {
        // The mode is a plain value that no panic can leave half-written.
        let mut mode = self.mode.lock().unwrap_or_else(PoisonError::into_inner);
        let before = *mode;
        let result = f(&mut mode);
        if *mode != before
            && let Some(observer) = self.observer.get()
        {
            observer(*mode);
        }
        result
    }

    /// How the clock runs now.
    pub(crate) fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the clock as `mode` says, without telling the observer: for a restored state.
    pub(crate) fn restore(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = mode;
    }

    /// Sets what is told of every later change; only the first call counts.
    pub(crate) fn observe(&self, observer: Observer) {
        let _ = self.observer.set(observer);
    }

    /// The emulator's current time, to the millisecond.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_ms())
    }

    /// The emulator's current time in unix milliseconds.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.with(|mode| match *mode {
            Mode::Running { offset_ms } => shift(system_ms(), offset_ms),
            Mode::Frozen { at_ms } => at_ms,
        })
    }

    /// Moves the clock forward (it keeps running or stays frozen).
    pub fn advance(&self, by: Duration) {
        let by = duration_ms(by);
        self.with(|mode| match mode {
            Mode::Running { offset_ms } => *offset_ms = offset_ms.saturating_add(by),
            Mode::Frozen { at_ms } => *at_ms = shift(*at_ms, by),
        });
    }

    /// Moves the clock to `at`, forwards or backwards (it keeps running or stays frozen).
    pub fn set(&self, at: SystemTime) {
        let at_ms = millis(at);
        self.with(|mode| match mode {
            Mode::Running { offset_ms } => *offset_ms = offset_between(at_ms, system_ms()),
            Mode::Frozen { at_ms: frozen } => *frozen = at_ms,
        });
    }

    /// Runs the clock at a fixed offset from the system time (negative: behind it).
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.with(|mode| *mode = Mode::Running { offset_ms });
    }

    /// Stops the clock at its current time.
    pub fn freeze(&self) {
        self.with(|mode| {
            if let Mode::Running { offset_ms } = *mode {
                *mode = Mode::Frozen {
                    at_ms: shift(system_ms(), offset_ms),
                };
            }
        });
    }

    /// Lets a frozen clock run again from the time it shows.
    pub fn resume(&self) {
        self.with(|mode| {
            if let Mode::Frozen { at_ms } = *mode {
                *mode = Mode::Running {
                    offset_ms: offset_between(at_ms, system_ms()),
                };
            }
        });
    }

    /// The time, whether the clock is frozen, and its offset from the system time.
    #[must_use]
    pub fn status(&self) -> ClockStatus {
        let system = system_ms();
        self.with(|mode| match *mode {
            Mode::Running { offset_ms } => ClockStatus {
                now_ms: shift(system, offset_ms),
                frozen: false,
                offset_ms,
            },
            Mode::Frozen { at_ms } => ClockStatus {
                now_ms: at_ms,
                frozen: true,
                offset_ms: offset_between(at_ms, system),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let clock = EmulatorClock::new(ClockStart::FrozenAt(at(1_000)));
        assert_eq!(clock.now(), at(1_000));
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), at(1_005));
        clock.set(at(10));
        assert_eq!(clock.now(), at(10));
        assert!(clock.status().frozen);
    }

    #[test]
    fn running_clock_keeps_offsets_through_freeze_and_resume() {
        let clock = EmulatorClock::new(ClockStart::Ahead(Duration::from_secs(3_600)));
        let ahead = clock.status().offset_ms;
        assert_eq!(ahead, 3_600_000);
        clock.freeze();
        let frozen_at = clock.now_ms();
        clock.advance(Duration::from_secs(60));
        assert_eq!(clock.now_ms(), frozen_at + 60_000);
        clock.resume();
        let status = clock.status();
        assert!(!status.frozen);
        // Resuming keeps the time the frozen clock showed (give or take the test's runtime).
        assert!(status.offset_ms >= 3_660_000 - 60_000);
        clock.set_offset_ms(-5_000);
        assert_eq!(clock.status().offset_ms, -5_000);
    }

    #[test]
    fn extremes_saturate_instead_of_overflowing() {
        let clock = EmulatorClock::new(ClockStart::Behind(Duration::MAX));
        assert_eq!(clock.now_ms(), 0);
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        let _ = clock.status();
    }
}
