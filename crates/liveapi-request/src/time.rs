//! Monotonic time for the call engine, from whichever runtime the caller has.
//!
//! The engine needs two things of time: to know how much of a deadline is left, and to wait
//! (a backoff pause, an attempt's timeout, the rate limit). Both come through [`Timer`], so
//! this crate pulls in no async runtime: `liveapi-hyper` provides the Tokio timer, and
//! [`ThreadTimer`] serves blocking calls.

use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// A pause that completes after its duration.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Monotonic time and waiting, as a runtime provides them.
///
/// `now` must be monotonic and consistent with `sleep`: after `sleep(d)` completes, `now()`
/// has advanced by at least `d`. A runtime with a virtual clock (Tokio's paused time in tests)
/// implements both from that clock.
pub trait Timer: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;

    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Waits by blocking the thread: the timer of
/// [`Engine::execute_blocking`](crate::Engine::execute_blocking). Never use it inside an async
/// runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadTimer;

impl Timer for ThreadTimer {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(async move { std::thread::sleep(duration) })
    }
}

/// Runs `future` until it completes or `duration` passes; `None` if time ran out first.
///
/// The future is polled before the timer each time, so a future that is ready at once (a
/// blocking transport) is never cut short by a timer that was not given the chance to run.
pub(crate) async fn timeout<F: Future>(
    timer: &dyn Timer,
    duration: Duration,
    future: F,
) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut sleep: Option<Sleep> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        let sleep = sleep.get_or_insert_with(|| timer.sleep(duration));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Wakes the blocked thread.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives a future to completion on the current thread, parking it while the future waits.
///
/// The blocking engine's futures do their waiting inside `poll` (a blocking transport, the
/// [`ThreadTimer`]), so this loop rarely parks; it exists so that the blocking and async
/// calls run the very same engine code.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_future_beats_any_timer() {
        let out = block_on(timeout(&ThreadTimer, Duration::ZERO, async { 7 }));
        assert_eq!(out, Some(7));
    }

    #[test]
    fn a_pending_future_times_out() {
        let started = Instant::now();
        let out = block_on(timeout(
            &ThreadTimer,
            Duration::from_millis(20),
            std::future::pending::<()>(),
        ));
        assert_eq!(out, None);
        assert!(started.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn the_thread_timer_sleeps() {
        let timer = ThreadTimer;
        let before = timer.now();
        block_on(timer.sleep(Duration::from_millis(5)));
        assert!(timer.now() - before >= Duration::from_millis(5));
    }
}
