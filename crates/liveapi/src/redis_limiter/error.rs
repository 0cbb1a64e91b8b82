//! What can be wrong with a Redis rate limiter's settings.

/// A Redis rate limiter that cannot be configured as asked, or, once it asks Redis, cannot
/// work with the Redis it finds ([`Misconfigured`](Self::Misconfigured)).
///
/// No variant shows the Redis URL or its password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedisLimiterError {
    /// The URL is not a Redis URL.
    #[error(
        "the Redis URL cannot be used: {problem} (expected redis://[user:password@]host[:port][/db], rediss://… for TLS, or unix:///path; the URL is not shown, it may hold a password)"
    )]
    Url {
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Neither the expected number of processes nor a fallback limit was given, so there is no
    /// safe budget for the times Redis is unreachable.
    #[error(
        "the Redis rate limiter needs the expected number of processes (or a fallback limit): without Redis each process must keep to its share, never the whole budget"
    )]
    NoFallbackShare,
    /// The expected number of processes is zero.
    #[error("the expected number of processes must be at least 1")]
    ZeroProcesses,
    /// The fallback limit allows more than the budget itself.
    #[error(
        "the fallback limit ({fallback} per {fallback_ms} ms) is above the budget ({limit} per {limit_ms} ms)"
    )]
    FallbackAboveBudget {
        /// The fallback limit's requests per window.
        fallback: u32,
        /// Its window in milliseconds.
        fallback_ms: u128,
        /// The budget's requests per window.
        limit: u32,
        /// Its window in milliseconds.
        limit_ms: u128,
    },
    /// A timeout or probe interval of zero: every call would fail, or a dead Redis would be
    /// asked on every call.
    #[error("the Redis {what} must be longer than zero")]
    ZeroDuration {
        /// `timeout` or `probe interval`.
        what: &'static str,
    },
    /// An empty key part.
    #[error("the {what} of the Redis key must not be empty")]
    EmptyKeyPart {
        /// `app id`, `egress label` or `key prefix`.
        what: &'static str,
    },
    /// The CA certificate given for `rediss://` cannot be used: unreadable, not PEM, or no
    /// certificate in it.
    #[error("the Redis CA certificate cannot be used: {problem}")]
    Ca {
        /// What is wrong with it.
        problem: String,
    },
    /// Redis answered, but cannot be used as configured: it refused the password, has no
    /// such database, is not a Redis, or its TLS certificate does not verify. A Polyv call
    /// fails with it (inside a `LimiterConfigError`: a configuration error, never retried)
    /// until the configuration is fixed; a Redis that does not answer is an outage instead,
    /// and the limiter falls back to the process's share.
    #[error("the Polyv rate limit cannot use the Redis at {address}: {problem}")]
    Misconfigured {
        /// Its host, port and database.
        address: String,
        /// What is wrong, and how to fix it.
        problem: String,
    },
    /// No Polyv app id to name the key by.
    #[error(
        "the Redis rate limiter needs the Polyv app id for its key (RedisRateLimiterBuilder::app_id)"
    )]
    NoAppId,
}
