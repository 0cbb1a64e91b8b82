//! How far this machine's clock is from a server's, measured from an answer.

use std::fmt;
use std::time::{Duration, SystemTime};

/// The difference between the local clock and a server's, as measured from the server's
/// `Date` header when its answer arrived (to the second, plus the network's latency).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use liveapi_request::ClockOffset;
///
/// let server = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let offset = ClockOffset::between(server + Duration::from_secs(362), server);
/// assert!(offset.is_ahead());
/// assert_eq!(offset.magnitude(), Duration::from_secs(362));
/// assert_eq!(offset.to_string(), "6 min 2 s ahead of the server's");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClockOffset {
    ahead: bool,
    magnitude: Duration,
}

impl ClockOffset {
    /// How far `local` (this machine's time when the answer arrived) is from `server` (the
    /// answer's `Date`).
    #[must_use]
    pub fn between(local: SystemTime, server: SystemTime) -> Self {
        match local.duration_since(server) {
            Ok(ahead) => Self {
                ahead: true,
                magnitude: ahead,
            },
            Err(behind) => Self {
                ahead: false,
                magnitude: behind.duration(),
            },
        }
    }

    /// Whether the local clock is ahead of the server's (or equal to it).
    #[must_use]
    pub fn is_ahead(&self) -> bool {
        self.ahead
    }

    /// How far apart the clocks are.
    #[must_use]
    pub fn magnitude(&self) -> Duration {
        self.magnitude
    }
}

impl fmt::Display for ClockOffset {
    /// `6 min 2 s ahead of the server's`, `40 s behind the server's`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.magnitude.as_secs();
        let (hours, minutes, seconds) = (secs / 3_600, secs / 60 % 60, secs % 60);
        let mut parts = Vec::new();
        if hours > 0 {
            parts.push(format!("{hours} h"));
        }
        if minutes > 0 {
            parts.push(format!("{minutes} min"));
        }
        if seconds > 0 || parts.is_empty() {
            parts.push(format!("{seconds} s"));
        }
        let side = if self.ahead { "ahead of" } else { "behind" };
        write!(f, "{} {side} the server's", parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn offsets_read_as_people_say_them() {
        let server = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let table = [
            (
                server + Duration::from_secs(360),
                "6 min ahead of the server's",
            ),
            (server - Duration::from_secs(40), "40 s behind the server's"),
            (
                server + Duration::from_secs(7_205),
                "2 h 5 s ahead of the server's",
            ),
            (server, "0 s ahead of the server's"),
            (
                server + Duration::from_millis(900),
                "0 s ahead of the server's",
            ),
        ];
        for (local, text) in table {
            assert_eq!(ClockOffset::between(local, server).to_string(), text);
        }
        assert!(!ClockOffset::between(server - Duration::from_secs(1), server).is_ahead());
    }
}
