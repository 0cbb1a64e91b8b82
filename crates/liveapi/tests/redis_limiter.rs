//! The Redis rate limiter against a real Redis, never a mock: the script's admissions under
//! concurrency, its sliding window, the fallback to a process's share when Redis goes away,
//! the way back, and blocking calls. Needs `LIVEAPI_TEST_REDIS_URL` and `redis-server` on the
//! PATH (`.ci/run` provides both); each test uses keys of its own.
#![cfg(feature = "redis")]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use liveapi::model::polyv::{Amount, CashSettings, Cashes, Scope, UpdateCash};
use liveapi::request::{Engine, ThreadTimer, Timer, TransportError};
use liveapi::transport::TokioTimer;
use liveapi::{
    AcquireError, PolyvCredentials, RateLimit, RateLimiter, RedisLink, RedisRateLimiter,
    RedisRateLimiterBuilder, Throttled,
};
use liveapi_test_support::redis::{PrivateRedis, unique_prefix};
use liveapi_test_support::service::redis_url;
use proptest::prelude::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn builder(url: &str, prefix: &str, limit: u32, window: Duration) -> RedisRateLimiterBuilder {
    RedisRateLimiter::builder(url)
        .app_id("demo_polyv_app")
        .key_prefix(prefix)
        .limit(RateLimit::new(limit, window).unwrap())
        // The script's own window, exactly: these tests time Redis, not a network.
        .transit_margin(Duration::ZERO)
}

/// A plain connection to look at the keys.
async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn zcard(url: &str, key: &str) -> u64 {
    redis::cmd("ZCARD")
        .arg(key)
        .query_async(&mut connection(url).await)
        .await
        .unwrap()
}

/// One permit, giving up after `wait` at most. A limiter that cannot work as configured
/// fails the test: these Redis servers are all usable.
async fn try_acquire(limiter: &RedisRateLimiter, wait: Duration) -> Result<(), Throttled> {
    match limiter
        .acquire(Some(TokioTimer.now() + wait), &TokioTimer)
        .await
    {
        Ok(()) => Ok(()),
        Err(AcquireError::Throttled(throttled)) => Err(throttled),
        Err(other) => panic!("not a wait past the deadline: {other}"),
    }
}

/// A clock an hour ahead of the others: the window is Redis's, so it must not matter.
#[derive(Debug)]
struct HourAhead;

impl Timer for HourAhead {
    fn now(&self) -> Instant {
        TokioTimer.now() + Duration::from_secs(3_600)
    }
    fn sleep(&self, duration: Duration) -> liveapi::request::Sleep {
        TokioTimer.sleep(duration)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_processes_get_exactly_the_limit() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("exact");
    // Three limiters, as three processes: a connection and member ids each.
    let limiters: Vec<Arc<RedisRateLimiter>> = (0..3)
        .map(|_| {
            Arc::new(
                builder(&url, &prefix, 50, Duration::from_secs(30))
                    .processes(3)
                    .build()
                    .unwrap(),
            )
        })
        .collect();
    let mut tasks = Vec::new();
    for (n, limiter) in limiters.iter().enumerate() {
        for _ in 0..40 {
            let limiter = Arc::clone(limiter);
            tasks.push(tokio::spawn(async move {
                // The first process's clock is an hour ahead of the others'.
                if n == 0 {
                    let deadline = HourAhead.now() + ms(500);
                    limiter
                        .acquire(Some(deadline), &HourAhead)
                        .await
                        .map_err(|e| {
                            assert!(e.is_throttled(), "{e}");
                            Throttled
                        })
                } else {
                    try_acquire(&limiter, ms(500)).await
                }
            }));
        }
    }
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 50, "120 asked for 50 places");
    let key = limiters[0].key().to_owned();
    assert_eq!(zcard(&url, &key).await, 50);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut connection(&url).await)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 30_000, "the key expires by itself: {ttl}");
    assert!(limiters.iter().all(|l| l.link() == RedisLink::Shared));
}

