//! The connections' tests: deadlines, the cap and the limits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::limits::{MAX_REFUSING, cap_for_file_limit, nofile_soft_limit, refusal_places};
use super::*;

fn limits() -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_secs(10),
        body_read_timeout: Duration::from_secs(7),
        keep_alive_timeout: Duration::from_secs(60),
        max_connections: 2,
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn first_head_is_timed_from_the_start_even_without_bytes() {
    let t0 = Instant::now();
    let a = Activity::new(t0);
    // Looks again after the shortest timeout (the body's 7 s) at the latest.
    assert_eq!(a.check(&limits(), t0), Check::WaitUntil(t0 + secs(7)));
    a.read(t0 + secs(3));
    assert_eq!(
        a.check(&limits(), t0 + secs(9)),
        Check::WaitUntil(t0 + secs(10))
    );
    assert_eq!(
        a.check(&limits(), t0 + secs(10)),
        Check::Expired(Expiry::Header)
    );
}

#[test]
fn idle_connection_gets_the_keep_alive_timeout_and_a_started_head_the_header_timeout() {
    let t0 = Instant::now();
    let a = Activity::new(t0);
    a.request_started();
    a.answer_ended(t0 + secs(1));
    assert_eq!(
        a.check(&limits(), t0 + secs(2)),
        Check::WaitUntil(t0 + secs(9))
    );
    assert_eq!(
        a.check(&limits(), t0 + secs(58)),
        Check::WaitUntil(t0 + secs(61))
    );
    assert_eq!(
        a.check(&limits(), t0 + secs(61)),
        Check::Expired(Expiry::KeepAlive)
    );
    a.read(t0 + secs(30));
    // A second read does not move the head's start.
    a.read(t0 + secs(35));
    assert_eq!(
        a.check(&limits(), t0 + secs(39)),
        Check::WaitUntil(t0 + secs(40))
    );
    assert_eq!(
        a.check(&limits(), t0 + secs(40)),
        Check::Expired(Expiry::Header)
    );
}

#[test]
fn a_deadline_that_moves_earlier_is_not_overslept() {
    let short_idle = ConnectionLimits {
        header_read_timeout: secs(60),
        body_read_timeout: secs(60),
        keep_alive_timeout: secs(1),
        max_connections: 1,
    };
    let t0 = Instant::now();
    let a = Activity::new(t0);
    // The first head may take 60 s, but the watchdog looks again within 1 s…
    assert_eq!(a.check(&short_idle, t0), Check::WaitUntil(t0 + secs(1)));
    a.request_started();
    a.answer_ended(t0 + Duration::from_millis(500));
    // …and so finds the keep-alive deadline that began meanwhile in time.
    assert_eq!(
        a.check(&short_idle, t0 + secs(1)),
        Check::WaitUntil(t0 + Duration::from_millis(1_500))
    );
    assert_eq!(
        a.check(&short_idle, t0 + Duration::from_millis(1_500)),
        Check::Expired(Expiry::KeepAlive)
    );
}

#[test]
fn a_request_in_progress_is_closed_only_for_an_unread_answer() {
    let t0 = Instant::now();
    let a = Activity::new(t0);
    a.request_started();
    a.read(t0 + secs(1));
    // Looks again after the shortest timeout.
    assert_eq!(
        a.check(&limits(), t0 + secs(100)),
        Check::WaitUntil(t0 + secs(107))
    );
    a.write(true, t0 + secs(100));
    a.write(true, t0 + secs(105));
    assert_eq!(
        a.check(&limits(), t0 + secs(106)),
        Check::WaitUntil(t0 + secs(107))
    );
    assert_eq!(
        a.check(&limits(), t0 + secs(107)),
        Check::Expired(Expiry::Write)
    );
    a.write(false, t0 + secs(107));
    assert_eq!(
        a.check(&limits(), t0 + secs(107)),
        Check::WaitUntil(t0 + secs(114))
    );
}

#[test]
fn an_unread_answer_counts_between_requests_too() {
    let t0 = Instant::now();
    let a = Activity::new(t0);
    a.request_started();
    a.answer_ended(t0);
    a.write(true, t0 + secs(1));
    // The write stall (7 s) comes before the keep-alive timeout (60 s).
    assert_eq!(
        a.check(&limits(), t0 + secs(8)),
        Check::Expired(Expiry::Write)
    );
    // On a fresh connection the header timeout (10 s) can come first.
    let b = Activity::new(t0);
    b.write(true, t0 + secs(5));
    assert_eq!(
        b.check(&limits(), t0 + secs(10)),
        Check::Expired(Expiry::Header)
    );
}

