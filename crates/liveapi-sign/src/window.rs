//! The freshness check both vendors apply to the time carried in a request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{SignError, VerifyError};

/// Time since the unix epoch; a `now` before the epoch is a caller bug, not a stale request.
pub(crate) fn since_epoch(now: SystemTime) -> Result<Duration, SignError> {
    now.duration_since(UNIX_EPOCH)
        .map_err(|_| SignError::TimeOutOfRange)
}

/// Accepts `stamp` if it lies within `window` of `now`, on either side.
pub(crate) fn check(stamp: Duration, now: SystemTime, window: Duration) -> Result<(), VerifyError> {
    let now = since_epoch(now)?;
    let (skew, ahead) = match stamp.checked_sub(now) {
        Some(ahead_by) => (ahead_by, true),
        None => (now - stamp, false),
    };
    if skew > window {
        return Err(VerifyError::Stale {
            skew,
            ahead,
            window,
        });
    }
    Ok(())
}
