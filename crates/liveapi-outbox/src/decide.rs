//! What a failed send means for its entry, and when to send it again: pure functions,
//! table-tested.

use std::time::{Duration, SystemTime};

use liveapi::model::linkv::{Coins, LinkvError, PendingChange};
use liveapi::{Error, ErrorKind};

use crate::entry::{ReconcileKind, Reconciliation, Refusal, RefusalKind};

/// What an error of `Client::send_change` makes of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The server applied it (it answered success, with data that could not be read).
    Applied { balance: Option<Coins> },
    /// The server refused it: settled, not applied.
    Refused(Refusal),
    /// Sending it again cannot tell whether it was applied: settled, for a person.
    Reconcile(Reconciliation),
    /// Still pending: send it again later, with the same request id.
    Retry(RetryReason),
}

/// Why an entry is sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// It may have been applied: only a resend with the same request id can tell.
    OutcomeUnknown,
    /// It was not applied, for a passing reason (rate limiting, a stale nonce).
    Transient,
    /// This machine cannot send it now (credentials refused, clock off, TLS, configuration):
    /// not the change's fault, so it waits for the fix instead of being refused.
    Blocked,
}

impl RetryReason {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::OutcomeUnknown => "outcome_unknown",
            Self::Transient => "transient",
            Self::Blocked => "blocked",
        }
    }
}

/// The verdict on `error`, by the client's own classification
/// (`liveapi::Error::needs_reconciliation`, `outcome_unknown`, `is_retryable`).
pub(crate) fn verdict(error: &Error) -> Verdict {
    match error.kind() {
        ErrorKind::ResendWindowPassed { .. } => Verdict::Reconcile(Reconciliation {
            kind: ReconcileKind::ResendWindowPassed,
            message: error.to_string(),
        }),
        ErrorKind::Linkv(LinkvError::IdempotencyConflict { .. }) => {
            Verdict::Reconcile(Reconciliation {
                kind: ReconcileKind::IdempotencyConflict,
                message: error.to_string(),
            })
        }
        // "The call took effect" (`LinkvError::UnexpectedData`): a resend would answer the
        // same unreadable success until the window passes.
        ErrorKind::Linkv(LinkvError::UnexpectedData { .. }) => Verdict::Applied { balance: None },
        _ if error.outcome_unknown() => Verdict::Retry(RetryReason::OutcomeUnknown),
        _ if error.is_retryable() => Verdict::Retry(RetryReason::Transient),
        ErrorKind::Linkv(LinkvError::BadParameter { message }) => Verdict::Refused(Refusal {
            kind: RefusalKind::BadParameter,
            message: message.clone(),
        }),
        ErrorKind::Linkv(LinkvError::Rejected { status, message }) => Verdict::Refused(Refusal {
            kind: RefusalKind::Rejected { status: *status },
            message: message.clone(),
        }),
        ErrorKind::Invalid(e) => Verdict::Refused(Refusal {
            kind: RefusalKind::Invalid,
            message: e.to_string(),
        }),
        _ => Verdict::Retry(RetryReason::Blocked),
    }
}

/// How long to wait before the `attempts`th attempt's successor: `base` doubled per attempt
/// up to `max`, then between half and all of that ("equal jitter"), the share drawn from the
/// request id and the attempt so that dispatchers retrying together spread out, the same way
/// on every run.
pub(crate) fn backoff(attempts: u32, base: Duration, max: Duration, key: &str) -> Duration {
    let exponent = attempts.saturating_sub(1).min(30);
    let full = base.saturating_mul(1 << exponent).min(max);
    // FNV-1a: a spread, not a secret.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes().chain(attempts.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let share = (hash % 1_000) as u32; // 0..1000
    full / 2 + (full / 2) * share / 1_000
}

