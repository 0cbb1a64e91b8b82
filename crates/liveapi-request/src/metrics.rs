//! What the call engine counts and times, through the `metrics` facade.
//!
//! Nothing is recorded anywhere until the application installs a recorder (for example
//! `metrics-exporter-prometheus`); without one, each record is an atomic load and a compare.
//! The names follow Prometheus' conventions (`_total` for counters, `_seconds` for times) and
//! are listed, with every other crate's, in `docs/metrics.md`.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `liveapi_calls_total` | counter | `vendor`, `operation`, `outcome` | calls that ended; `outcome` is [`outcome`] |
//! | `liveapi_attempts_total` | counter | `vendor`, `operation` | attempts sent or tried, retries included |
//! | `liveapi_retries_total` | counter | `vendor`, `operation`, `class` | attempts followed by a retry, by the [`Class`] of the failure |
//! | `liveapi_call_duration_seconds` | histogram | `vendor`, `operation` | from the call's start to its end, pauses included |
//! | `liveapi_rate_limit_wait_seconds` | histogram | `vendor` | time an attempt waited for a rate-limit permit |

use std::time::Duration;

use crate::Vendor;
use crate::meaning::{Class, Meaning};

/// Calls that ended, by vendor, operation and [`outcome`].
pub const CALLS: &str = "liveapi_calls_total";
/// Attempts, retries included, by vendor and operation.
pub const ATTEMPTS: &str = "liveapi_attempts_total";
/// Failed attempts that were retried, by vendor, operation and class.
pub const RETRIES: &str = "liveapi_retries_total";
/// How long calls took, by vendor and operation.
pub const CALL_DURATION: &str = "liveapi_call_duration_seconds";
/// How long attempts waited for a rate-limit permit, by vendor.
pub const RATE_LIMIT_WAIT: &str = "liveapi_rate_limit_wait_seconds";

/// The `outcome` label of a call that did not succeed: `outcome_unknown` whenever it may have
/// been applied (what an operator must watch first), else `auth`, `clock`, `throttled`,
/// `refused` (the server, or a documented rule, refused the request), or `failed` (no answer,
/// configuration, this machine). A call that succeeded is `ok`.
///
/// ```
/// use liveapi_request::{meaning, metrics};
/// use liveapi_request::model::ApiError;
///
/// let refused = meaning::of_answer(&ApiError::linkv(400, "insufficient balance"), None);
/// assert_eq!(metrics::outcome(&refused), "refused");
/// let failed = meaning::of_answer(&ApiError::linkv(500, "system err"), None);
/// assert_eq!(metrics::outcome(&failed), "outcome_unknown");
/// ```
#[must_use]
pub fn outcome(meaning: &Meaning) -> &'static str {
    if meaning.may_have_been_applied() {
        return "outcome_unknown";
    }
    match meaning.class() {
        Class::Auth => "auth",
        Class::Clock => "clock",
        Class::RateLimited => "throttled",
        Class::Refused | Class::Invalid => "refused",
        _ => "failed",
    }
}

/// Describes every metric above (unit and help text) to the installed recorder. Call it once,
/// after installing one, so that exporters show the help and the units.
pub fn describe() {
    metrics::describe_counter!(CALLS, "Calls that ended, by vendor, operation and outcome.");
    metrics::describe_counter!(ATTEMPTS, "Attempts sent or tried, retries included.");
    metrics::describe_counter!(
        RETRIES,
        "Failed attempts followed by a retry, by the class of the failure."
    );
    metrics::describe_histogram!(
        CALL_DURATION,
        metrics::Unit::Seconds,
        "How long calls took, retries and pauses included."
    );
    metrics::describe_histogram!(
        RATE_LIMIT_WAIT,
        metrics::Unit::Seconds,
        "How long attempts waited for a rate-limit permit."
    );
}

/// A call ended after `took`: `None` for success, else what its failure means.
pub(crate) fn call_ended(
    vendor: Vendor,
    operation: &'static str,
    failure: Option<&Meaning>,
    took: Duration,
) {
    let outcome = failure.map_or("ok", outcome);
    metrics::counter!(CALLS, "vendor" => vendor.as_str(), "operation" => operation, "outcome" => outcome)
        .increment(1);
    metrics::histogram!(CALL_DURATION, "vendor" => vendor.as_str(), "operation" => operation)
        .record(took.as_secs_f64());
}

/// An attempt is about to be made.
pub(crate) fn attempt(vendor: Vendor, operation: &'static str) {
    metrics::counter!(ATTEMPTS, "vendor" => vendor.as_str(), "operation" => operation).increment(1);
}

/// An attempt failed as `meaning` says, and is retried.
pub(crate) fn retry(vendor: Vendor, operation: &'static str, meaning: &Meaning) {
    metrics::counter!(
        RETRIES,
        "vendor" => vendor.as_str(),
        "operation" => operation,
        "class" => meaning.class().as_str()
    )
    .increment(1);
}

/// An attempt waited `waited` for a rate-limit permit (or until it gave up).
pub(crate) fn rate_limit_waited(vendor: Vendor, waited: Duration) {
    metrics::histogram!(RATE_LIMIT_WAIT, "vendor" => vendor.as_str()).record(waited.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use liveapi_model::ApiError;

    use super::*;
    use crate::meaning;
    use crate::{BuildError, TransportErrorKind};

    #[test]
    fn every_failure_has_its_outcome_label() {
        let answer = |e: ApiError| meaning::of_answer(&e, None);
        let cases = [
            (answer(ApiError::linkv(400, "param err")), "refused"),
            (answer(ApiError::linkv(404, "gone")), "refused"),
            (answer(ApiError::linkv(403, "sign err")), "auth"),
            (answer(ApiError::linkv(429, "slow")), "throttled"),
            (answer(ApiError::linkv(500, "boom")), "outcome_unknown"),
            (
                answer(ApiError::polyv(400, "error", "invalid timestamp.")),
                "clock",
            ),
            (
                meaning::of_transport(TransportErrorKind::Throttled),
                "throttled",
            ),
            (
                meaning::of_transport(TransportErrorKind::Timeout),
                "outcome_unknown",
            ),
            (meaning::of_transport(TransportErrorKind::Connect), "failed"),
            (meaning::of_transport(TransportErrorKind::Tls), "failed"),
            (meaning::of_build(&BuildError::MissingBody), "failed"),
            (Meaning::CONFIG, "failed"),
            (Meaning::INVALID, "refused"),
            (Meaning::RECONCILE, "failed"),
            // An earlier unknown attempt outweighs the last refusal of the credentials.
            (
                answer(ApiError::linkv(403, "sign err")).of_call(true),
                "outcome_unknown",
            ),
        ];
        for (meaning, label) in cases {
            assert_eq!(outcome(&meaning), label, "{meaning:?}");
        }
    }
}
