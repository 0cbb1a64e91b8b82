//! The environment variables the CLI reads, named as the `liveapi` crate documents them.
//!
//! `liveapi` keeps its own copies of the names private, so they are spelled again here; the
//! values are still read and checked by `liveapi::ClientBuilder::from_env_with`.

/// LinkV `live_app_key`.
pub(crate) const LINKV_APP_ID: &str = "LIVEAPI_LINKV_APP_ID";
/// LinkV `live_app_secret`.
pub(crate) const LINKV_SECRET: &str = "LIVEAPI_LINKV_SECRET";
/// LinkV alias.
pub(crate) const LINKV_ALIAS: &str = "LIVEAPI_LINKV_ALIAS";
/// LinkV base URL.
pub(crate) const LINKV_BASE_URL: &str = "LIVEAPI_LINKV_BASE_URL";
/// Polyv `appId`.
pub(crate) const POLYV_APP_ID: &str = "LIVEAPI_POLYV_APP_ID";
/// Polyv `appSecret`.
pub(crate) const POLYV_SECRET: &str = "LIVEAPI_POLYV_SECRET";
/// Polyv API host.
pub(crate) const POLYV_BASE_URL: &str = "LIVEAPI_POLYV_BASE_URL";
/// Per-attempt timeout.
pub(crate) const ATTEMPT_TIMEOUT_MS: &str = "LIVEAPI_ATTEMPT_TIMEOUT_MS";
/// Overall deadline of a call.
pub(crate) const DEADLINE_MS: &str = "LIVEAPI_DEADLINE_MS";
/// Attempts per call.
pub(crate) const MAX_ATTEMPTS: &str = "LIVEAPI_MAX_ATTEMPTS";

/// A variable's value; blank counts as unset, as in `liveapi::Client::from_env`.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
