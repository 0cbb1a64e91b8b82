//! What an answer means: the one table that the engine, `liveapi::Error`, the command line's
//! exit statuses and the outbox all read.
//!
//! Every failed attempt is one of three things: a request that could not be built
//! ([`BuildError`]), no usable answer ([`TransportError`](crate::TransportError)), or the vendor's refusal
//! ([`ApiError`]). Each row below turns one of them into a [`Meaning`]: its [`Class`] (what
//! happened, in the terms a caller decides by), its [`Outcome`] (applied, not applied, or
//! unknown) and its [`Failure`] (what the retry policy makes of it). Nothing else in the
//! workspace decides these; `docs/answers.md` is this table in prose.
//!
//! The signals are the server's own: the HTTP status, the status or code in the body, the
//! messages the vendor documents, and the server's `Date`. A LinkV refusal (400, 401 or 403)
//! while this machine's clock is measured further from the server's `Date` than the nonce
//! window is a clock error whatever its message says, because LinkV documents no message for
//! it (`docs/linkv.md#errors`).

use std::time::Duration;

use liveapi_model::{ApiError, ApiErrorKind, Vendor};

use crate::retry::Failure;
use crate::{BuildError, ClockOffset, TransportErrorKind};

/// What happened, in the terms callers decide by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Class {
    /// A value breaks the vendor's documented rules: refused before anything was sent.
    Invalid,
    /// The client's configuration is at fault (credentials, base URL, settings).
    Config,
    /// Something on this machine failed (randomness, building the request).
    Local,
    /// The server refused the request itself (a parameter, the ledger, the channel, a status
    /// it does not document): the same request gets the same answer.
    Refused,
    /// The server rejected the credentials: a bad signature, an unknown app.
    Auth,
    /// The server refused the request's time: this machine's clock is off.
    Clock,
    /// The server, or the client-side limit, asked to slow down.
    RateLimited,
    /// No usable answer: no connection, a timeout, a broken connection, a server failure, an
    /// answer that could not be read.
    Unavailable,
    /// The change must be reconciled by a person (its balance, the vendor's records) before
    /// anything else is sent for it.
    Reconcile,
}

impl Class {
    /// The class as a short key for logs, metrics and JSON: `invalid`, `refused`,
    /// `rate_limited`…
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Config => "config",
            Self::Local => "local",
            Self::Refused => "refused",
            Self::Auth => "auth",
            Self::Clock => "clock",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Reconcile => "reconcile",
        }
    }
}

/// Whether the call took effect at the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// It did: the server answered success (with data that could not be read).
    Applied,
    /// It may have: the answer was lost, cut off or unreadable, or the server failed while
    /// handling it. Only a resend with the same request id can tell.
    Unknown,
    /// This attempt was not applied; an earlier attempt of the same call may have been.
    NotApplied,
    /// The server judged the request itself (its parameters, or its request id against its
    /// ledger, which answers a repeated id with its first result): no attempt with this
    /// request id was applied.
    NeverApplied,
}

/// What a failed attempt or call means: one row of the table.
///
/// ```
/// use liveapi_request::meaning::{self, Class, Outcome};
/// use liveapi_request::model::ApiError;
///
/// let refused = meaning::of_answer(&ApiError::linkv(400, "insufficient balance"), None);
/// assert_eq!((refused.class(), refused.outcome()), (Class::Refused, Outcome::NeverApplied));
/// assert!(!refused.is_retryable());
///
/// let failed = meaning::of_answer(&ApiError::linkv(500, "system err"), None);
/// assert!(failed.is_retryable() && failed.may_have_been_applied());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Meaning {
    class: Class,
    outcome: Outcome,
    failure: Failure,
}

impl Meaning {
    const fn new(class: Class, outcome: Outcome, failure: Failure) -> Self {
        Self {
            class,
            outcome,
            failure,
        }
    }

    /// A value refused before anything was sent.
    pub const INVALID: Self = Self::new(Class::Invalid, Outcome::NeverApplied, Failure::Fatal);
    /// A configuration that cannot work; nothing was sent.
    pub const CONFIG: Self = Self::new(Class::Config, Outcome::NotApplied, Failure::Fatal);
    /// A change that must be reconciled by a person; nothing was sent now.
    pub const RECONCILE: Self = Self::new(Class::Reconcile, Outcome::NotApplied, Failure::Fatal);

    /// What happened.
    #[must_use]
    pub const fn class(&self) -> Class {
        self.class
    }

    /// Whether the call took effect.
    #[must_use]
    pub const fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// What the retry policy makes of it.
    #[must_use]
    pub const fn failure(&self) -> Failure {
        self.failure
    }

