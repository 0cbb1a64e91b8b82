//! What the Redis rate limiter records through the `metrics` facade, listed with the other
//! crates' metrics in `docs/metrics.md`. Each is recorded only when the limiter's link with
//! Redis changes, never per permit, so the egress label (an operator's short name, one per
//! egress IP) costs nothing.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `liveapi_rate_limit_redis_fallbacks_total` | counter | `egress` | outages: Redis stopped answering and the limiter fell back to the process's share |
//! | `liveapi_rate_limit_redis_recoveries_total` | counter | `egress` | ends of outages: Redis answered a probe again |
//! | `liveapi_rate_limit_redis_on_fallback` | gauge | `egress` | limiters of this process on their fallback share now |

/// Outages: Redis stopped answering and the limiter fell back to the process's share.
pub(super) const FALLBACKS: &str = "liveapi_rate_limit_redis_fallbacks_total";
/// Ends of outages: Redis answered a probe again.
pub(super) const RECOVERIES: &str = "liveapi_rate_limit_redis_recoveries_total";
/// Limiters of this process that keep to their fallback share now.
pub(super) const ON_FALLBACK: &str = "liveapi_rate_limit_redis_on_fallback";

/// Describes the metrics above to the installed recorder.
pub(super) fn describe() {
    metrics::describe_counter!(
        FALLBACKS,
        "Outages of the Redis rate limit: Redis stopped answering and the limiter fell back to this process's share."
    );
    metrics::describe_counter!(
        RECOVERIES,
        "Ends of outages of the Redis rate limit: Redis answered a probe again."
    );
    metrics::describe_gauge!(
        ON_FALLBACK,
        "Redis rate limiters of this process keeping to their fallback share now."
    );
}

/// An outage started: the limiter keeps to its share.
pub(super) fn fell_back(egress: &str) {
    metrics::counter!(FALLBACKS, "egress" => egress.to_owned()).increment(1);
    metrics::gauge!(ON_FALLBACK, "egress" => egress.to_owned()).increment(1.0);
}

/// An outage ended: Redis answered a probe.
pub(super) fn recovered(egress: &str) {
    metrics::counter!(RECOVERIES, "egress" => egress.to_owned()).increment(1);
    metrics::gauge!(ON_FALLBACK, "egress" => egress.to_owned()).decrement(1.0);
}

/// A limiter on its share went away: it is on it no more.
pub(super) fn dropped_on_fallback(egress: &str) {
    metrics::gauge!(ON_FALLBACK, "egress" => egress.to_owned()).decrement(1.0);
}
