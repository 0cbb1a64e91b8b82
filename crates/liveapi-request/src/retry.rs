//! When to try a call again: a pure decision, the same for every transport.
//!
//! Every retry is re-signed (fresh nonce or timestamp) and keeps the operation's
//! `request_id`, so the server applies a coin change at most once however often it is sent.

use std::time::Duration;

/// How one attempt failed, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// The connection could not be opened: the request certainly did not reach the server.
    Connect,
    /// The connection failed after the request may have been sent, or the answer was cut off.
    Transport,
    /// No answer within the per-attempt timeout.
    Timeout,
    /// The server answered with an error that may go away: a 5xx, an expired timestamp, an
    /// unreadable answer.
    Retryable,
    /// The server asked to slow down.
    RateLimited,
    /// The client-side rate limit would have made the call wait past its deadline. Nothing
    /// was sent; not retried within the call, which has no time left, but a later call may
    /// succeed.
    Throttled,
    /// The server refused the request's time: a LinkV nonce or a Polyv timestamp outside its
    /// window. A fresh signature covers a slow network, so it is retried once; a second such
    /// refusal means the local clock is off, which no retry can fix.
    ClockSkew,
    /// The server refused the request's time and its `Date` shows this machine's clock
    /// outside the window: a fresh signature on the same clock would be refused too.
    Clock,
    /// The server refused the call for a reason retrying cannot fix: a bad parameter, a bad
    /// signature, an unknown app.
    Fatal,
}

/// One failed attempt, with what the decision needs to know about it.
///
/// ```
/// use std::time::Duration;
/// use liveapi_request::retry::{Attempt, Failure};
///
/// let attempt = Attempt::new(2, Failure::Timeout)
///     .with_remaining(Some(Duration::from_secs(3)))
///     .with_retry_after(Some(Duration::from_secs(1)));
/// assert_eq!(attempt.number, 2);
/// assert!(attempt.idempotent);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// How many attempts have been made, this one included (1 after the first).
    pub number: u32,
    /// How it failed.
    pub failure: Failure,
    /// Whether sending the call twice is harmless (all calls of this SDK are: the ledger calls
    /// carry a `request_id`, the others read or overwrite settings).
    pub idempotent: bool,
    /// Time left before the caller's overall deadline, if there is one.
    pub remaining: Option<Duration>,
    /// How long the server asked the client to wait (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
    /// How many attempts of the call so far, this one included, the server refused for their
    /// time ([`Failure::ClockSkew`]).
    pub clock_refusals: u32,
}

impl Attempt {
    /// Attempt `number` (from 1) failed as `failure`; idempotent, no deadline, no
    /// `Retry-After`.
    #[must_use]
    pub const fn new(number: u32, failure: Failure) -> Self {
        Self {
            number,
            failure,
            idempotent: true,
            remaining: None,
            retry_after: None,
            clock_refusals: if matches!(failure, Failure::ClockSkew) {
                1
            } else {
                0
            },
        }
    }

    /// Whether sending the call twice is harmless.
    #[must_use]
    pub const fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Time left before the overall deadline.
    #[must_use]
    pub const fn with_remaining(mut self, remaining: Option<Duration>) -> Self {
        self.remaining = remaining;
        self
    }

    /// The server's `Retry-After`.
    #[must_use]
    pub const fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// How many attempts of the call, this one included, were refused for their time.
    #[must_use]
    pub const fn with_clock_refusals(mut self, refusals: u32) -> Self {
        self.clock_refusals = refusals;
        self
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Give up and report the failure.
    Stop,
    /// Sign the call again and send it after this pause.
    RetryAfter(Duration),
}

/// Exponential backoff with jitter, a cap on attempts and a longer pause when rate limited.
///
/// ```
/// use std::time::Duration;
/// use liveapi_request::retry::{Attempt, Decision, Failure, RetryPolicy};
///
/// let policy = RetryPolicy::default();
/// let attempt = Attempt::new(1, Failure::Timeout);
/// assert!(matches!(policy.decide(attempt, 0), Decision::RetryAfter(_)));
/// assert_eq!(policy.decide(Attempt::new(1, Failure::Fatal), 0), Decision::Stop);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    rate_limited_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts; pauses of about 100 ms, 200 ms, 400 ms (each between half and all of that,
    /// at random), capped at 5 s; at least 1 s after rate limiting.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            rate_limited_backoff: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    #[must_use]
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// At most `attempts` attempts in all (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The pause before the first retry, doubled for each further one up to `max`.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The shortest pause after the server asked to slow down.
    #[must_use]
    pub fn with_rate_limited_backoff(mut self, pause: Duration) -> Self {
        self.rate_limited_backoff = pause;
        self
    }