    /// Whether sending the same call again later (re-signed, with the same request id) may
    /// succeed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(
            self.failure,
            Failure::Connect
                | Failure::Transport
                | Failure::Timeout
                | Failure::Retryable
                | Failure::RateLimited
                | Failure::Throttled
                | Failure::ClockSkew
        )
    }

    /// Whether the call may have taken effect: applied, or unknown.
    #[must_use]
    pub const fn may_have_been_applied(&self) -> bool {
        matches!(self.outcome, Outcome::Applied | Outcome::Unknown)
    }

    /// Whether a person must reconcile the change before anything else is sent for it.
    #[must_use]
    pub const fn needs_reconciliation(&self) -> bool {
        matches!(self.class, Class::Reconcile)
    }

    /// What a whole call means when this was its last attempt: an earlier attempt whose
    /// outcome was unknown stays unknown unless this answer judged the request itself, and a
    /// refusal of the request's time that the policy stopped at is this machine's clock
    /// (retrying once with a fresh signature has covered a slow network).
    ///
    /// ```
    /// use liveapi_request::meaning::{self, Outcome};
    /// use liveapi_request::model::ApiError;
    ///
    /// let limited = meaning::of_answer(&ApiError::linkv(429, "slow down"), None);
    /// assert_eq!(limited.of_call(true).outcome(), Outcome::Unknown);
    /// let refused = meaning::of_answer(&ApiError::linkv(400, "param err"), None);
    /// assert_eq!(refused.of_call(true).outcome(), Outcome::NeverApplied);
    /// ```
    #[must_use]
    pub const fn of_call(self, earlier_outcome_unknown: bool) -> Self {
        let outcome = match self.outcome {
            Outcome::NotApplied if earlier_outcome_unknown => Outcome::Unknown,
            outcome => outcome,
        };
        let failure = match self.failure {
            Failure::ClockSkew => Failure::Clock,
            failure => failure,
        };
        Self::new(self.class, outcome, failure)
    }
}

/// How far a vendor's server may be from the time a request carries: LinkV's nonce window,
/// Polyv's timestamp window (`docs/linkv.md#nonce-and-time`, `docs/polyv.md#timestamp`).
#[must_use]
pub const fn time_window(vendor: Vendor) -> Duration {
    match vendor {
        Vendor::Linkv => liveapi_sign::linkv::DEFAULT_WINDOW,
        Vendor::Polyv => liveapi_sign::polyv::DEFAULT_WINDOW,
    }
}

/// What a vendor's refusal means, given how far this machine's clock was from the server's
/// `Date` when the answer arrived (`None` when the answer had no `Date`).
///
/// | kind | class | outcome | retry |
/// |---|---|---|---|
/// | `BadParameter` | `Refused` | `NeverApplied` | never |
/// | `BadSignature`, `UnknownApp` | `Auth` | `NotApplied` | never |
/// | `ExpiredTimestamp` | `Clock` | `NotApplied` | once, re-signed |
/// | `IllegalChannel` | `Refused` | `NeverApplied` | never |
/// | `RateLimited` | `RateLimited` | `NotApplied` | after a longer pause |
/// | `ServerError` | `Unavailable` | `Unknown` | after a backoff |
/// | `Unrecognised` | `Refused` | `NotApplied` | never |
/// | `UnreadableAnswer` | `Unavailable` | `Unknown` | after a backoff |
/// | `UnreadableData` | `Unavailable` | `Applied` | never |
///
/// A `BadParameter`, `BadSignature` or `ExpiredTimestamp` answer while the clocks are further
/// apart than the vendor's [`time_window`] is `Clock`, `NotApplied`, and never retried: a
/// fresh signature on the same clock would be refused again.
#[must_use]
pub fn of_answer(error: &ApiError, clock_offset: Option<ClockOffset>) -> Meaning {
    use Class::{Auth, Clock, RateLimited, Refused, Unavailable};
    use Outcome::{Applied, NeverApplied, NotApplied, Unknown};

    let time_refusal = matches!(
        error.kind(),
        ApiErrorKind::BadParameter | ApiErrorKind::BadSignature | ApiErrorKind::ExpiredTimestamp
    );
    let clock_off =
        clock_offset.is_some_and(|offset| offset.magnitude() > time_window(error.vendor()));
    if time_refusal && clock_off {
        return Meaning::new(Clock, NotApplied, Failure::Clock);
    }
    match error.kind() {
        ApiErrorKind::BadParameter | ApiErrorKind::IllegalChannel => {
            Meaning::new(Refused, NeverApplied, Failure::Fatal)
        }
        ApiErrorKind::BadSignature | ApiErrorKind::UnknownApp => {
            Meaning::new(Auth, NotApplied, Failure::Fatal)
        }
        ApiErrorKind::ExpiredTimestamp => Meaning::new(Clock, NotApplied, Failure::ClockSkew),
        ApiErrorKind::RateLimited => Meaning::new(RateLimited, NotApplied, Failure::RateLimited),
        ApiErrorKind::ServerError | ApiErrorKind::UnreadableAnswer => {
            Meaning::new(Unavailable, Unknown, Failure::Retryable)
        }
        ApiErrorKind::UnreadableData => Meaning::new(Unavailable, Applied, Failure::Fatal),
        // `Unrecognised`, and any kind a later version of the model adds, until it gets a row
        // of its own: a refusal that settles nothing.
        _ => Meaning::new(Refused, NotApplied, Failure::Fatal),
    }
}

