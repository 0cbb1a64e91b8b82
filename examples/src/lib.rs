//! Runnable examples of the liveapi SDK, and the machinery the bigger ones share.
//!
//! The examples are `[[example]]` targets (`cargo run --example quickstart`). This library
//! holds [`chaos`], the fault-injection run behind both the chaos test of the test suite and
//! the `chaos` example that runs it at scale, the [`histogram`] of the `loadtest` example, and
//! [`outbox_crash`], the outbox's crash test (its workers are the `outbox-crash-worker`
//! binary, or the `outbox_crash` example itself).

pub mod chaos;
pub mod histogram;
pub mod outbox_crash;
