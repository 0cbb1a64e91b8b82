//! The environment variables the CLI reads: `liveapi`'s own, which its
//! `ClientBuilder::from_env_with` reads and checks.

use std::env::VarError;

pub(crate) use liveapi::env::*;

use crate::exit::Failure;

/// The value of the variable `name`; blank counts as unset, as in `liveapi` itself. The
/// command line calls [`checked`] on a variable first, so a blank one never gets here.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The value of the variable `name`, or `None` when it is not set. Set but blank, it is an
/// error, not "unset": an empty `LIVEAPI_POLYV_BASE_URL` would otherwise send the call to
/// the production host, and an empty secret would read as a missing one.
pub(crate) fn checked(name: &str) -> Result<Option<String>, Failure> {
    let instead = flag(name).map_or_else(String::new, |flag| format!(" (or pass {flag})"));
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Err(Failure::config(format_args!(
            "{name} is set but empty: give it a value{instead}, or unset it"
        ))),
        Ok(value) => Ok(Some(value)),
        Err(VarError::NotPresent) => Ok(None),
        Err(VarError::NotUnicode(_)) => Err(Failure::config(format_args!(
            "{name} is not UTF-8 text: give it a value{instead}, or unset it"
        ))),
    }
}

/// The flag that stands for the variable `name` in the commands that read it.
pub(crate) fn flag(name: &str) -> Option<&'static str> {
    Some(match name {
        LINKV_APP_ID | POLYV_APP_ID => "--app-id",
        LINKV_SECRET | POLYV_SECRET => "--secret",
        LINKV_ALIAS => "--alias",
        LINKV_BASE_URL | POLYV_BASE_URL => "--base-url",
        POLYV_SIGNATURE_METHOD => "--signature-method",
        ATTEMPT_TIMEOUT_MS => "--attempt-timeout-ms",
        DEADLINE_MS => "--deadline-ms",
        MAX_ATTEMPTS => "--max-attempts",
        ALLOW_INSECURE_HTTP => "--allow-insecure-http",
        RESEND_WINDOW_SECS => "--resend-window",
        POLYV_RATE_LIMIT => "--rate-limit",
        POLYV_RATE_LIMIT_PROCESSES => "--rate-limit-processes",
        POLYV_RATE_LIMIT_REDIS_URL => "--rate-limit-redis-url",
        POLYV_RATE_LIMIT_EGRESS => "--rate-limit-egress",
        _ => return None,
    })
}
