//! The timer a client waits and measures time with unless
//! [`ClientBuilder::timer`](crate::ClientBuilder::timer) gives one.
//!
//! Tokio's, when the build has Tokio: `liveapi-hyper`'s with the `hyper` feature, else the one
//! here over `tokio::time` (the `tokio` feature, which `redis` implies). A build with neither
//! cannot know which runtime its transport runs on, so it has no default:
//! [`ClientBuilder::build`](crate::ClientBuilder::build) asks for one
//! ([`ConfigError::NoTimer`](crate::ConfigError::NoTimer)).

/// Whether this build has a default timer.
pub(super) const HAS_DEFAULT: bool = cfg!(any(feature = "hyper", feature = "tokio"));

#[cfg(feature = "hyper")]
pub(super) use liveapi_hyper::TokioTimer as Default;

#[cfg(all(feature = "tokio", not(feature = "hyper")))]
pub(super) use self::tokio_timer::TokioTimer as Default;

/// Only a stand-in the engine starts with: without a default, a client whose timer was never
/// given is refused by `build`, so this one never waits.
#[cfg(not(any(feature = "hyper", feature = "tokio")))]
pub(super) use liveapi_request::ThreadTimer as Default;

#[cfg(all(feature = "tokio", not(feature = "hyper")))]
mod tokio_timer {
    use std::time::{Duration, Instant};

    use liveapi_request::{Sleep, Timer};

    /// `tokio::time`'s clock and sleep, as `liveapi-hyper`'s timer, for builds without it:
    /// tests with paused time (`tokio::time::pause`) move the client's clock too.
    #[derive(Clone, Copy, Debug, Default)]
    pub(crate) struct TokioTimer;

    impl Timer for TokioTimer {
        fn now(&self) -> Instant {
            tokio::time::Instant::now().into_std()
        }

        fn sleep(&self, duration: Duration) -> Sleep {
            Box::pin(tokio::time::sleep(duration))
        }
    }
}
