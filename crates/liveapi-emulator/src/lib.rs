//! A local, stateful emulator of the LinkV and Polyv live-streaming servers, so that SDK
//! examples, tests and your own CI run against real sockets without real money.
//!
//! One HTTP/1.1 server answers both vendors: LinkV under `/open/…`, Polyv under `/live/…`, and
//! an inspection API under `/_emulator/`. It verifies signatures with `liveapi-sign` and
//! validates parameters with `liveapi-model`, as the real servers do, and answers in each
//! vendor's envelope with the vendor's codes and messages. It keeps books (users, coins that
//! expire, orders, donate settings), makes coin changes idempotent by `request_id`, can keep
//! its books durably in a state file, and injects faults deterministically from a seed.
//! Starting one takes milliseconds, so every test can have its own.
//!
//! ```
//! use liveapi_emulator::Emulator;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let emulator = Emulator::builder().seed(42).start().await?;
//!     println!("LinkV and Polyv at {}", emulator.base_url());
//!     let app = emulator.linkv_app();
//!     assert_eq!((app.app_key.as_str(), app.alias.as_str()), ("LM6000100000000000000042", "demo"));
//!     assert_eq!(emulator.polyv_app().channels, [1_000_001, 1_000_002]);
//!     emulator.shutdown().await?;
//!     Ok(())
//! }
//! ```
//!
//! # Where to start
//!
//! - [`Emulator::builder`] gives an [`EmulatorBuilder`], with a default for every setting: the
//!   apps ([`LinkvApp`], [`PolyvApp`]; a demo app of each vendor unless
//!   [`EmulatorBuilder::without_demo_apps`]), the [`Faults`] to inject, how the
//!   [`EmulatorClock`] starts ([`ClockStart`]), Polyv's [`IpRateLimit`], the limits on bodies
//!   and connections, and a state file ([`EmulatorBuilder::state_file`]).
//! - [`EmulatorBuilder::start`] gives a [`RunningEmulator`]: its URLs and apps, balances, the
//!   journal of applied changes ([`AppliedChange`]), the requests it answered
//!   ([`RequestRecord`]), control over its clock and faults, and a clean
//!   [`shutdown`](RunningEmulator::shutdown).
//! - The `liveapi emulator` command (crate `liveapi-cli`) runs one from a shell.
//!
//! # Reference
//!
//! How each vendor's calls are checked and answered, with every error's status and message and
//! where its words come from; the books; faults, the clock and Polyv's rate limit; the limits on
//! requests and connections; the state file's format and when a change is durable; the
//! inspection routes; and which command-line flag sets which builder setter: see
//! [`docs/emulator.md`](https://github.com/liveapi-rs/liveapi/blob/main/docs/emulator.md) in the
//! repository.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// The emulator's parts, for whoever works on it:
// - builder, start, running: configuring, starting and holding a running emulator;
// - http: connections, reading requests, answers, the request log (whatever the vendor);
// - vendors: the LinkV and Polyv handlers, and Polyv's per-IP rate limit;
// - books: what the emulator keeps (LinkV ledgers, Polyv donate settings), pure bookkeeping;
// - persistence: the state file (snapshot, write-ahead log, replay) behind `state_file`;
// - shared: what every handler shares; inspect: the routes under `/_emulator/`; dashboard:
//   the page at `/_emulator/` and the views it reads;
// - apps, clock, faults, rng: the apps' credentials, the emulator's time, injected faults and
//   the deterministic draws behind them.
mod apps;
mod books;
mod builder;
mod clock;
mod dashboard;
mod faults;
mod http;
mod inspect;
mod persistence;
mod rng;
mod running;
mod shared;
mod start;
mod vendors;

pub use apps::{
    DEMO_LINKV_ALIAS, DEMO_LINKV_APP_KEY, DEMO_LINKV_APP_SECRET, DEMO_POLYV_APP_ID,
    DEMO_POLYV_CHANNELS, DEMO_POLYV_SECRET, LinkvApp, PolyvApp,
};
pub use books::ledger::{AppliedChange, ChangeKind};
pub use builder::{
    DEFAULT_BODY_LIMIT, DEFAULT_IDEMPOTENCY_CAPACITY, DEFAULT_IDEMPOTENCY_WINDOW,
    DEFAULT_JOURNAL_CAPACITY, DEFAULT_LISTEN, DEFAULT_REQUEST_LOG_CAPACITY, Emulator,
    EmulatorBuilder,
};
pub use clock::{ClockStart, ClockStatus, EmulatorClock};
pub use faults::{FaultKind, FaultStats, FaultWeights, Faults, FaultsError, Vendor};
pub use http::connections::{
    ConnectionStats, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
};
pub use http::request_log::RequestRecord;
pub use running::RunningEmulator;
pub use start::StartError;
pub use vendors::rate_limit::IpRateLimit;
pub use vendors::signature_refusal::{ParamDifference, ReceivedParam, SignatureRefusal};

/// The crate's README, whose code blocks are compiled and run as doctests so that what a reader
/// copies from it builds as it stands.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