#[test]
fn huge_timeouts_mean_never_instead_of_overflowing() {
    let t0 = Instant::now();
    let huge = ConnectionLimits {
        header_read_timeout: Duration::MAX,
        body_read_timeout: Duration::MAX,
        keep_alive_timeout: Duration::MAX,
        max_connections: 1,
    };
    let a = Activity::new(t0);
    assert!(matches!(a.check(&huge, t0), Check::WaitUntil(_)));
    a.request_started();
    a.write(true, t0);
    assert!(matches!(a.check(&huge, t0), Check::WaitUntil(_)));
}

#[test]
fn the_cap_admits_up_to_max_and_counts_refusals() {
    let c = Arc::new(Connections::new(limits()));
    let one = c.admit().unwrap();
    let two = c.admit().unwrap();
    assert!(c.admit().is_none());
    drop(one);
    let three = c.admit().unwrap();
    let stats = c.stats();
    assert_eq!(
        (stats.open, stats.peak, stats.accepted, stats.refused),
        (2, 2, 3, 1)
    );
    drop((two, three));
    assert_eq!(c.stats().open, 0);
    // The limits, as the inspection API reports them.
    assert_eq!(
        (
            stats.max,
            stats.header_read_timeout_ms,
            stats.body_read_timeout_ms,
            stats.keep_alive_timeout_ms
        ),
        (2, 10_000, 7_000, 60_000)
    );
}

#[test]
fn refusals_read_from_at_once_are_bounded() {
    let c = Arc::new(Connections::with_refusal_places(limits(), 3));
    let held: Vec<_> = (0..3).map(|_| c.refusing().unwrap()).collect();
    assert!(c.refusing().is_none());
    drop(held);
    assert!(c.refusing().is_some());
}

#[test]
fn refusal_places_come_from_the_descriptors_over_the_cap() {
    // Half of what the file limit leaves over the cap, within 1..=32.
    assert_eq!(refusal_places(2, Some(1024)), MAX_REFUSING);
    assert_eq!(refusal_places(960, Some(1024)), 32);
    assert_eq!(refusal_places(32, Some(64)), 16);
    assert_eq!(refusal_places(1, Some(2)), 1);
    // A cap at or over the file limit: the OS refuses accepts before the cap does.
    assert_eq!(refusal_places(2048, Some(1024)), 1);
    assert_eq!(refusal_places(2, None), MAX_REFUSING);
}

#[test]
fn limits_must_be_positive() {
    assert!(limits().validate().is_ok());
    for broken in [
        ConnectionLimits {
            header_read_timeout: Duration::ZERO,
            ..limits()
        },
        ConnectionLimits {
            body_read_timeout: Duration::ZERO,
            ..limits()
        },
        ConnectionLimits {
            keep_alive_timeout: Duration::ZERO,
            ..limits()
        },
        ConnectionLimits {
            max_connections: 0,
            ..limits()
        },
    ] {
        assert!(broken.validate().is_err(), "{broken:?}");
    }
}

#[test]
fn the_default_cap_stays_under_the_file_limit() {
    let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                Max cpu time              unlimited            unlimited            seconds   \n\
                Max open files            1024                 524288               files     \n";
    assert_eq!(nofile_soft_limit(text), Some(1024));
    assert_eq!(
        nofile_soft_limit("Max open files  unlimited unlimited files"),
        None
    );
    assert_eq!(nofile_soft_limit(""), None);
    assert_eq!(cap_for_file_limit(Some(1024)), 960);
    assert_eq!(cap_for_file_limit(Some(64)), 32);
    assert_eq!(cap_for_file_limit(Some(1)), 1);
    assert_eq!(cap_for_file_limit(Some(0)), 1);
    assert_eq!(cap_for_file_limit(Some(1_048_576)), DEFAULT_MAX_CONNECTIONS);
    assert_eq!(cap_for_file_limit(None), DEFAULT_MAX_CONNECTIONS);
}