/// The earliest and latest moment each admission can have happened, by the local clock.
type Span = (Instant, Instant);

/// Fails if some `limit + 1` admissions fit inside one window. An admission happened at some
/// moment inside its span; `limit + 1` of them fit in a window only if the latest possible
/// end minus the earliest possible start is below it, so this never fails wrongly.
fn assert_sliding_window(spans: &[Span], limit: usize, window: Duration) {
    for &(start, _) in spans {
        let mut ends: Vec<Instant> = spans
            .iter()
            .filter(|(s, _)| *s >= start)
            .map(|(_, e)| *e)
            .collect();
        if ends.len() <= limit {
            continue;
        }
        ends.sort();
        let last = ends[limit];
        assert!(
            last.duration_since(start) >= window,
            "{} admissions within {:?}, the window being {window:?}",
            limit + 1,
            last.duration_since(start)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Any number of processes and tasks hammering one key: never more than the limit in any
    /// window, and the windows do fill.
    #[test]
    fn never_more_than_the_limit_in_any_window(
        limit in 2u32..12,
        window_ms in 150u64..400,
        processes in 1usize..4,
        tasks in 1usize..6,
    ) {
        let Some(url) = redis_url() else { return Ok(()) };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let window = ms(window_ms);
        let run_for = window * 4;
        let spans = runtime.block_on(async {
            let prefix = unique_prefix("sliding");
            let spans = Arc::new(Mutex::new(Vec::<Span>::new()));
            let started = Instant::now();
            let mut handles = Vec::new();
            for _ in 0..processes {
                let limiter = Arc::new(
                    builder(&url, &prefix, limit, window).processes(1).build().unwrap(),
                );
                for _ in 0..tasks {
                    let (limiter, spans) = (Arc::clone(&limiter), Arc::clone(&spans));
                    handles.push(tokio::spawn(async move {
                        while started.elapsed() < run_for {
                            let before = Instant::now();
                            limiter.acquire(None, &TokioTimer).await.unwrap();
                            spans.lock().unwrap().push((before, Instant::now()));
                        }
                    }));
                }
            }
            for handle in handles {
                handle.await.unwrap();
            }
            Arc::try_unwrap(spans).unwrap().into_inner().unwrap()
        });
        assert_sliding_window(&spans, limit as usize, window);
        // Four windows of hammering admit at least a full window's worth, and all stay
        // exact; how many more depends on the machine's speed.
        prop_assert!(spans.len() >= limit as usize, "{} admitted", spans.len());
    }
}

/// Collects what `tracing` prints, to count the warnings.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn count(&self, needle: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(needle)
            .count()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

const OUTAGE: &str = "Redis is unreachable";
const RECOVERY: &str = "Redis answers again";

#[tokio::test]
async fn an_outage_falls_back_to_the_share_and_recovers() {
    let Some(mut redis) = PrivateRedis::start() else {
        return;
    };
    let (logs, _guard) = capture_logs();
    let url = redis.url();
    let window = Duration::from_secs(1);
    let limiter = builder(&url, &unique_prefix("outage"), 20, window)
        .processes(4) // a share of 5
        .timeout(ms(50))
        .probe_interval(ms(200))
        .build()
        .unwrap();
    let key = limiter.key().to_owned();

    for _ in 0..3 {
        try_acquire(&limiter, ms(10)).await.unwrap();
    }
    assert_eq!(limiter.link(), RedisLink::Shared);
    assert_eq!(zcard(&url, &key).await, 3);
    // Those three leave this process's window before the outage.
    tokio::time::sleep(window + ms(50)).await;

    redis.kill();
    // The window Redis may have filled for the fleet passes first: nothing on the share.
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    assert_eq!(limiter.link(), RedisLink::Fallback);
    assert_eq!(logs.count(OUTAGE), 1);
    tokio::time::sleep(window).await;
    // Then the share; the first of these is a probe, which fails and still counts.
    for _ in 0..2 {
        try_acquire(&limiter, ms(10)).await.unwrap();
    }
    assert_eq!(limiter.link(), RedisLink::Fallback);
    redis.restart().unwrap();
    // Still on the share until the next probe is due.
    for _ in 0..2 {
        try_acquire(&limiter, ms(10)).await.unwrap();
    }
    assert_eq!(limiter.link(), RedisLink::Fallback);
    assert_eq!(zcard(&url, &key).await, 0, "the restarted Redis is empty");
    tokio::time::sleep(ms(250)).await;

    // The probe: Redis answers, and hears of the four sends made without it.
    try_acquire(&limiter, ms(10)).await.unwrap();
    assert_eq!(limiter.link(), RedisLink::Rejoining);
    assert_eq!(zcard(&url, &key).await, 5);
    // Rejoining: the share (5 in the window, all taken) still holds, Redis's 20 aside.
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    assert_eq!(zcard(&url, &key).await, 5);

    // One window and one probe interval later, Redis alone decides: the whole budget.
    tokio::time::sleep(window + ms(250)).await;
    for _ in 0..20 {
        try_acquire(&limiter, ms(10)).await.unwrap();
    }
    assert_eq!(limiter.link(), RedisLink::Shared);
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    assert_eq!(logs.count(OUTAGE), 1, "one warning per outage");
    assert_eq!(logs.count(RECOVERY), 1);

    // A second outage is a second warning.
    redis.kill();
    tokio::time::sleep(window).await;
    let _ = try_acquire(&limiter, ms(10)).await;
    let _ = try_acquire(&limiter, ms(10)).await;
    assert_eq!(logs.count(OUTAGE), 2);
}

#[tokio::test]
async fn an_unreachable_redis_never_gives_more_than_the_share() {
    let (logs, _guard) = capture_logs();
    // Nothing listens on port 1.
    let window = ms(300);
    let limiter = builder("redis://127.0.0.1:1/0", "unused", 30, window)
        .processes(10) // a share of 3
        .timeout(ms(50))
        .build()
        .unwrap();
    // One window first: Redis may have admitted the budget to other processes.
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    tokio::time::sleep(window).await;
    for _ in 0..3 {
        try_acquire(&limiter, ms(10)).await.unwrap();
    }
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    assert_eq!(limiter.link(), RedisLink::Fallback);
    assert_eq!(logs.count(OUTAGE), 1);
    // The warning names where Redis is, never the URL's password.
    let limiter = builder(
        "redis://:hunter2@127.0.0.1:1/0",
        "unused",
        10,
        Duration::from_secs(10),
    )
    .processes(1)
    .timeout(ms(50))
    .build()
    .unwrap();
    let _ = try_acquire(&limiter, ms(10)).await;
    assert_eq!(logs.count(OUTAGE), 2);
    assert_eq!(logs.count("hunter2"), 0);
    assert!(logs.count("127.0.0.1:1/0") >= 2);
}

/// A recorder that keeps every counter and gauge by name and labels, for one thread.
#[derive(Default)]
struct Recording {
    counters: Mutex<std::collections::BTreeMap<String, Arc<std::sync::atomic::AtomicU64>>>,
    gauges: Mutex<std::collections::BTreeMap<String, Arc<Gauge>>>,
    described: Mutex<Vec<String>>,
}

/// A gauge's value, as the bits of an `f64`.
#[derive(Default)]
struct Gauge(std::sync::atomic::AtomicU64);

impl Gauge {
    fn update(&self, change: impl Fn(f64) -> f64) {
        use std::sync::atomic::Ordering::SeqCst;
        let _ = self.0.fetch_update(SeqCst, SeqCst, |bits| {
            Some(change(f64::from_bits(bits)).to_bits())
        });
    }
}

impl metrics::GaugeFn for Gauge {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }
    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }
    fn set(&self, value: f64) {
        self.update(|_| value);
    }
}

