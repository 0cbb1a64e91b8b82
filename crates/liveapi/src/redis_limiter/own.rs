//! What this process sent in the last window, whoever admitted it.
//!
//! The Redis limiter keeps this beside the shared window for the times Redis cannot be asked:
//! while Redis is unreachable the process keeps to its share by it, and after Redis answers
//! again the sends Redis never saw are told to it, so that the shared window is whole again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One send: when, and whether Redis has yet to hear of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Send {
    at: Instant,
    id: u64,
    unshared: bool,
}

/// The sends of this process inside one window, oldest first.
#[derive(Debug)]
pub(super) struct OwnWindow {
    window: Duration,
    sends: VecDeque<Send>,
    next_id: u64,
}

impl OwnWindow {
    pub(super) fn new(window: Duration) -> Self {
        Self {
            window,
            sends: VecDeque::new(),
            next_id: 0,
        }
    }

    /// Forgets the sends that left the window by `now`.
    fn prune(&mut self, now: Instant) {
        while let Some(oldest) = self.sends.front() {
            if now.saturating_duration_since(oldest.at) >= self.window {
                self.sends.pop_front();
            } else {
                break;
            }
        }
    }

    fn insert(&mut self, send: Send) {
        // Callers read the time under the same lock, so this is nearly always the end.
        let position = self.sends.partition_point(|s| s.at <= send.at);
        self.sends.insert(position, send);
    }

    /// How many sends are inside the window at `now`.
    #[cfg(test)]
    pub(super) fn count(&mut self, now: Instant) -> usize {
        self.prune(now);
        self.sends.len()
    }

    /// Takes a place at `now` if fewer than `share` sends are in the window, or says how long
    /// until one is free. The place is counted at once; [`confirm`](Self::confirm) or
    /// [`cancel`](Self::cancel) settles it.
    pub(super) fn reserve(
        &mut self,
        now: Instant,
        share: u32,
        unshared: bool,
    ) -> Result<u64, Duration> {
        self.prune(now);
        let share = share.max(1) as usize;
        if self.sends.len() >= share {
            // Once this one leaves, fewer than `share` remain.
            let frees = self.sends[self.sends.len() - share].at;
            return Err((frees + self.window).saturating_duration_since(now));
        }
        Ok(self.push(now, unshared))
    }

    /// Counts a send at `now` whatever the count: Redis admitted it.
    pub(super) fn push(&mut self, now: Instant, unshared: bool) -> u64 {
        self.prune(now);
        let id = self.next_id;
        self.next_id += 1;
        self.insert(Send {
            at: now,
            id,
            unshared,
        });
        id
    }

    /// Counts the whole share as used at `now`: no send on the share until one window has
    /// passed. These places stand for what Redis may have admitted to other processes; they
    /// are never told to Redis.
    pub(super) fn fill(&mut self, now: Instant, share: u32) {
        for _ in 0..share.max(1) {
            self.push(now, false);
        }
    }

    /// The reserved place becomes a send at `now`, known to Redis or not.
    pub(super) fn confirm(&mut self, id: u64, now: Instant, unshared: bool) {
        self.cancel(id);
        self.insert(Send {
            at: now,
            id,
            unshared,
        });
    }

    /// Gives a reserved place back.
    pub(super) fn cancel(&mut self, id: u64) {
        if let Some(position) = self.sends.iter().position(|s| s.id == id) {
            self.sends.remove(position);
        }
    }

    /// The sends Redis has not heard of, as (id, age at `now`), `except` one.
    pub(super) fn unshared(&mut self, now: Instant, except: Option<u64>) -> Vec<(u64, Duration)> {
        self.prune(now);
        self.sends
            .iter()
            .filter(|s| s.unshared && Some(s.id) != except)
            .map(|s| (s.id, now.saturating_duration_since(s.at)))
            .collect()
    }

    /// Redis is being told of these sends (or has been): no other call tells it again.
    pub(super) fn shared(&mut self, ids: &[u64]) {
        self.mark(ids, false);
    }

