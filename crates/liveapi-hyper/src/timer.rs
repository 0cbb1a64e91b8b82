//! Tokio's time for the call engine.

use std::time::{Duration, Instant};

use liveapi_request::{Sleep, Timer};

/// The engine's [`Timer`] on a Tokio runtime: `tokio::time`'s clock and sleep, so that tests
/// with paused time (`tokio::time::pause`) move the engine's clock too.
///
/// ```
/// use std::time::Duration;
/// use liveapi_hyper::TokioTimer;
/// use liveapi_request::Timer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let timer = TokioTimer;
/// let before = timer.now();
/// timer.sleep(Duration::from_millis(1)).await;
/// assert!(timer.now() >= before + Duration::from_millis(1));
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}