/// What an attempt that got no usable answer means.
///
/// | kind | class | outcome | retry |
/// |---|---|---|---|
/// | `Connect` | `Unavailable` | `NotApplied` | after a backoff |
/// | `Timeout` | `Unavailable` | `Unknown` | after a backoff |
/// | `Io` | `Unavailable` | `Unknown` | after a backoff |
/// | `Tls`, `NoTls` | `Unavailable` | `NotApplied` | never |
/// | `BodyTooLarge` | `Unavailable` | `Unknown` | never |
/// | `Throttled` | `RateLimited` | `NotApplied` | not within the call; later |
#[must_use]
pub fn of_transport(kind: TransportErrorKind) -> Meaning {
    use Class::{RateLimited, Unavailable};
    use Outcome::{NotApplied, Unknown};
    match kind {
        TransportErrorKind::Connect => Meaning::new(Unavailable, NotApplied, Failure::Connect),
        TransportErrorKind::Timeout => Meaning::new(Unavailable, Unknown, Failure::Timeout),
        TransportErrorKind::Io => Meaning::new(Unavailable, Unknown, Failure::Transport),
        TransportErrorKind::BodyTooLarge => Meaning::new(Unavailable, Unknown, Failure::Fatal),
        TransportErrorKind::Throttled => Meaning::new(RateLimited, NotApplied, Failure::Throttled),
        // `Tls`, `NoTls`: the request never left this machine.
        _ => Meaning::new(Unavailable, NotApplied, Failure::Fatal),
    }
}

