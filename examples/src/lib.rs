//! The examples package's library holds one thing: the repository's `README.md`, whose every
//! Rust block is compiled (and, unless marked `no_run`, run) as a doctest of this package, so
//! that what a newcomer copies from the README builds as it stands.
//!
//! The programs themselves are the package's examples (`cargo run --example quickstart`).

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