    /// The most attempts made.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether a failure of this kind may be retried at all.
    fn retryable(attempt: &Attempt) -> bool {
        match attempt.failure {
            // Refused before anything happened: safe for any call.
            Failure::Connect | Failure::RateLimited => true,
            // The limiter already waited as long as the deadline allowed; the clock is off.
            Failure::Throttled | Failure::Clock => false,
            // Refused for its time: once, for a slow network; twice is the local clock.
            Failure::ClockSkew => attempt.clock_refusals <= 1,
            // The call may have been applied: only an idempotent call may be sent again.
            Failure::Transport | Failure::Timeout | Failure::Retryable => attempt.idempotent,
            Failure::Fatal => false,
        }
    }

    /// The longest pause before the retry that follows attempt `number`: the initial backoff
    /// doubled for each attempt after the first, up to the cap.
    fn ceiling(&self, number: u32) -> Duration {
        let doublings = number.saturating_sub(1).min(30);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    /// The pause before the retry that follows attempt `number` (from 1): between half and all
    /// of [the doubled backoff](Self::with_backoff) ("equal jitter"), the share drawn from
    /// `random`, so that many senders that failed together do not retry together. The
    /// engine's retries within a call and the outbox's resends across calls both wait this
    /// long.
    ///
    /// ```
    /// use std::time::Duration;
    /// use liveapi_request::retry::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().with_backoff(Duration::from_secs(1), Duration::from_secs(60));
    /// assert_eq!(policy.backoff(1, 0), Duration::from_millis(500));
    /// // Attempt 3: 4 s doubled from 1 s, so between 2 s and 4 s; 2 000 000 µs more than the half.
    /// assert_eq!(policy.backoff(3, 2_000_000), Duration::from_secs(4));
    /// assert_eq!(policy.backoff(30, 0), Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn backoff(&self, number: u32, random: u64) -> Duration {
        Self::jitter(self.ceiling(number), random)
    }

    /// Between half and all of `ceiling`, by `random`.
    fn jitter(ceiling: Duration, random: u64) -> Duration {
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(random % spread.saturating_add(1))
    }

