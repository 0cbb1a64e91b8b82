//! What a failed send means for its entry, and when to send it again: pure functions,
//! table-tested.

use std::time::{Duration, SystemTime};

use liveapi::model::ApiErrorKind;
use liveapi::model::linkv::{Coins, PendingChange};
use liveapi::request::meaning::{Class, Outcome};
use liveapi::{Error, ErrorKind, RetryPolicy};

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
    /// This machine cannot send it now (credentials refused, TLS, configuration): not the
    /// change's fault, so it waits for the fix instead of being refused.
    Blocked,
    /// The server refused this machine's time: the clock is off. Tried again at the first,
    /// short backoff whatever the attempt, since a schedule counted on a wrong clock means
    /// nothing, and the entry should go as soon as the clock is fixed.
    Clock,
}

impl RetryReason {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::OutcomeUnknown => "outcome_unknown",
            Self::Transient => "transient",
            Self::Blocked => "blocked",
            Self::Clock => "clock",
        }
    }
}

/// The verdict on `error`, read from what it means (`liveapi::Error::meaning`, the one table
/// of `liveapi_request::meaning`): nothing here decides what an answer means, only what the
/// outbox does about it.
pub(crate) fn verdict(error: &Error) -> Verdict {
    let meaning = error.meaning();
    if meaning.needs_reconciliation() {
        return Verdict::Reconcile(Reconciliation {
            kind: ReconcileKind::ResendWindowPassed,
            message: error.to_string(),
        });
    }
    match meaning.outcome() {
        // A success whose data could not be read: a resend would answer the same unreadable
        // success until the window passes.
        Outcome::Applied => return Verdict::Applied { balance: None },
        Outcome::Unknown => return Verdict::Retry(RetryReason::OutcomeUnknown),
        _ => {}
    }
    if meaning.class() == Class::Clock {
        return Verdict::Retry(RetryReason::Clock);
    }
    if meaning.is_retryable() {
        return Verdict::Retry(RetryReason::Transient);
    }
    match (meaning.class(), error.kind()) {
        (Class::Invalid, _) => Verdict::Refused(Refusal {
            kind: RefusalKind::Invalid,
            message: error.to_string(),
        }),
        (Class::Refused, ErrorKind::Api(e)) => Verdict::Refused(Refusal {
            kind: if e.kind() == ApiErrorKind::BadParameter {
                RefusalKind::BadParameter
            } else {
                RefusalKind::Rejected {
                    status: e.code().unwrap_or_else(|| i64::from(e.http_status())),
                }
            },
            message: e.message().to_owned(),
        }),
        // Credentials refused, the clock off, TLS, configuration: not the change's fault, so
        // it waits for the fix instead of being refused.
        _ => Verdict::Retry(RetryReason::Blocked),
    }
}

