//! The environment variables the CLI reads: `liveapi`'s own, which its
//! `ClientBuilder::from_env_with` reads and checks.

pub(crate) use liveapi::env::*;
