//! Runnable examples of the liveapi SDK, and the machinery the bigger ones share.
//!
//! The examples are `[[example]]` targets (`cargo run --example quickstart`). This library
//! holds [`chaos`], the fault-injection run behind both the chaos test of the test suite and
//! the `chaos` example that runs it at scale, and the [`histogram`] of the `loadtest` example.

pub mod chaos;
pub mod histogram;