/// What a request that could not be built means: nothing was sent. A plain-HTTP URL to
/// another host, credentials without the alias a call needs, and a rate limiter that cannot
/// work as configured are the configuration's fault; anything else is this machine's.
///
/// | cause | class | outcome | retry |
/// |---|---|---|---|
/// | `InsecureHttp`, `MissingAlias`, `RateLimiter` | `Config` | `NotApplied` | never |
/// | anything else | `Local` | `NotApplied` | never |
#[must_use]
pub fn of_build(error: &BuildError) -> Meaning {
    match error {
        BuildError::InsecureHttp(_) | BuildError::MissingAlias | BuildError::RateLimiter(_) => {
            Meaning::CONFIG
        }
        _ => Meaning::new(Class::Local, Outcome::NotApplied, Failure::Fatal),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use liveapi_model::RawBody;

    use super::*;
    use crate::InsecureHttp;

    fn offset(seconds: i64) -> Option<ClockOffset> {
        let server = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let local: SystemTime = if seconds >= 0 {
            server + Duration::from_secs(seconds.unsigned_abs())
        } else {
            server - Duration::from_secs(seconds.unsigned_abs())
        };
        Some(ClockOffset::between(local, server))
    }

    /// The whole table for vendor answers: (answer, `Date` offset in seconds) → meaning.
    #[test]
    fn every_vendor_answer_has_its_row() {
        use Class::*;
        use Outcome::*;
        let linkv = ApiError::linkv;
        let polyv = |code, message| ApiError::polyv(code, "error", message);
        let unreadable =
            ApiError::unreadable_answer(Vendor::Linkv, 502, "HTML", RawBody::new(b"<html>"));
        let unreadable_data =
            ApiError::unreadable_data(Vendor::Linkv, 200, "no tokens", RawBody::new(b"{}"));
        let none = None;
        type Row = (ApiError, Option<ClockOffset>, (Class, Outcome, Failure));
        let table: Vec<Row> = vec![
            // LinkV, by status; a Date within the window changes nothing.
            (
                linkv(400, "insufficient balance"),
                none,
                (Refused, NeverApplied, Failure::Fatal),
            ),
            (
                linkv(400, "insufficient balance"),
                offset(300),
                (Refused, NeverApplied, Failure::Fatal),
            ),
            (
                linkv(400, "nonce_str expired"),
                offset(-299),
                (Refused, NeverApplied, Failure::Fatal),
            ),
            (
                linkv(403, "sign err"),
                none,
                (Auth, NotApplied, Failure::Fatal),
            ),
            (
                linkv(401, "unauthorised"),
                offset(10),
                (Auth, NotApplied, Failure::Fatal),
            ),
            (
                linkv(429, "slow down"),
                none,
                (RateLimited, NotApplied, Failure::RateLimited),
            ),
            (
                linkv(500, "system err"),
                none,
                (Unavailable, Unknown, Failure::Retryable),
            ),
            (
                linkv(503, "busy"),
                offset(900),
                (Unavailable, Unknown, Failure::Retryable),
            ),
            (
                linkv(404, "gone"),
                none,
                (Refused, NotApplied, Failure::Fatal),
            ),
            (
                unreadable.clone(),
                none,
                (Unavailable, Unknown, Failure::Retryable),
            ),
            (
                unreadable_data,
                none,
                (Unavailable, Applied, Failure::Fatal),
            ),
            // LinkV refusals past the nonce window are the clock, whatever the words.
            (
                linkv(400, "nonce_str expired"),
                offset(301),
                (Clock, NotApplied, Failure::Clock),
            ),
            (
                linkv(400, "param err"),
                offset(-362),
                (Clock, NotApplied, Failure::Clock),
            ),
            (
                linkv(403, "sign err"),
                offset(3_600),
                (Clock, NotApplied, Failure::Clock),
            ),
            // ...but a server failure or a rate limit is what it says.
            (
                linkv(429, "slow down"),
                offset(3_600),
                (RateLimited, NotApplied, Failure::RateLimited),
            ),
            (
                unreadable,
                offset(3_600),
                (Unavailable, Unknown, Failure::Retryable),
            ),
            // Polyv, by code and documented message.
            (
                polyv(400, "param validate error"),
                none,
                (Refused, NeverApplied, Failure::Fatal),
            ),
            (
                polyv(403, "illegal channel id: 7"),
                none,
                (Refused, NeverApplied, Failure::Fatal),
            ),
            (
                polyv(403, "illegal channel id: 7"),
                offset(600),
                (Refused, NeverApplied, Failure::Fatal),
            ),
            (
                polyv(403, "invalid signature."),
                none,
                (Auth, NotApplied, Failure::Fatal),
            ),
            (
                polyv(400, "application not found."),
                offset(600),
                (Auth, NotApplied, Failure::Fatal),
            ),
            (
                polyv(400, "invalid timestamp."),
                none,
                (Clock, NotApplied, Failure::ClockSkew),
            ),
            (
                polyv(400, "invalid timestamp."),
                offset(180),
                (Clock, NotApplied, Failure::ClockSkew),
            ),
            (
                polyv(400, "invalid timestamp."),
                offset(181),
                (Clock, NotApplied, Failure::Clock),
            ),
            (
                polyv(400, "param validate error"),
                offset(-181),
                (Clock, NotApplied, Failure::Clock),
            ),
            (
                polyv(429, "qps exceeds number of calls"),
                none,
                (RateLimited, NotApplied, Failure::RateLimited),
            ),
            (
                ApiError::polyv(500, "fail", "boom"),
                none,
                (Unavailable, Unknown, Failure::Retryable),
            ),
            (
                ApiError::polyv(601, "error", "odd"),
                none,
                (Refused, NotApplied, Failure::Fatal),
            ),
        ];
        for (error, offset, (class, outcome, failure)) in table {
            let meaning = of_answer(&error, offset);
            assert_eq!(
                (meaning.class(), meaning.outcome(), meaning.failure()),
                (class, outcome, failure),
                "{error} at {offset:?}"
            );
        }
    }

    #[test]
    fn every_transport_failure_has_its_row() {
        use Class::*;
        use Outcome::*;
        for (kind, expected) in [
            (
                TransportErrorKind::Connect,
                (Unavailable, NotApplied, Failure::Connect),
            ),
            (
                TransportErrorKind::Timeout,
                (Unavailable, Unknown, Failure::Timeout),
            ),
            (
                TransportErrorKind::Io,
                (Unavailable, Unknown, Failure::Transport),
            ),
            (
                TransportErrorKind::Tls,
                (Unavailable, NotApplied, Failure::Fatal),
            ),
            (
                TransportErrorKind::NoTls,
                (Unavailable, NotApplied, Failure::Fatal),
            ),
            (
                TransportErrorKind::BodyTooLarge,
                (Unavailable, Unknown, Failure::Fatal),
            ),
            (
                TransportErrorKind::Throttled,
                (RateLimited, NotApplied, Failure::Throttled),
            ),
        ] {
            let meaning = of_transport(kind);
            assert_eq!(
                (meaning.class(), meaning.outcome(), meaning.failure()),
                expected,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_request_that_could_not_be_built_sent_nothing() {
        let insecure = BuildError::InsecureHttp(InsecureHttp::new(Vendor::Linkv, "example.com"));
        assert_eq!(of_build(&insecure), Meaning::CONFIG);
        assert_eq!(of_build(&BuildError::MissingAlias), Meaning::CONFIG);
        let limiter = BuildError::RateLimiter(crate::LimiterConfigError::new("wrong password"));
        assert_eq!(of_build(&limiter), Meaning::CONFIG);
        let local = of_build(&BuildError::MissingBody);
        assert_eq!(
            (local.class(), local.outcome(), local.failure()),
            (Class::Local, Outcome::NotApplied, Failure::Fatal)
        );
    }

    #[test]
    fn what_follows_from_each_row() {
        let retryable = [
            Failure::Connect,
            Failure::Transport,
            Failure::Timeout,
            Failure::Retryable,
            Failure::RateLimited,
            Failure::Throttled,
            Failure::ClockSkew,
        ];
        for failure in retryable {
            assert!(Meaning::new(Class::Unavailable, Outcome::Unknown, failure).is_retryable());
        }
        for failure in [Failure::Fatal, Failure::Clock] {
            assert!(!Meaning::new(Class::Unavailable, Outcome::Unknown, failure).is_retryable());
        }
        for (outcome, may) in [
            (Outcome::Applied, true),
            (Outcome::Unknown, true),
            (Outcome::NotApplied, false),
            (Outcome::NeverApplied, false),
        ] {
            let meaning = Meaning::new(Class::Refused, outcome, Failure::Fatal);
            assert_eq!(meaning.may_have_been_applied(), may, "{outcome:?}");
            assert!(!meaning.needs_reconciliation());
        }
        assert!(Meaning::RECONCILE.needs_reconciliation());
        assert!(!Meaning::RECONCILE.may_have_been_applied() && !Meaning::RECONCILE.is_retryable());
        assert!(!Meaning::INVALID.may_have_been_applied() && !Meaning::CONFIG.is_retryable());
    }

    #[test]
    fn a_call_keeps_an_earlier_unknown_outcome_unless_its_last_answer_settles_it() {
        use Outcome::*;
        for (outcome, earlier, expected) in [
            (NotApplied, true, Unknown),
            (NotApplied, false, NotApplied),
            (NeverApplied, true, NeverApplied),
            (Applied, true, Applied),
            (Unknown, false, Unknown),
        ] {
            let last = Meaning::new(Class::Auth, outcome, Failure::Fatal);
            assert_eq!(
                last.of_call(earlier).outcome(),
                expected,
                "{outcome:?} {earlier}"
            );
        }
        // A time refusal the policy stopped at is the clock, and no longer retryable.
        let skew = Meaning::new(Class::Clock, NotApplied, Failure::ClockSkew);
        assert!(skew.is_retryable());
        let call = skew.of_call(false);
        assert_eq!(
            (call.class(), call.failure()),
            (Class::Clock, Failure::Clock)
        );
        assert!(!call.is_retryable());
        let timeout = of_transport(TransportErrorKind::Timeout).of_call(false);
        assert_eq!(timeout.failure(), Failure::Timeout);
    }

    #[test]
    fn the_windows_are_the_vendors() {
        assert_eq!(time_window(Vendor::Linkv), Duration::from_secs(300));
        assert_eq!(time_window(Vendor::Polyv), Duration::from_secs(180));
    }

    #[test]
    fn every_class_has_a_distinct_key() {
        let classes = [
            Class::Invalid,
            Class::Config,
            Class::Local,
            Class::Refused,
            Class::Auth,
            Class::Clock,
            Class::RateLimited,
            Class::Unavailable,
            Class::Reconcile,
        ];
        let keys: std::collections::HashSet<_> = classes.iter().map(|c| c.as_str()).collect();
        assert_eq!(keys.len(), classes.len());
        assert_eq!(Class::RateLimited.as_str(), "rate_limited");
    }
}