fn series(key: &metrics::Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl metrics::Recorder for Recording {
    fn describe_counter(
        &self,
        key: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
        self.described.lock().unwrap().push(key.as_str().to_owned());
    }
    fn describe_gauge(
        &self,
        key: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
        self.described.lock().unwrap().push(key.as_str().to_owned());
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let counter = self
            .counters
            .lock()
            .unwrap()
            .entry(series(key))
            .or_default()
            .clone();
        metrics::Counter::from_arc(counter)
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        let gauge = self
            .gauges
            .lock()
            .unwrap()
            .entry(series(key))
            .or_default()
            .clone();
        metrics::Gauge::from_arc(gauge)
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

impl Recording {
    fn counter(&self, series: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(series)
            .map_or(0, |c| c.load(std::sync::atomic::Ordering::SeqCst))
    }

    fn gauge(&self, series: &str) -> f64 {
        self.gauges.lock().unwrap().get(series).map_or(0.0, |g| {
            f64::from_bits(g.0.load(std::sync::atomic::Ordering::SeqCst))
        })
    }
}

#[test]
fn outages_and_recoveries_are_counted() {
    let Some(mut redis) = PrivateRedis::start() else {
        return;
    };
    let recording = Recording::default();
    let fallbacks = "liveapi_rate_limit_redis_fallbacks_total{egress=nat-m}";
    let recoveries = "liveapi_rate_limit_redis_recoveries_total{egress=nat-m}";
    let on_fallback = "liveapi_rate_limit_redis_on_fallback{egress=nat-m}";
    metrics::with_local_recorder(&recording, || {
        RedisRateLimiter::describe_metrics();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let window = ms(300);
            let limiter = builder(&redis.url(), &unique_prefix("metrics"), 20, window)
                .egress("nat-m")
                .processes(4)
                .timeout(ms(50))
                .probe_interval(ms(100))
                .build()
                .unwrap();
            try_acquire(&limiter, ms(10)).await.unwrap();
            assert_eq!(recording.counter(fallbacks), 0);

            redis.kill();
            assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
            assert_eq!(limiter.link(), RedisLink::Fallback);
            assert_eq!(
                (recording.counter(fallbacks), recording.gauge(on_fallback)),
                (1, 1.0)
            );
            // Still the same outage: counted once.
            tokio::time::sleep(window).await;
            try_acquire(&limiter, ms(10)).await.unwrap();
            assert_eq!(recording.counter(fallbacks), 1);
            assert_eq!(recording.counter(recoveries), 0);

            redis.restart().unwrap();
            tokio::time::sleep(ms(150)).await;
            // The probe is answered: the outage ends.
            try_acquire(&limiter, ms(10)).await.unwrap();
            assert_eq!(limiter.link(), RedisLink::Rejoining);
            assert_eq!(
                (recording.counter(recoveries), recording.gauge(on_fallback)),
                (1, 0.0)
            );

            // A limiter that goes away on its share is on it no more.
            let unreachable = builder("redis://127.0.0.1:1/0", "unused", 20, window)
                .egress("nat-m")
                .processes(4)
                .timeout(ms(50))
                .build()
                .unwrap();
            let _ = try_acquire(&unreachable, ms(10)).await;
            assert_eq!(
                (recording.counter(fallbacks), recording.gauge(on_fallback)),
                (2, 1.0)
            );
            drop(unreachable);
            assert_eq!(recording.gauge(on_fallback), 0.0);
        });
    });
    let described = recording.described.lock().unwrap().clone();
    for name in [
        "liveapi_rate_limit_redis_fallbacks_total",
        "liveapi_rate_limit_redis_recoveries_total",
        "liveapi_rate_limit_redis_on_fallback",
    ] {
        assert!(described.iter().any(|d| d == name), "{name}: {described:?}");
    }
}

/// A canned `donate/update-cash` answer, so that the engine's blocking path needs no server.
fn answer(_: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
    Ok(http::Response::new(Bytes::from_static(
        br#"{"code":200,"status":"success","message":"","data":true}"#,
    )))
}

#[test]
fn blocking_calls_keep_to_the_share_and_are_told_later() {
    let Some(url) = redis_url() else { return };
    let (logs, _guard) = capture_logs();
    let window = Duration::from_secs(1);
    let limiter = Arc::new(
        builder(&url, &unique_prefix("blocking"), 20, window)
            .processes(10) // a share of 2
            .build()
            .unwrap(),
    );
    let engine = Engine::builder(ThreadTimer)
        .polyv_rate_limiter(limiter.clone())
        .build();
    let credentials = PolyvCredentials::builder()
        .app_id("demo_polyv_app")
        .secret("secret")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let cashes = Cashes::parse(["0.88", "6.66", "8.88", "18.88", "66.66", "88.88"]).unwrap();
    let update = UpdateCash::new(
        Scope::Account,
        CashSettings::new(cashes, "0.5".parse::<Amount>().unwrap()),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..2 {
        engine
            .execute_blocking(&mut answer, &update, &credentials)
            .unwrap();
    }
    assert_eq!(logs.count("no Tokio runtime"), 1);
    assert_eq!(limiter.link(), RedisLink::Shared);
    // The next permits on a runtime tell Redis of the two sends it never saw, once: eight
    // asking at the same time do not each tell them.
    runtime.block_on(async {
        let asking: Vec<_> = (0..8)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move { try_acquire(&limiter, ms(500)).await })
            })
            .collect();
        for task in asking {
            task.await.unwrap().unwrap();
        }
        assert_eq!(zcard(&url, limiter.key()).await, 10);
    });
    // Three sends in the window, the share being 2: a blocking call waits until two left.
    engine
        .execute_blocking(&mut answer, &update, &credentials)
        .unwrap();
    assert!(started.elapsed() >= window);
    assert_eq!(logs.count("no Tokio runtime"), 1, "warned once");
}