/// When to send `change` again after its `attempts`th attempt at `now`: after the backoff,
/// but no later than the end of the resend window, so that it gets a last try inside it.
pub(crate) fn next_attempt(
    change: &PendingChange,
    attempts: u32,
    now: SystemTime,
    base: Duration,
    max: Duration,
    window: Option<Duration>,
) -> SystemTime {
    let at = now + backoff(attempts, base, max, change.request_id().as_str());
    match window.map(|w| change.created_at() + w) {
        Some(end) if end < at => end.max(now),
        _ => at,
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use liveapi::model::linkv::{ChangeGold, CoinRequest, Expiration, OpenId, RequestId};
    use liveapi::request::{TransportError, TransportErrorKind};

    use super::*;

    fn linkv(status: i64, message: &str) -> Error {
        Error::from(LinkvError::classify(status, message.to_owned()))
    }

    #[test]
    fn every_kind_of_error_has_its_verdict() {
        let unknown = Verdict::Retry(RetryReason::OutcomeUnknown);
        let transient = Verdict::Retry(RetryReason::Transient);
        let blocked = Verdict::Retry(RetryReason::Blocked);
        let cases = [
            (linkv(500, "system err"), unknown.clone()),
            (
                Error::from(TransportError::new(TransportErrorKind::Timeout)),
                unknown.clone(),
            ),
            (
                Error::from(TransportError::new(TransportErrorKind::Throttled)),
                transient.clone(),
            ),
            (linkv(429, "slow down"), transient.clone()),
            (linkv(400, "nonce_str expired"), transient),
            (linkv(403, "sign err"), blocked.clone()),
            (linkv(403, "app_id not found"), blocked.clone()),
            (
                Error::from(liveapi::ConfigError::NoCredentials),
                blocked.clone(),
            ),
            (
                linkv(400, "insufficient balance"),
                Verdict::Refused(Refusal {
                    kind: RefusalKind::BadParameter,
                    message: "insufficient balance".into(),
                }),
            ),
            (
                linkv(404, "gone"),
                Verdict::Refused(Refusal {
                    kind: RefusalKind::Rejected { status: 404 },
                    message: "gone".into(),
                }),
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(verdict(&error), expected, "{error}");
        }
        let conflict = linkv(400, "request_id already used with different parameters");
        assert!(matches!(
            verdict(&conflict),
            Verdict::Reconcile(Reconciliation {
                kind: ReconcileKind::IdempotencyConflict,
                ..
            })
        ));
        let late = Error::from(ErrorKind::ResendWindowPassed {
            age: Duration::from_secs(50_000),
            window: Duration::from_secs(43_200),
        });
        match verdict(&late) {
            Verdict::Reconcile(r) => {
                assert_eq!(r.kind, ReconcileKind::ResendWindowPassed);
                assert!(r.message.contains("resend window"), "{}", r.message);
            }
            other => panic!("{other:?}"),
        }
        let invalid = Error::from(OpenId::new("").unwrap_err());
        assert!(matches!(
            verdict(&invalid),
            Verdict::Refused(Refusal {
                kind: RefusalKind::Invalid,
                ..
            })
        ));
        let unreadable = Error::from(LinkvError::UnexpectedData {
            reason: "balance is not a number".into(),
            body: liveapi::model::RawBody::new(b"{}"),
        });
        assert_eq!(verdict(&unreadable), Verdict::Applied { balance: None });
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for attempts in 1..40 {
            let full = base.saturating_mul(1 << (attempts - 1).min(30)).min(max);
            let wait = backoff(attempts, base, max, "crash-000001");
            assert!(wait >= full / 2 && wait <= full, "{attempts}: {wait:?}");
        }
        assert_eq!(
            backoff(3, base, max, "a"),
            backoff(3, base, max, "a"),
            "the same every time"
        );
        let spread: std::collections::HashSet<_> = (0..20)
            .map(|k| backoff(4, base, max, &format!("id-{k}")))
            .collect();
        assert!(spread.len() > 10, "ids spread out: {spread:?}");
        // Over the whole upper half, not bunched at one end of it.
        let full = Duration::from_secs(8);
        let (low, high) = (spread.iter().min().unwrap(), spread.iter().max().unwrap());
        assert!(
            *low < full * 5 / 8 && *high > full * 7 / 8,
            "{low:?}..{high:?}"
        );
        assert_eq!(backoff(0, base, max, "a"), backoff(0, base, max, "a"));
        assert!(backoff(0, base, max, "a") <= base);
    }

    #[test]
    fn a_retry_never_lands_past_the_resend_window() {
        let made = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let gold = ChangeGold::add(
            OpenId::new("42").unwrap(),
            RequestId::new("crash-000001").unwrap(),
            Coins::new(5).unwrap(),
            Expiration::at_unix_seconds(1_800_000_000),
        )
        .unwrap();
        let change = PendingChange::new(CoinRequest::ChangeGold(gold), made);
        let (base, max) = (Duration::from_secs(10), Duration::from_secs(600));
        let window = Duration::from_secs(3_600);
        let early = made + Duration::from_secs(60);
        let at = next_attempt(&change, 1, early, base, max, Some(window));
        assert!(at > early && at <= early + base, "{at:?}");
        // Near the end, the retry is brought to the window's last moment.
        let late = made + window - Duration::from_secs(5);
        let at = next_attempt(&change, 9, late, base, max, Some(window));
        assert_eq!(at, made + window);
        // Past it, the next attempt is now, and is refused as too old.
        let past = made + window + Duration::from_secs(5);
        assert_eq!(
            next_attempt(&change, 9, past, base, max, Some(window)),
            past
        );
        // No window: only the backoff counts.
        let at = next_attempt(&change, 9, late, base, max, None);
        assert!(at >= late + max / 2, "{at:?}");
    }
}
