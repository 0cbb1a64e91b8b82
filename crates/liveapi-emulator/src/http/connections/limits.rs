//! The limits on connections: the three timeouts, and the cap on open connections derived
//! from the process's file limit.

use std::time::Duration;

/// How long a client has to send a whole request head by default: from the connection's
/// start for its first request, from the first byte for the next ones.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may stall by default: the longest wait for its next bytes (a slow
/// but steady upload is fine). It also bounds how long an answer waits for a client that does
/// not read it.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may sit idle between requests by default.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// How many connections may be open at once by default, unless the process may open fewer
/// files (see [`EmulatorBuilder::max_connections`](crate::EmulatorBuilder::max_connections)).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// File descriptors kept for the emulator's own use (listener, runtime, state file, standard
/// streams) when the connection cap is derived from the file limit.
pub(super) const FD_HEADROOM: u64 = 64;

/// The limits on connections, fixed at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) max_connections: usize,
}

impl ConnectionLimits {
    /// Refuses limits that would close every connection at once or admit none.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("header_read_timeout", self.header_read_timeout),
            ("body_read_timeout", self.body_read_timeout),
            ("keep_alive_timeout", self.keep_alive_timeout),
        ] {
            if value.is_zero() {
                return Err(format!("{name} must be longer than zero"));
            }
        }
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        Ok(())
    }

    /// The shortest timeout: how often a connection's watchdog looks at its clock at least.
    pub(super) fn shortest(&self) -> Duration {
        self.header_read_timeout
            .min(self.body_read_timeout)
            .min(self.keep_alive_timeout)
    }
}

/// At most this many refused connections are read from at once after their 503 (see
/// [`refusal_places`]).
pub(super) const MAX_REFUSING: usize = 32;

/// The default cap: [`DEFAULT_MAX_CONNECTIONS`], or fewer if the soft limit on open files is
/// lower, keeping [`FD_HEADROOM`] descriptors (or half of a tiny limit) for everything else.
pub(crate) fn default_max_connections() -> usize {
    cap_for_file_limit(file_soft_limit())
}

/// The process's soft limit on open files, where the OS tells it (Linux).
pub(super) fn file_soft_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| nofile_soft_limit(&text))
}

/// How many refused connections may be read from at once, each holding a descriptor for a
/// moment: [`MAX_REFUSING`], or half of the descriptors the file limit leaves over the cap if
/// that is fewer (at least one), so that refusing never takes the ones the emulator keeps for
/// itself. Refusals beyond it are still answered, then closed at once.
pub(super) fn refusal_places(max_connections: usize, soft: Option<u64>) -> usize {
    let Some(soft) = soft else {
        return MAX_REFUSING;
    };
    let spare = soft.saturating_sub(u64::try_from(max_connections).unwrap_or(u64::MAX)) / 2;
    usize::try_from(spare)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_REFUSING)
}

pub(super) fn cap_for_file_limit(soft: Option<u64>) -> usize {
    let Some(soft) = soft else {
        return DEFAULT_MAX_CONNECTIONS;
    };
    let usable = soft - FD_HEADROOM.min(soft / 2);
    usize::try_from(usable)
        .unwrap_or(usize::MAX)
        .clamp(1, DEFAULT_MAX_CONNECTIONS)
}

/// The soft limit on open files from the text of Linux's `/proc/self/limits`
/// (`Max open files  1024  1048576  files`); `None` if absent or unlimited.
pub(super) fn nofile_soft_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