/// When to send `change` again after its `attempts`th attempt at `now` failed for `reason`:
/// after the engine's backoff ([`RetryPolicy::backoff`], its share drawn from `random`; the
/// first one for a clock refused), but no later than the end of the resend window, so that it
/// gets a last try inside it.
pub(crate) fn next_attempt(
    change: &PendingChange,
    attempts: u32,
    reason: RetryReason,
    now: SystemTime,
    backoff: &RetryPolicy,
    window: Option<Duration>,
    random: u64,
) -> SystemTime {
    let attempts = if reason == RetryReason::Clock {
        1
    } else {
        attempts
    };
    let at = now + backoff.backoff(attempts, random);
    // Never past the window's end, and never before now (a change already past it is due at
    // once, and refused as too old).
    window.map_or(at, |w| at.min(change.created_at() + w).max(now))
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use liveapi::model::linkv::{ChangeGold, CoinRequest, Expiration, OpenId, RequestId};
    use liveapi::model::{ApiError, RawBody, Vendor};
    use liveapi::request::{BuildError, TransportError, TransportErrorKind};

    use super::*;

    fn linkv(status: i64, message: &str) -> Error {
        Error::from(ApiError::linkv(status, message))
    }

    #[test]
    fn every_kind_of_error_has_its_verdict() {
        let unknown = Verdict::Retry(RetryReason::OutcomeUnknown);
        let transient = Verdict::Retry(RetryReason::Transient);
        let blocked = Verdict::Retry(RetryReason::Blocked);
        let clock = Verdict::Retry(RetryReason::Clock);
        let cases = [
            (linkv(500, "system err"), unknown.clone()),
            (
                Error::from(TransportError::new(TransportErrorKind::Timeout)),
                unknown.clone(),
            ),
            (
                Error::from(ApiError::unreadable_answer(
                    Vendor::Linkv,
                    502,
                    "HTML",
                    RawBody::new(b"<html>"),
                )),
                unknown,
            ),
            (
                Error::from(TransportError::new(TransportErrorKind::Throttled)),
                transient.clone(),
            ),
            (
                Error::from(TransportError::new(TransportErrorKind::Connect)),
                transient.clone(),
            ),
            (linkv(429, "slow down"), transient.clone()),
            (linkv(403, "sign err"), blocked.clone()),
            (
                Error::from(ApiError::polyv(400, "error", "invalid timestamp.")),
                clock,
            ),
            (
                Error::from(TransportError::new(TransportErrorKind::Tls)),
                blocked.clone(),
            ),
            (
                Error::from(liveapi::ConfigError::NoCredentials),
                blocked.clone(),
            ),
            (Error::from(BuildError::MissingBody), blocked),
            (
                linkv(400, "insufficient balance"),
                Verdict::Refused(Refusal {
                    kind: RefusalKind::BadParameter,
                    message: "insufficient balance".into(),
                }),
            ),
            // The emulator's words for a reused request id decide nothing: a 400 is a refusal
            // of this request, which was not applied.
            (
                linkv(400, "request_id already used with different parameters"),
                Verdict::Refused(Refusal {
                    kind: RefusalKind::BadParameter,
                    message: "request_id already used with different parameters".into(),
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
        let unreadable = Error::from(ApiError::unreadable_data(
            Vendor::Linkv,
            200,
            "balance is not a number",
            RawBody::new(b"{}"),
        ));
        assert_eq!(verdict(&unreadable), Verdict::Applied { balance: None });
    }

    fn change(made: SystemTime) -> PendingChange {
        let gold = ChangeGold::add(
            OpenId::new("42").unwrap(),
            RequestId::new("crash-000001").unwrap(),
            Coins::new(5).unwrap(),
            Expiration::at_unix_seconds(1_800_000_000),
        )
        .unwrap();
        PendingChange::new(CoinRequest::ChangeGold(gold), made)
    }

    #[test]
    fn a_retry_waits_the_engines_backoff_and_never_lands_past_the_resend_window() {
        let made = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let change = change(made);
        let (base, max) = (Duration::from_secs(10), Duration::from_secs(600));
        let policy = RetryPolicy::default().with_backoff(base, max);
        let window = Duration::from_secs(3_600);
        let unknown = RetryReason::OutcomeUnknown;
        let early = made + Duration::from_secs(60);
        for (attempts, random) in [(1, 0), (1, 7_777), (4, 123_456_789)] {
            assert_eq!(
                next_attempt(
                    &change,
                    attempts,
                    unknown,
                    early,
                    &policy,
                    Some(window),
                    random
                ),
                early + policy.backoff(attempts, random),
                "{attempts} {random}"
            );
        }
        // Near the end, the retry is brought to the window's last moment.
        let late = made + window - Duration::from_secs(5);
        let at = next_attempt(&change, 9, unknown, late, &policy, Some(window), 0);
        assert_eq!(at, made + window);
        // Past it, the next attempt is now, and is refused as too old.
        let past = made + window + Duration::from_secs(5);
        assert_eq!(
            next_attempt(&change, 9, unknown, past, &policy, Some(window), 0),
            past
        );
        // No window: only the backoff counts.
        let at = next_attempt(&change, 9, unknown, late, &policy, None, 0);
        assert_eq!(at, late + max / 2);
        // A clock refused: the first backoff, whatever the attempt.
        let at = next_attempt(&change, 9, RetryReason::Clock, early, &policy, None, 0);
        assert_eq!(at, early + policy.backoff(1, 0));
        assert!(at.duration_since(early).unwrap() <= base);
    }
}