    /// Decides what follows a failed attempt. `random` is any random number: the pause is
    /// drawn between half and all of the backoff from it, so that many clients that failed
    /// together do not retry together.
    ///
    /// A server's `Retry-After` lengthens the pause to at least what it asked; when that wait
    /// would pass the deadline, the call stops instead of retrying too early.
    #[must_use]
    pub fn decide(&self, attempt: Attempt, random: u64) -> Decision {
        if attempt.number >= self.max_attempts || !Self::retryable(&attempt) {
            return Decision::Stop;
        }
        let mut ceiling = self.ceiling(attempt.number);
        if attempt.failure == Failure::RateLimited {
            ceiling = ceiling.max(self.rate_limited_backoff);
        }
        let jittered = Self::jitter(ceiling, random);
        let pause = attempt
            .retry_after
            .map_or(jittered, |asked| asked.max(jittered));
        match attempt.remaining {
            Some(remaining) if pause >= remaining => Decision::Stop,
            _ => Decision::RetryAfter(pause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn attempt(number: u32, failure: Failure, idempotent: bool) -> Attempt {
        Attempt::new(number, failure).with_idempotent(idempotent)
    }

    #[test]
    fn decision_table() {
        use Decision::{RetryAfter, Stop};
        use Failure::*;
        let policy = RetryPolicy::default();
        // random = 0 gives the lower bound of the pause (half the backoff), u64::MAX-ish the
        // upper bound.
        let table = [
            // number, failure, idempotent, random, expected
            (1, Connect, false, 0, RetryAfter(ms(50))),
            (1, Transport, true, 0, RetryAfter(ms(50))),
            (1, Transport, false, 0, Stop),
            (1, Timeout, true, 0, RetryAfter(ms(50))),
            (1, Timeout, false, 0, Stop),
            (1, Retryable, true, 0, RetryAfter(ms(50))),
            (1, Retryable, false, 0, Stop),
            (1, RateLimited, false, 0, RetryAfter(ms(500))),
            (1, Fatal, true, 0, Stop),
            (1, Throttled, true, 0, Stop),
            (1, Clock, true, 0, Stop),
            (1, ClockSkew, true, 0, RetryAfter(ms(50))),
            (2, Timeout, true, 0, RetryAfter(ms(100))),
            (3, Timeout, true, 0, RetryAfter(ms(200))),
            (3, RateLimited, true, 0, RetryAfter(ms(500))),
            (4, Timeout, true, 0, Stop),
            (4, Connect, true, 0, Stop),
            (1, Timeout, true, 50_000, RetryAfter(ms(100))),
            (1, Timeout, true, 50_001, RetryAfter(ms(50))),
            (2, Timeout, true, 25_000, RetryAfter(ms(125))),
        ];
        for (number, failure, idempotent, random, expected) in table {
            assert_eq!(
                policy.decide(attempt(number, failure, idempotent), random),
                expected,
                "attempt {number} {failure:?} idempotent={idempotent} random={random}"
            );
        }
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy::default().with_max_attempts(100);
        for number in 1..100 {
            match policy.decide(attempt(number, Failure::Retryable, true), u64::MAX) {
                Decision::RetryAfter(pause) => assert!(pause <= Duration::from_secs(5)),
                Decision::Stop => panic!("attempt {number} stopped"),
            }
        }
    }

    #[test]
    fn no_retry_past_the_deadline() {
        let policy = RetryPolicy::default();
        let mut a = attempt(1, Failure::Timeout, true);
        a.remaining = Some(ms(50));
        assert_eq!(policy.decide(a, 0), Decision::Stop);
        a.remaining = Some(ms(51));
        assert_eq!(policy.decide(a, 0), Decision::RetryAfter(ms(50)));
    }

    #[test]
    fn retry_after_is_honoured_within_the_deadline() {
        use Decision::{RetryAfter, Stop};
        let policy = RetryPolicy::default();
        // (failure, retry-after, remaining, random, expected)
        let table = [
            // The server asks for longer than the backoff: wait what it asked.
            (
                Failure::Retryable,
                Some(ms(2_000)),
                None,
                0,
                RetryAfter(ms(2_000)),
            ),
            (
                Failure::RateLimited,
                Some(ms(3_000)),
                Some(ms(3_001)),
                0,
                RetryAfter(ms(3_000)),
            ),
            // Shorter than the backoff: the backoff wins.
            (
                Failure::Retryable,
                Some(ms(10)),
                None,
                0,
                RetryAfter(ms(50)),
            ),
            (
                Failure::RateLimited,
                Some(ms(0)),
                None,
                0,
                RetryAfter(ms(500)),
            ),
            // Not enough time left to wait as asked: stop, do not retry early.
            (
                Failure::Retryable,
                Some(ms(2_000)),
                Some(ms(2_000)),
                0,
                Stop,
            ),
            (
                Failure::RateLimited,
                Some(ms(60_000)),
                Some(ms(30_000)),
                0,
                Stop,
            ),
            // A refusal stays a refusal whatever the header says.
            (Failure::Fatal, Some(ms(1)), None, 0, Stop),
        ];
        for (failure, retry_after, remaining, random, expected) in table {
            let attempt = Attempt::new(1, failure)
                .with_retry_after(retry_after)
                .with_remaining(remaining);
            assert_eq!(
                policy.decide(attempt, random),
                expected,
                "{failure:?} retry-after {retry_after:?} remaining {remaining:?}"
            );
        }
    }

    #[test]
    fn a_clock_refusal_is_retried_once() {
        let policy = RetryPolicy::default().with_max_attempts(10);
        let first = Attempt::new(1, Failure::ClockSkew);
        assert_eq!(first.clock_refusals, 1);
        assert_eq!(policy.decide(first, 0), Decision::RetryAfter(ms(50)));
        let second = Attempt::new(2, Failure::ClockSkew).with_clock_refusals(2);
        assert_eq!(policy.decide(second, 0), Decision::Stop);
        // A clock refusal after other failures still gets its one retry.
        let later = Attempt::new(3, Failure::ClockSkew).with_clock_refusals(1);
        assert_eq!(policy.decide(later, 0), Decision::RetryAfter(ms(200)));
        assert_eq!(Attempt::new(1, Failure::Timeout).clock_refusals, 0);
    }

    #[test]
    fn the_backoff_doubles_to_its_cap_with_jitter_in_the_upper_half() {
        let policy = RetryPolicy::default()
            .with_max_attempts(100)
            .with_backoff(Duration::from_secs(1), Duration::from_secs(60));
        for number in 1..40 {
            let full = Duration::from_secs(1)
                .saturating_mul(1 << (number - 1).min(30))
                .min(Duration::from_secs(60));
            let half = u64::try_from((full / 2).as_micros()).unwrap();
            assert_eq!(policy.backoff(number, 0), full / 2, "{number}");
            assert_eq!(policy.backoff(number, half), full, "{number}");
            assert_eq!(
                policy.backoff(number, half + 1),
                full / 2,
                "{number}: wraps"
            );
            let middle = policy.backoff(number, u64::try_from((full / 4).as_micros()).unwrap());
            assert_eq!(middle, full * 3 / 4, "{number}");
            // The engine's retries wait the same, but for rate limiting's floor.
            assert_eq!(
                policy.decide(attempt(number, Failure::Timeout, true), 7),
                Decision::RetryAfter(policy.backoff(number, 7))
            );
        }
        assert_eq!(policy.backoff(0, 0), policy.backoff(1, 0));
    }

    #[test]
    fn never_means_one_attempt() {
        let policy = RetryPolicy::never();
        assert_eq!(
            policy.decide(attempt(1, Failure::Connect, true), 0),
            Decision::Stop
        );
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
    }
}
