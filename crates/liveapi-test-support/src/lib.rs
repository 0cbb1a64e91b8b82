//! Test plumbing shared by the liveapi crates' tests and the proof harnesses
//! (`liveapi-harness`). Not published, and no part of any published crate's API: the
//! published crates take it as a dev-dependency.
//!
//! - [`service`]: where the tests find PostgreSQL and Redis (`LIVEAPI_TEST_POSTGRES_URL`,
//!   `LIVEAPI_TEST_REDIS_URL`), and the one rule for a service that is not there: the test
//!   says why and is skipped, except in CI (`LIVEAPI_CI` set), where it fails.
//! - [`redis`]: private `redis-server`s that a test may kill and start again, and key
//!   prefixes no other test uses.
//! - `postgres` (feature `postgres`): `TestSchema`, a PostgreSQL schema of its own per test,
//!   dropped at the end.
//! - [`browser`]: headless Chromium, found (or skipped, or failed in CI) by the same rule as
//!   the services; driven over WebDriver with the feature `browser`, or left on a page.
//! - `emulator_crash` (feature `emulator-crash`): the crash test of
//!   `liveapi emulator --state`, run small by a test of the `liveapi` binary and at scale by
//!   the `emulator_crash` harness.
//!
//! `docs/testing.md` in the repository tells the whole story: services, isolation, harnesses.

pub mod browser;
#[cfg(feature = "emulator-crash")]
pub mod emulator_crash;
pub mod pg_cluster;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod redis;
pub mod service;
