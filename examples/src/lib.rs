//! Runnable examples of the liveapi SDK: each file in `examples/` is a whole program to copy
//! from, run with `cargo run --example NAME`:
//!
//! - `quickstart`: the high-level `liveapi::Client` against the embedded emulator;
//! - `sign_only`: signing and verifying with `liveapi-sign` alone;
//! - `blocking_ureq`: a transport of your own (blocking `ureq`) under `liveapi-request`;
//! - `outbox`: coin changes through a durable `liveapi_outbox::Outbox`;
//! - `redis_limit`: one Polyv budget shared through Redis by every process of a fleet.
//!
//! The proof harnesses behind `BENCHMARKS.md` (load, chaos, crash and fleet runs) are the
//! binaries of `liveapi-harness`.