    /// Telling Redis of these sends failed: the next call tells it.
    pub(super) fn untold(&mut self, ids: &[u64]) {
        self.mark(ids, true);
    }

    fn mark(&mut self, ids: &[u64], unshared: bool) {
        for send in &mut self.sends {
            if ids.contains(&send.id) {
                send.unshared = unshared;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn reserves_up_to_the_share_then_says_when() {
        let t0 = Instant::now();
        let mut own = OwnWindow::new(ms(1000));
        assert!(own.reserve(t0, 2, true).is_ok());
        assert!(own.reserve(t0 + ms(100), 2, true).is_ok());
        assert_eq!(own.reserve(t0 + ms(200), 2, true), Err(ms(800)));
        assert!(own.reserve(t0 + ms(1000), 2, true).is_ok());
        assert_eq!(own.count(t0 + ms(1000)), 2);
    }

    #[test]
    fn sends_beyond_the_share_make_the_wait_longer() {
        // Redis admitted five sends of this process; its share alone is two.
        let t0 = Instant::now();
        let mut own = OwnWindow::new(ms(1000));
        for i in 0..5 {
            own.push(t0 + ms(i * 100), false);
        }
        // Only when the fourth oldest leaves (at 1300) are fewer than two left.
        assert_eq!(own.reserve(t0 + ms(500), 2, true), Err(ms(800)));
        assert!(own.reserve(t0 + ms(1300), 2, true).is_ok());
    }

    #[test]
    fn cancel_gives_the_place_back_and_confirm_moves_it() {
        let t0 = Instant::now();
        let mut own = OwnWindow::new(ms(1000));
        let a = own.reserve(t0, 1, false).unwrap();
        own.cancel(a);
        let b = own.reserve(t0, 1, false).unwrap();
        own.confirm(b, t0 + ms(300), true);
        // The send now counts from 300 ms, so it leaves at 1300, not 1000.
        assert!(own.reserve(t0 + ms(1200), 1, true).is_err());
        assert!(own.reserve(t0 + ms(1300), 1, true).is_ok());
        own.cancel(12_345); // unknown: nothing happens
        assert_eq!(own.count(t0 + ms(1300)), 1);
    }

    #[test]
    fn unshared_sends_are_told_once() {
        let t0 = Instant::now();
        let mut own = OwnWindow::new(ms(1000));
        let a = own.push(t0, true);
        let _b = own.push(t0 + ms(100), false);
        let c = own.push(t0 + ms(200), true);
        let d = own.push(t0 + ms(300), true);
        let told = own.unshared(t0 + ms(400), Some(d));
        assert_eq!(told, [(a, ms(400)), (c, ms(200))]);
        own.shared(&[a, c]);
        assert_eq!(own.unshared(t0 + ms(400), None), [(d, ms(100))]);
        own.untold(&[a]);
        assert_eq!(
            own.unshared(t0 + ms(400), None),
            [(a, ms(400)), (d, ms(100))]
        );
        // Sends that left the window are never told.
        assert!(own.unshared(t0 + ms(1300), None).is_empty());
    }

    #[test]
    fn a_filled_window_frees_one_window_later_and_is_never_told() {
        let t0 = Instant::now();
        let mut own = OwnWindow::new(ms(1000));
        own.push(t0, true);
        own.fill(t0 + ms(500), 3);
        assert_eq!(own.count(t0 + ms(500)), 4);
        assert_eq!(
            own.unshared(t0 + ms(600), None).len(),
            1,
            "only the real send"
        );
        // The older send leaving frees nothing: the share is full until 1500.
        assert_eq!(own.reserve(t0 + ms(1200), 3, true), Err(ms(300)));
        assert!(own.reserve(t0 + ms(1500), 3, true).is_ok());
    }

    #[test]
    fn out_of_order_times_are_kept_in_order() {
        let t0 = Instant::now();
        let mut own = OwnWindow::new(ms(1000));
        own.push(t0 + ms(200), false);
        own.push(t0 + ms(100), false);
        assert_eq!(own.count(t0 + ms(1150)), 1);
        assert_eq!(own.count(t0 + ms(1200)), 0);
    }
}
