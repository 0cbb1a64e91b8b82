//! When a permit asks Redis, when this process keeps to its own share instead, and when it
//! rejoins the shared window: the decisions alone, at times the caller reads, with no Redis,
//! no clock and no logging of their own.
//!
//! The rules, and why each keeps the fleet under its budget, are on
//! [`RedisRateLimiter`](super::RedisRateLimiter): on the share only one window after Redis
//! stopped answering; one probe per interval while it is away; after it answers again, the
//! sends it missed told to it, and every send fitting both the share and Redis until every
//! process can have noticed.

use std::time::{Duration, Instant};

use super::own::OwnWindow;

/// Where the limiter stands with Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisLink {
    /// Redis decides every permit.
    Shared,
    /// Redis did not answer: this process keeps to its share, and asks Redis again now and
    /// then.
    Fallback,
    /// Redis answers again; until every process can have noticed, each send must fit both
    /// this process's share and Redis.
    Rejoining,
}

#[derive(Debug)]
enum Link {
    Up,
    Down { next_probe: Instant },
    Rejoining { until: Instant },
}

/// What a permit does next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// Sent on this process's share.
    Admitted,
    /// Nothing free yet: plan again after this long.
    Wait(Duration),
    /// Redis decides.
    Ask(Ask),
}

/// One question to Redis, and what its answer settles.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Ask {
    /// A place taken in this process's share, settled by Redis's answer.
    pub(super) reserved: Option<u64>,
    /// Sends Redis has not heard of, told with this call (the place above excepted), as
    /// (id, age).
    pub(super) backfill: Vec<(u64, Duration)>,
    /// This call is the probe of an outage.
    pub(super) probe: bool,
}

/// What a question Redis did not answer leads to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unanswered {
    /// It starts an outage: plan again, on the share, which is full for one window.
    OutageStarted,
    /// The outage goes on; the probe's place in the share became a send on it when
    /// `admitted`.
    StillDown { admitted: bool },
}

/// The state of one limiter between permits.
#[derive(Debug)]
pub(super) struct Fallback {
    link: Link,
    own: OwnWindow,
    /// What this process may send per own window while Redis is away.
    share: u32,
    probe_interval: Duration,
    /// How long after a probe's answer each send must fit both the share and Redis.
    rejoin: Duration,
}

impl Fallback {
    pub(super) fn new(
        own_window: Duration,
        share: u32,
        probe_interval: Duration,
        rejoin: Duration,
    ) -> Self {
        Self {
            link: Link::Up,
            own: OwnWindow::new(own_window),
            share,
            probe_interval,
            rejoin,
        }
    }

    /// Where the limiter stands with Redis.
    pub(super) fn link(&self) -> RedisLink {
        match self.link {
            Link::Up => RedisLink::Shared,
            Link::Down { .. } => RedisLink::Fallback,
            Link::Rejoining { .. } => RedisLink::Rejoining,
        }
    }

    /// A permit that cannot ask Redis (no runtime): on the share at once, told to Redis with
    /// the next call that reaches it. `Err` is how long until a place is free.
    pub(super) fn without_redis(&mut self, now: Instant) -> Result<(), Duration> {
        self.own.reserve(now, self.share, true).map(|_| ())
    }

    /// The next step of a permit at `now`.
    pub(super) fn plan(&mut self, now: Instant) -> Plan {
        if let Link::Rejoining { until } = self.link
            && now >= until
        {
            self.link = Link::Up;
        }
        let (reserved, probe) = match self.link {
            Link::Up => (None, false),
            Link::Rejoining { .. } => match self.own.reserve(now, self.share, false) {
                Ok(id) => (Some(id), false),
                Err(pause) => return Plan::Wait(pause),
            },
            Link::Down { next_probe } => {
                let id = match self.own.reserve(now, self.share, true) {
                    Ok(id) => id,
                    Err(pause) => return Plan::Wait(pause),
                };
                if now < next_probe {
                    return Plan::Admitted;
                }
                // One caller probes; the others keep to the share until it has an answer.
                self.link = Link::Down {
                    next_probe: now + self.probe_interval,
                };
                (Some(id), true)
            }
        };
        // Sends made without Redis (an outage, a call without a runtime) are told with the
        // next call that reaches it, and only by that call: concurrent calls telling the same
        // sends would count them twice.
        let backfill = self.own.unshared(now, reserved);
        self.own.shared(&ids(&backfill));
        Plan::Ask(Ask {
            reserved,
            backfill,
            probe,
        })
    }

    /// One slow or lost answer is not an outage: gives back what `ask` took, so that it can
    /// be asked once more.
    pub(super) fn ask_again(&mut self, ask: &Ask) {
        self.own.untold(&ids(&ask.backfill));
        if let Some(id) = ask.reserved {
            self.own.cancel(id);
        }
    }

    /// Redis did not answer `ask`, twice, or to a probe. When that starts an outage, the
    /// share is full for one window; during one, the probe's place in the share becomes a
    /// send on the share.
    pub(super) fn unanswered(&mut self, now: Instant, ask: &Ask) -> Unanswered {
        self.own.untold(&ids(&ask.backfill));
        if !matches!(self.link, Link::Down { .. }) {
            self.link = Link::Down {
                next_probe: now + self.probe_interval,
            };
            // The last window is Redis's: it may have admitted the whole budget to the
            // fleet. Sends on the share start once that window is over.
            if let Some(id) = ask.reserved {
                self.own.cancel(id);
            }
            self.own.fill(now, self.share);
            return Unanswered::OutageStarted;
        }
        match ask.reserved {
            Some(id) => {
                self.own.confirm(id, now, true);
                Unanswered::StillDown { admitted: true }
            }
            None => Unanswered::StillDown { admitted: false },
        }
    }