#[tokio::test]
async fn the_client_shares_its_polyv_budget_through_redis() {
    let Some(url) = redis_url() else { return };
    let emulator = liveapi_emulator::Emulator::builder().start().await.unwrap();
    let app = emulator.polyv_app();
    let prefix = unique_prefix("client");
    let vars = std::collections::HashMap::from([
        ("LIVEAPI_POLYV_APP_ID", app.app_id.clone()),
        ("LIVEAPI_POLYV_SECRET", app.secret.clone()),
        ("LIVEAPI_POLYV_BASE_URL", emulator.base_url()),
        ("LIVEAPI_POLYV_RATE_LIMIT", "600".to_owned()),
        ("LIVEAPI_POLYV_RATE_LIMIT_PROCESSES", "2".to_owned()),
        ("LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL", url.clone()),
        ("LIVEAPI_POLYV_RATE_LIMIT_EGRESS", prefix.clone()),
    ]);
    let lookup = |name: &str| vars.get(name).cloned();
    let client = liveapi::Client::builder()
        .from_env_with(lookup)
        .unwrap()
        .build()
        .unwrap();
    let key = format!("liveapi:rate-limit:polyv:{}:{prefix}", app.app_id);
    let engine = format!("{:?}", client.engine());
    assert!(engine.contains(&key), "{engine}");
    assert!(engine.contains("limit: 600"), "{engine}");
    for _ in 0..3 {
        client.donate_settings(Scope::Account).await.unwrap();
    }
    assert_eq!(zcard(&url, &key).await, 3);

    // Without the number of processes there is no safe share: an error names the variable.
    let err = liveapi::Client::builder()
        .from_env_with(|name| {
            (name != "LIVEAPI_POLYV_RATE_LIMIT_PROCESSES")
                .then(|| lookup(name))
                .flatten()
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("LIVEAPI_POLYV_RATE_LIMIT_PROCESSES"),
        "{err}"
    );
    emulator.shutdown().await.unwrap();
}

#[test]
fn a_limiter_set_in_code_takes_the_budget_from_the_environment() {
    let vars = std::collections::HashMap::from([
        ("LIVEAPI_POLYV_RATE_LIMIT", "600"),
        ("LIVEAPI_POLYV_RATE_LIMIT_PROCESSES", "3"),
        ("LIVEAPI_POLYV_RATE_LIMIT_EGRESS", "nat-b"),
    ]);
    // Building connects nothing: no Redis is needed, and none listens on port 1.
    let client = liveapi::Client::builder()
        .polyv(
            PolyvCredentials::builder()
                .app_id("app")
                .secret("secret")
                .build()
                .unwrap(),
        )
        .polyv_rate_limit(
            RedisRateLimiter::builder("redis://127.0.0.1:1/0")
                .app_id("other")
                .processes(2),
        )
        .from_env_with(|name| vars.get(name).map(|v| (*v).to_owned()))
        .unwrap()
        .build()
        .unwrap();
    let limiter = format!("{:?}", client.engine().polyv_rate_limiter().unwrap());
    // The app id given in code wins over the credentials'; the variables set the rest.
    assert!(
        limiter.contains("key: \"liveapi:rate-limit:polyv:other:nat-b\""),
        "{limiter}"
    );
    assert!(
        limiter.contains("limit: RateLimit { limit: 600"),
        "{limiter}"
    );
    assert!(
        limiter.contains("fallback: RateLimit { limit: 200"),
        "{limiter}"
    );
}

#[tokio::test]
async fn the_transit_margin_lengthens_the_window() {
    let Some(url) = redis_url() else { return };
    let window = ms(300);
    let margin = ms(200);
    // Shared: two permits, then the next fits only once the first is 500 ms old.
    let limiter = builder(&url, &unique_prefix("margin"), 2, window)
        .processes(1)
        .transit_margin(margin)
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..2 {
        try_acquire(&limiter, ms(10)).await.unwrap();
    }
    assert_eq!(try_acquire(&limiter, ms(350)).await, Err(Throttled));
    try_acquire(&limiter, ms(600)).await.unwrap();
    assert!(started.elapsed() >= window + margin);
    assert_eq!(limiter.link(), RedisLink::Shared);

    // On the share, without Redis, the same margin.
    let limiter = builder("redis://127.0.0.1:1/0", "unused", 2, window)
        .processes(1)
        .timeout(ms(50))
        .transit_margin(margin)
        .build()
        .unwrap();
    // Nothing on the share for one window and its margin, 500 ms.
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    assert_eq!(limiter.link(), RedisLink::Fallback);
    assert_eq!(try_acquire(&limiter, ms(400)).await, Err(Throttled));
}

#[tokio::test]
async fn a_failed_probe_costs_one_place_of_the_share() {
    // Nothing listens on port 1; a probe is due on every call 20 ms apart.
    let window = ms(300);
    let limiter = builder("redis://127.0.0.1:1/0", "unused", 30, window)
        .processes(10) // a share of 3
        .timeout(ms(50))
        .probe_interval(ms(10))
        .build()
        .unwrap();
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
    tokio::time::sleep(window).await;
    for _ in 0..3 {
        try_acquire(&limiter, ms(10)).await.unwrap();
        tokio::time::sleep(ms(20)).await;
    }
    assert_eq!(limiter.link(), RedisLink::Fallback);
    assert_eq!(try_acquire(&limiter, ms(10)).await, Err(Throttled));
}

#[tokio::test]
async fn one_slow_answer_is_not_an_outage() {
    let Some(redis) = PrivateRedis::start() else {
        return;
    };
    let url = redis.url();
    let limiter = builder(&url, &unique_prefix("slow"), 20, Duration::from_secs(1))
        .processes(2)
        .timeout(ms(100))
        .build()
        .unwrap();
    try_acquire(&limiter, ms(10)).await.unwrap();
    // Redis answers nobody for 150 ms: the first ask times out, the second is answered.
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(150)
        .query_async(&mut connection(&url).await)
        .await
        .unwrap();
    try_acquire(&limiter, ms(1000)).await.unwrap();
    assert_eq!(limiter.link(), RedisLink::Shared);
    // The first ask ran too when Redis woke, after the limiter had given up on it: one send
    // counted twice, on the safe side.
    assert_eq!(zcard(&url, limiter.key()).await, 3);
}
