//! The environment variables the CLI reads: `liveapi`'s own, which its
//! `ClientBuilder::from_env_with` reads and checks.

pub(crate) use liveapi::env::*;

/// The value of the variable `name`; blank counts as unset, as in `liveapi` itself.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
