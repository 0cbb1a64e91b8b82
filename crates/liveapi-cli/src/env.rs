//! The environment variables the CLI reads: `liveapi`'s own, which its
//! `ClientBuilder::from_env_with` reads and checks.

pub(crate) use liveapi::env::*;

/// A variable's value; blank counts as unset, as in `liveapi::Client::from_env`.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
