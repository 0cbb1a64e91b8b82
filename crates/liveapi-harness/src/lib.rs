//! The proof harnesses of liveapi: the programs behind the figures of `BENCHMARKS.md`, and the
//! tests that run the same code small. Not published; nothing here is for users to copy (the
//! examples are `liveapi-examples`).
//!
//! Each harness is a binary (`cargo run --release -p liveapi-harness --bin NAME -- --help`).
//! This library holds what the binaries and the tests share: [`chaos`], the fault-injection
//! run behind both the chaos test and the `chaos` binary; [`outbox_crash`], the outbox's
//! crash test (its workers are the `outbox_crash_worker` binary, or the `outbox_crash`
//! binary itself); the [`fleet`] report behind the `fleet_worker` binary and the fleet test
//! (several processes sharing one Polyv budget through Redis); the [`histogram`] of the load
//! measurements; and the [`cli`] flag values the binaries share. The emulator's crash driver
//! is shared with a test of the `liveapi` binary, so it lives in `liveapi-test-support`.

pub mod chaos;
pub mod cli;
pub mod fleet;
pub mod histogram;
pub mod outbox_crash;
