//! Runnable examples of the liveapi SDK, and the machinery the bigger ones share.
//!
//! The examples are `[[example]]` targets (`cargo run --example quickstart`). This library
//! holds [`chaos`], the fault-injection run behind both the chaos test of the test suite and
//! the `chaos` example that runs it at scale, the [`histogram`] of the `loadtest` example,
//! [`outbox_crash`], the outbox's crash test (its workers are the `outbox-crash-worker`
//! binary, or the `outbox_crash` example itself), and the [`fleet`] helpers behind the `fleet_worker` binary and the fleet test (several processes sharing one
//! Polyv budget through Redis).

pub mod chaos;
pub mod fleet;
pub mod histogram;
pub mod outbox_crash;