    /// Redis answered `ask` (`admitted` or not): settles the reservation. Answers whether
    /// this ended an outage.
    pub(super) fn answered(&mut self, now: Instant, ask: &Ask, admitted: bool) -> bool {
        match (ask.reserved, admitted) {
            (Some(id), true) => self.own.confirm(id, now, false),
            (Some(id), false) => self.own.cancel(id),
            (None, true) => {
                self.own.push(now, false);
            }
            (None, false) => {}
        }
        if ask.probe && matches!(self.link, Link::Down { .. }) {
            // Processes that have not noticed yet send on their shares for up to one probe
            // interval more, and those sends stay in the window for one window.
            self.link = Link::Rejoining {
                until: now + self.rejoin,
            };
            return true;
        }
        false
    }
}

fn ids(backfill: &[(u64, Duration)]) -> Vec<u64> {
    backfill.iter().map(|(id, _)| *id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A share of 3 per second, a probe every 100 ms, 2 s of rejoining.
    fn fallback() -> Fallback {
        Fallback::new(ms(1000), 3, ms(100), ms(2000))
    }

    fn ask(plan: Plan) -> Ask {
        match plan {
            Plan::Ask(ask) => ask,
            other => panic!("expected a question to Redis, got {other:?}"),
        }
    }

    #[test]
    fn an_outage_waits_one_window_then_probes_once_per_interval() {
        let t0 = Instant::now();
        let mut f = fallback();
        let first = ask(f.plan(t0));
        assert_eq!((first.reserved, first.probe), (None, false));
        assert!(first.backfill.is_empty());
        assert_eq!(f.unanswered(t0, &first), Unanswered::OutageStarted);
        assert_eq!(f.link(), RedisLink::Fallback);
        // The last window may hold all Redis admitted: nothing on the share until it ends.
        assert_eq!(f.plan(t0 + ms(10)), Plan::Wait(ms(990)));
        let probe = ask(f.plan(t0 + ms(1000)));
        assert!(probe.probe && probe.reserved.is_some());
        // The others keep to the share until the next probe is due.
        assert_eq!(f.plan(t0 + ms(1000)), Plan::Admitted);
        assert_eq!(
            f.unanswered(t0 + ms(1050), &probe),
            Unanswered::StillDown { admitted: true }
        );
        assert_eq!(f.plan(t0 + ms(1060)), Plan::Admitted);
        // Three sends on the share: full until the oldest leaves.
        assert_eq!(f.plan(t0 + ms(1060)), Plan::Wait(ms(940)));
        assert_eq!(f.link(), RedisLink::Fallback);
    }

    #[test]
    fn a_probe_answered_tells_the_missed_sends_and_rejoins_for_a_while() {
        let t0 = Instant::now();
        let mut f = fallback();
        let first = ask(f.plan(t0));
        f.unanswered(t0, &first);
        let probe = ask(f.plan(t0 + ms(1000)));
        assert_eq!(f.plan(t0 + ms(1000)), Plan::Admitted);
        f.unanswered(t0 + ms(1050), &probe);
        let second = ask(f.plan(t0 + ms(1200)));
        assert!(second.probe);
        // The send admitted on the share at 1000 and the first probe's, confirmed at 1050.
        let ages: Vec<Duration> = second.backfill.iter().map(|(_, age)| *age).collect();
        assert_eq!(ages, [ms(200), ms(150)]);
        assert!(f.answered(t0 + ms(1200), &second, true), "the outage ends");
        assert_eq!(f.link(), RedisLink::Rejoining);
        // Rejoining: a send must fit the share too, which is full until 2000.
        assert_eq!(f.plan(t0 + ms(1300)), Plan::Wait(ms(700)));
        let rejoining = ask(f.plan(t0 + ms(2000)));
        assert!(rejoining.reserved.is_some() && !rejoining.probe);
        assert!(rejoining.backfill.is_empty(), "told once only");
        assert!(!f.answered(t0 + ms(2000), &rejoining, true));
        // After the rejoining span, Redis alone decides again.
        let shared = ask(f.plan(t0 + ms(3200)));
        assert_eq!((shared.reserved, shared.probe), (None, false));
        assert_eq!(f.link(), RedisLink::Shared);
    }

    #[test]
    fn asking_again_gives_the_place_and_the_backfill_back() {
        let t0 = Instant::now();
        let mut f = fallback();
        f.without_redis(t0).unwrap();
        let asked = ask(f.plan(t0 + ms(10)));
        assert_eq!(asked.backfill.len(), 1);
        // Told with this call: a concurrent call does not tell it again.
        assert!(ask(f.plan(t0 + ms(10))).backfill.is_empty());
        f.ask_again(&asked);
        assert_eq!(ask(f.plan(t0 + ms(20))).backfill.len(), 1);
    }

    #[test]
    fn without_redis_keeps_to_the_share() {
        let t0 = Instant::now();
        let mut f = fallback();
        for _ in 0..3 {
            f.without_redis(t0).unwrap();
        }
        assert_eq!(f.without_redis(t0 + ms(400)), Err(ms(600)));
        assert_eq!(f.link(), RedisLink::Shared);
    }
}
