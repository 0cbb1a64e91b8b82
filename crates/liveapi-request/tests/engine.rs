//! The call engine over transports written here: a blocking closure and async closures that
//! play back answers a real server gives (a proxy's HTML 502, a dropped connection, a LinkV
//! envelope, a `Retry-After`), with a virtual clock, so every pause and timeout is exact.
//! End-to-end runs against the emulator over real sockets are in the `liveapi` crate.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::Bytes;
use liveapi_model::ApiErrorKind;
use liveapi_model::linkv::{
    ChangeGold, Coins, Expiration, GetUserTokens, OpenId, OrderId, OrderSuccess, Platform,
    RequestId, UsdCents,
};
use liveapi_model::polyv::{GetDonate, Scope};
use liveapi_request::meaning::{Class, Outcome};
use liveapi_request::retry::RetryPolicy;
use liveapi_request::{
    AcquireError, AttemptError, BuildError, CallError, CallSettings, Context, Engine,
    EngineBuilder, LimiterConfigError, LinkvCredentials, ManualClock, PolyvCredentials, RateLimit,
    RateLimiter, SeededEntropy, Sleep, Timer, TransportError, TransportErrorKind, Vendor,
};

const REQUEST_ID: &str = "0123456789abcdef0123456789abcdef";

fn change() -> ChangeGold {
    ChangeGold::add(
        OpenId::new("42").unwrap(),
        RequestId::new(REQUEST_ID).unwrap(),
        Coins::new(5).unwrap(),
        Expiration::at_unix_seconds(1_800_000_000),
    )
    .unwrap()
}

fn linkv_at(base_url: &str) -> LinkvCredentials {
    LinkvCredentials::builder()
        .app_id("app")
        .secret("secret")
        .alias("alias")
        .base_url(base_url)
        .build()
        .unwrap()
}

fn linkv() -> LinkvCredentials {
    linkv_at("http://127.0.0.1:9")
}

fn polyv() -> PolyvCredentials {
    PolyvCredentials::builder()
        .app_id("app")
        .secret("secret")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap()
}

fn context() -> Context {
    Context::new(
        Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )),
        Arc::new(SeededEntropy::new(3)),
    )
}

/// A clock that moves only when slept on, recording every pause.
#[derive(Debug, Clone)]
struct VirtualTimer {
    start: Instant,
    elapsed_ms: Arc<AtomicU64>,
    pauses: Arc<Mutex<Vec<Duration>>>,
}

impl VirtualTimer {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed_ms: Arc::default(),
            pauses: Arc::default(),
        }
    }

    fn elapsed(&self) -> Duration {
        Duration::from_millis(self.elapsed_ms.load(Ordering::SeqCst))
    }

    fn pauses(&self) -> Vec<Duration> {
        self.pauses.lock().unwrap().clone()
    }
}

impl Timer for VirtualTimer {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.pauses.lock().unwrap().push(duration);
        let millis = u64::try_from(duration.as_millis()).unwrap();
        let elapsed = self.elapsed_ms.clone();
        Box::pin(async move {
            elapsed.fetch_add(millis, Ordering::SeqCst);
        })
    }
}

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// Runs a future whose every wait is the virtual timer's, which never leaves it pending.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(NoopWake));
    let mut cx = std::task::Context::from_waker(&waker);
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the call waited on something other than the virtual timer"),
    }
}

/// What the playback server does with one request.
#[derive(Clone)]
enum Answer {
    Status(u16, &'static str),
    WithHeader(u16, &'static str, &'static str, &'static str),
    Drop,
    /// Never answers.
    Hang,
}

fn response(status: u16, body: &'static str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

/// The parameters of one request, in the order sent.
type Params = Vec<(String, String)>;

/// A transport that plays back `answers` and records the form or query of every request.
#[derive(Clone)]
struct Playback {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    sent: Arc<Mutex<Vec<Params>>>,
}

impl Playback {
    fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        Self {
            answers: Arc::new(Mutex::new(answers.into_iter().collect())),
            sent: Arc::default(),
        }
    }

    fn sent(&self) -> Vec<Params> {
        self.sent.lock().unwrap().clone()
    }

    fn answer(&self, request: &http::Request<Bytes>) -> Answer {
        let params = match request.uri().query() {
            Some(query) => form_urlencoded::parse(query.as_bytes()),
            None => form_urlencoded::parse(request.body()),
        };
        self.sent
            .lock()
            .unwrap()
            .push(params.into_owned().collect());
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("no more answers")
    }

    fn blocking(
        &self,
    ) -> impl FnMut(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> + '_
    {
        move |request| match self.answer(&request) {
            Answer::Status(status, body) => Ok(response(status, body)),
            Answer::WithHeader(status, body, name, value) => {
                let mut r = response(status, body);
                r.headers_mut().insert(name, value.parse().unwrap());
                Ok(r)
            }
            Answer::Drop => Err(TransportError::new(TransportErrorKind::Io)),
            Answer::Hang => panic!("a blocking transport cannot hang in this test"),
        }
    }

    /// The same playback as an async transport: a closure returning a future.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'static {
        let answer = self.answer(&request);
        async move {
            match answer {
                Answer::Status(status, body) => Ok(response(status, body)),
                Answer::WithHeader(status, body, name, value) => {
                    let mut r = response(status, body);
                    r.headers_mut().insert(name, value.parse().unwrap());
                    Ok(r)
                }
                Answer::Drop => Err(TransportError::new(TransportErrorKind::Io)),
                Answer::Hang => std::future::pending().await,
            }
        }
    }
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> &'a str {
    &params.iter().find(|(k, _)| k == key).unwrap().1
}

fn engine(timer: &VirtualTimer) -> EngineBuilder {
    Engine::builder(timer.clone())
        .context(context())
        .retry_policy(RetryPolicy::default().with_max_attempts(4))
}

const OK: &str = r#"{"status":"200","msg":""}"#;
const BALANCE: &str = r#"{"status":"200","msg":"","data":{"tokens":"7"}}"#;
const POLYV_OK: &str = r#"{"code":200,"status":"success","message":"","data":{}}"#;

#[test]
fn blocking_transient_failures_are_retried_with_fresh_signatures() {
    let playback = Playback::new([
        Answer::Status(502, "<html>Bad Gateway</html>"),
        Answer::Drop,
        Answer::Status(200, r#"{"status":"500","msg":"system err"}"#),
        Answer::Status(200, OK),
    ]);
    let engine = Engine::builder(liveapi_request::ThreadTimer)
        .context(context())
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build();
    engine
        .execute_blocking(&mut playback.blocking(), &change(), &linkv())
        .unwrap();

    let sent = playback.sent();
    assert_eq!(sent.len(), 4);
    let nonces: std::collections::HashSet<_> = sent.iter().map(|p| param(p, "nonce_str")).collect();
    assert_eq!(nonces.len(), 4, "every attempt has its own nonce");
    assert!(sent.iter().all(|p| param(p, "request_id") == REQUEST_ID));
}

#[test]
fn a_refusal_is_not_retried() {
    let playback = Playback::new([Answer::Status(200, r#"{"status":"403","msg":"sign err"}"#)]);
    let timer = VirtualTimer::new();
    let send = |r| playback.send(r);
    let err = run(engine(&timer).build().execute(&send, &change(), &linkv())).unwrap_err();
    assert!(matches!(
        err.last(),
        AttemptError::Api { error, .. } if error.kind() == ApiErrorKind::BadSignature
    ));
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.meaning().class(), Class::Auth);
    assert!(!err.meaning().may_have_been_applied());
    assert!(timer.pauses().is_empty());
}

#[test]
fn an_async_transport_gets_retries_with_backoff_and_the_same_request_id() {
    let playback = Playback::new([Answer::Drop, Answer::Drop, Answer::Status(200, OK)]);
    let timer = VirtualTimer::new();
    let send = |r| playback.send(r);
    run(engine(&timer).build().execute(&send, &change(), &linkv())).unwrap();
    let sent = playback.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|p| param(p, "request_id") == REQUEST_ID));
    let pauses = timer.pauses();
    assert_eq!(pauses.len(), 2);
    // Backoff doubles: 50–100 ms, then 100–200 ms.
    assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&pauses[0]));
    assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&pauses[1]));
}

#[test]
fn retries_stop_at_the_limit_and_the_outcome_stays_unknown() {
    let playback = Playback::new([Answer::Drop, Answer::Drop, Answer::Drop]);
    let timer = VirtualTimer::new();
    let send = |r| playback.send(r);
    let engine = engine(&timer)
        .retry_policy(RetryPolicy::default().with_max_attempts(3))
        .build();
    let err = run(engine.execute(&send, &change(), &linkv())).unwrap_err();
    assert!(matches!(err.last(), AttemptError::Transport(e) if e.kind() == TransportErrorKind::Io));
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.meaning().outcome(), Outcome::Unknown);
    assert_eq!(playback.sent().len(), 3);
}

#[test]
fn an_unknown_attempt_followed_by_rate_limiting_is_still_unknown() {
    // The first attempt may have been applied; a rate-limited answer says nothing about it.
    let playback = Playback::new([
        Answer::Hang,
        Answer::Status(200, r#"{"status":"429","msg":"too many requests"}"#),
        Answer::Status(200, r#"{"status":"429","msg":"too many requests"}"#),
    ]);
    let timer = VirtualTimer::new();
    let send = |r| playback.send(r);
    let engine = engine(&timer)
        .retry_policy(RetryPolicy::default().with_max_attempts(3))
        .attempt_timeout(Duration::from_secs(1))
        .no_deadline()
        .build();
    let err = run(engine.execute(&send, &change(), &linkv())).unwrap_err();
    assert!(matches!(
        err.last(),
        AttemptError::Api { error, .. } if error.kind() == ApiErrorKind::RateLimited
    ));
    assert_eq!(err.meaning().class(), Class::RateLimited);
    assert_eq!(err.meaning().outcome(), Outcome::Unknown);

    // A refusal of the request itself settles it: with the same request id, an applied earlier
    // attempt would have been answered as applied.
    let playback = Playback::new([
        Answer::Drop,
        Answer::Status(200, r#"{"status":"400","msg":"param err"}"#),
    ]);
    let send = |r| playback.send(r);
    let err = run(engine.execute(&send, &change(), &linkv())).unwrap_err();
    assert_eq!(err.meaning().outcome(), Outcome::NeverApplied);
}

#[test]
fn each_attempt_is_timed_out_and_the_deadline_ends_the_call() {
    let timer = VirtualTimer::new();
    let playback = Playback::new(vec![Answer::Hang; 10]);
    let send = |r| playback.send(r);
    let engine = engine(&timer)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(10)
                .with_backoff(Duration::from_millis(100), Duration::from_millis(100)),
        )
        .attempt_timeout(Duration::from_secs(1))
        .deadline(Duration::from_millis(2_500))
        .build();
    let err = run(engine.execute(&send, &change(), &linkv())).unwrap_err();
    assert!(
        matches!(err.last(), AttemptError::Transport(e) if e.kind() == TransportErrorKind::Timeout)
    );
    // 1 s + pause + 1 s + pause, then only what is left of 2.5 s: three attempts, none past
    // the deadline.
    assert_eq!(err.attempts(), 3);
    assert!(
        timer.elapsed() <= Duration::from_millis(2_500),
        "{:?}",
        timer.elapsed()
    );
    assert!(
        timer.elapsed() >= Duration::from_millis(2_400),
        "{:?}",
        timer.elapsed()
    );
}

#[test]
fn per_call_settings_override_the_engine() {
    let timer = VirtualTimer::new();
    let engine = engine(&timer).build();
    let playback = Playback::new(vec![Answer::Drop; 4]);
    let send = |r| playback.send(r);
    let settings = CallSettings::new().max_attempts(2);
    let err = run(engine.execute_with(&send, &change(), &linkv(), &settings)).unwrap_err();
    assert_eq!(err.attempts(), 2);

    let playback = Playback::new(vec![Answer::Hang; 4]);
    let send = |r| playback.send(r);
    let before = timer.elapsed();
    let settings = CallSettings::new()
        .attempt_timeout(Duration::from_millis(300))
        .max_attempts(1);
    let err = run(engine.execute_with(&send, &change(), &linkv(), &settings)).unwrap_err();
    assert!(
        matches!(err.last(), AttemptError::Transport(e) if e.kind() == TransportErrorKind::Timeout)
    );
    assert_eq!(timer.elapsed() - before, Duration::from_millis(300));

    let playback = Playback::new(vec![Answer::Hang; 4]);
    let send = |r| playback.send(r);
    let before = timer.elapsed();
    let settings = CallSettings::new().deadline(Duration::from_millis(700));
    let err = run(engine.execute_with(&send, &change(), &linkv(), &settings)).unwrap_err();
    assert_eq!(err.attempts(), 1, "no time was left for a second attempt");
    assert_eq!(timer.elapsed() - before, Duration::from_millis(700));
}

#[test]
fn retry_after_is_honoured_for_both_vendors() {
    // LinkV behind a gateway that asks for 3 s.
    let timer = VirtualTimer::new();
    let playback = Playback::new([
        Answer::WithHeader(503, "<html>503</html>", "retry-after", "3"),
        Answer::Status(200, BALANCE),
    ]);
    let send = |r| playback.send(r);
    let balance = GetUserTokens::new(OpenId::new("42").unwrap());
    let coins = run(engine(&timer).build().execute(&send, &balance, &linkv())).unwrap();
    assert_eq!(coins.coins.get(), 7);
    assert_eq!(timer.pauses(), [Duration::from_secs(3)]);

    // Polyv rate limiting with an HTTP date 20 s after the client's clock.
    let timer = VirtualTimer::new();
    let playback = Playback::new([
        Answer::WithHeader(
            429,
            r#"{"code":429,"status":"error","message":"qps exceeds number of calls","data":""}"#,
            "retry-after",
            // The client's clock is 2023-11-14 22:13:20 UTC.
            "Tue, 14 Nov 2023 22:13:40 GMT",
        ),
        Answer::Status(200, POLYV_OK),
    ]);
    let send = |r| playback.send(r);
    run(engine(&timer)
        .build()
        .execute(&send, &GetDonate::new(Scope::Account), &polyv()))
    .unwrap();
    assert_eq!(timer.pauses(), [Duration::from_secs(20)]);
}

#[test]
fn a_retry_after_past_the_deadline_ends_the_call_without_an_early_retry() {
    let timer = VirtualTimer::new();
    let playback = Playback::new([Answer::WithHeader(
        429,
        r#"{"code":429,"status":"error","message":"qps exceeds number of calls","data":""}"#,
        "retry-after",
        "300",
    )]);
    let send = |r| playback.send(r);
    let err = run(engine(&timer)
        .deadline(Duration::from_secs(30))
        .build()
        .execute(&send, &GetDonate::new(Scope::Account), &polyv()))
    .unwrap_err();
    assert!(matches!(
        err.last(),
        AttemptError::Api { error, .. } if error.kind() == ApiErrorKind::RateLimited
    ));
    assert_eq!(playback.sent().len(), 1);
    assert!(timer.pauses().is_empty());
}

#[test]
fn polyv_calls_wait_for_the_limiter_and_linkv_calls_do_not() {
    let timer = VirtualTimer::new();
    let engine = engine(&timer)
        .polyv_rate_limit(RateLimit::new(2, Duration::from_secs(10)))
        .no_deadline()
        .build();
    let playback = Playback::new(vec![Answer::Status(200, POLYV_OK); 5]);
    let send = |r| playback.send(r);
    let get = GetDonate::new(Scope::Account);
    for _ in 0..5 {
        run(engine.execute(&send, &get, &polyv())).unwrap();
    }
    // Two per 10 s: the third and fifth calls waited for the window to move on.
    assert_eq!(timer.elapsed(), Duration::from_secs(20));

    let playback = Playback::new(vec![Answer::Status(200, BALANCE); 5]);
    let send = |r| playback.send(r);
    let balance = GetUserTokens::new(OpenId::new("42").unwrap());
    for _ in 0..5 {
        run(engine.execute(&send, &balance, &linkv())).unwrap();
    }
    assert_eq!(
        timer.elapsed(),
        Duration::from_secs(20),
        "LinkV is not limited"
    );
}

#[test]
fn the_limiter_refuses_a_wait_past_the_deadline_and_nothing_is_sent() {
    let timer = VirtualTimer::new();
    let engine = engine(&timer)
        .polyv_rate_limit(RateLimit::new(1, Duration::from_secs(60)))
        .deadline(Duration::from_secs(5))
        .build();
    let playback = Playback::new(vec![Answer::Status(200, POLYV_OK); 2]);
    let send = |r| playback.send(r);
    let get = GetDonate::new(Scope::Account);
    run(engine.execute(&send, &get, &polyv())).unwrap();
    let err = run(engine.execute(&send, &get, &polyv())).unwrap_err();
    assert!(
        matches!(err.last(), AttemptError::Transport(e) if e.kind() == TransportErrorKind::Throttled)
    );
    assert_eq!(
        (err.meaning().class(), err.meaning().outcome()),
        (Class::RateLimited, Outcome::NotApplied)
    );
    assert!(
        err.meaning().is_retryable(),
        "a later call may get a permit"
    );
    assert_eq!(playback.sent().len(), 1);
}

/// A limiter whose shared store refuses its password: it can never give a permit.
#[derive(Debug)]
struct Misconfigured;

impl RateLimiter for Misconfigured {
    fn acquire<'a>(
        &'a self,
        _: Option<Instant>,
        _: &'a dyn Timer,
    ) -> Pin<Box<dyn Future<Output = Result<(), AcquireError>> + Send + 'a>> {
        Box::pin(async {
            Err(LimiterConfigError::new("the limiter's store refused its password").into())
        })
    }
}

#[test]
fn a_limiter_that_cannot_work_fails_the_call_as_configuration_at_once() {
    let timer = VirtualTimer::new();
    let engine = engine(&timer)
        .polyv_rate_limiter(Arc::new(Misconfigured))
        .build();
    let playback = Playback::new(vec![Answer::Status(200, POLYV_OK); 3]);
    let send = |r| playback.send(r);
    let err = run(engine.execute(&send, &GetDonate::new(Scope::Account), &polyv())).unwrap_err();
    assert!(
        matches!(err.last(), AttemptError::Build(BuildError::RateLimiter(e)) if e.to_string().contains("refused its password")),
        "{err:?}"
    );
    assert_eq!(
        (err.meaning().class(), err.meaning().outcome()),
        (Class::Config, Outcome::NotApplied)
    );
    assert!(!err.meaning().is_retryable());
    // Not retried, not waited for, nothing sent.
    assert_eq!(err.attempts(), 1);
    assert!(timer.pauses().is_empty());
    assert!(playback.sent().is_empty());
}

#[test]
fn plain_http_is_refused_off_this_machine_unless_allowed() {
    let timer = VirtualTimer::new();
    let balance = GetUserTokens::new(OpenId::new("42").unwrap());
    let playback = Playback::new(vec![Answer::Status(200, BALANCE); 4]);
    let send = |r| playback.send(r);
    let remote = linkv_at("http://live.example.com");

    let err = run(engine(&timer).build().execute(&send, &balance, &remote)).unwrap_err();
    match err.last() {
        AttemptError::Build(BuildError::InsecureHttp(refused)) => {
            assert_eq!(refused.host(), "live.example.com");
            assert_eq!(refused.vendor(), Vendor::Linkv);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.meaning().class(), Class::Config);
    assert!(playback.sent().is_empty(), "nothing was sent");

    let allowed = engine(&timer).allow_insecure_http(true).build();
    run(allowed.execute(&send, &balance, &remote)).unwrap();
    for local in [
        "http://localhost:8080",
        "http://[::1]:1",
        "http://127.0.0.2",
    ] {
        run(engine(&timer)
            .build()
            .execute(&send, &balance, &linkv_at(local)))
        .unwrap();
    }
}

#[test]
fn only_order_success_needs_the_alias() {
    let timer = VirtualTimer::new();
    let no_alias = LinkvCredentials::builder()
        .app_id("app")
        .secret("secret")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let playback = Playback::new([Answer::Status(200, OK)]);
    let send = |r| playback.send(r);
    let engine = engine(&timer).build();
    run(engine.execute(&send, &change(), &no_alias)).unwrap();
    assert!(playback.sent()[0].iter().all(|(k, _)| k != "channel"));

    let order = OrderSuccess::credit(
        OpenId::new("42").unwrap(),
        RequestId::new(REQUEST_ID).unwrap(),
        OrderId::new("o-1").unwrap(),
        Coins::new(1).unwrap(),
        UsdCents::new(99),
        Platform::Ios,
        Expiration::at_unix_seconds(1_800_000_000),
    )
    .unwrap();
    let err: CallError = run(engine.execute(&send, &order, &no_alias)).unwrap_err();
    assert!(matches!(
        err.last(),
        AttemptError::Build(BuildError::MissingAlias)
    ));
    assert_eq!(
        err.to_string(),
        "the LinkV credentials have no alias, which orderSuccess sends as `channel`"
    );
    assert_eq!(playback.sent().len(), 1, "the order was never sent");
}

#[test]
fn a_linkv_refusal_with_the_servers_date_past_the_nonce_window_is_the_clock() {
    // The client's clock is 2023-11-14 22:13:20 UTC; the server's says 22:07:18: six minutes
    // and two seconds behind, past the five minutes of a nonce. The words are the server's
    // own and decide nothing.
    let stale = r#"{"status":"400","msg":"param err","data":[]}"#;
    let date = "Tue, 14 Nov 2023 22:07:18 GMT";
    let timer = VirtualTimer::new();
    let playback = Playback::new([
        Answer::WithHeader(200, stale, "date", date),
        Answer::Status(200, OK),
    ]);
    let send = |r| playback.send(r);
    let engine = engine(&timer)
        .retry_policy(RetryPolicy::default().with_max_attempts(10))
        .build();
    let err = run(engine.execute(&send, &change(), &linkv())).unwrap_err();
    assert!(matches!(
        err.last(),
        AttemptError::Api { error, .. } if error.kind() == ApiErrorKind::BadParameter
    ));
    assert_eq!(err.meaning().class(), Class::Clock);
    assert_eq!(
        err.attempts(),
        1,
        "a fresh signature on the same clock would be refused too"
    );
    assert_eq!(
        err.meaning().outcome(),
        Outcome::NotApplied,
        "the server refused it: nothing was applied"
    );
    assert!(!err.meaning().is_retryable());
    let offset = err.clock_offset().expect("the answer had a Date header");
    assert_eq!(offset.to_string(), "6 min 2 s ahead of the server's");

    // The same refusal with the server's Date within the window is a refusal of the request.
    let near = "Tue, 14 Nov 2023 22:13:00 GMT";
    let playback = Playback::new([Answer::WithHeader(200, stale, "date", near)]);
    let send = |r| playback.send(r);
    let err = run(engine.execute(&send, &change(), &linkv())).unwrap_err();
    assert_eq!(err.meaning().class(), Class::Refused);
    assert_eq!(err.meaning().outcome(), Outcome::NeverApplied);
    assert_eq!(err.clock_offset(), None, "not a clock error");
}

#[test]
fn a_polyv_time_refusal_is_retried_once_as_a_slow_network_would_cause() {
    let stale = r#"{"code":400,"status":"error","message":"invalid timestamp.","data":""}"#;
    let timer = VirtualTimer::new();
    let playback = Playback::new([Answer::Status(400, stale), Answer::Status(200, POLYV_OK)]);
    let send = |r| playback.send(r);
    let engine = engine(&timer)
        .retry_policy(RetryPolicy::default().with_max_attempts(10))
        .build();
    run(engine.execute(&send, &GetDonate::new(Scope::Account), &polyv())).unwrap();
    assert_eq!(playback.sent().len(), 2);

    // Twice is this machine's clock: one retry, not ten.
    let playback = Playback::new([Answer::Status(400, stale), Answer::Status(400, stale)]);
    let send = |r| playback.send(r);
    let err = run(engine.execute(&send, &GetDonate::new(Scope::Account), &polyv())).unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.meaning().class(), Class::Clock);
    assert!(!err.meaning().is_retryable());
    assert_eq!(err.clock_offset(), None, "no Date header");
}

#[test]
fn polyv_invalid_timestamps_are_clock_refusals_too() {
    let stale = r#"{"code":400,"status":"error","message":"invalid timestamp.","data":""}"#;
    let timer = VirtualTimer::new();
    let playback = Playback::new([
        Answer::Status(400, stale),
        Answer::WithHeader(400, stale, "date", "Tue, 14 Nov 2023 22:20:00 GMT"),
    ]);
    let send = |r| playback.send(r);
    let err = run(engine(&timer)
        .build()
        .execute(&send, &GetDonate::new(Scope::Account), &polyv()))
    .unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert_eq!(
        err.clock_offset().unwrap().to_string(),
        "6 min 40 s behind the server's"
    );
}

#[test]
fn a_clock_refusal_after_a_timeout_leaves_the_outcome_unknown() {
    let stale = r#"{"status":"400","msg":"nonce_str expired","data":[]}"#;
    let date = "Tue, 14 Nov 2023 21:00:00 GMT";
    let timer = VirtualTimer::new();
    let playback = Playback::new([Answer::Hang, Answer::WithHeader(200, stale, "date", date)]);
    let send = |r| playback.send(r);
    let engine = engine(&timer)
        .attempt_timeout(Duration::from_secs(1))
        .build();
    let err = run(engine.execute(&send, &change(), &linkv())).unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.meaning().class(), Class::Clock);
    assert_eq!(
        err.meaning().outcome(),
        Outcome::Unknown,
        "the first attempt may have been applied"
    );
    assert!(err.clock_offset().is_some());
}

/// A recorder that keeps every counter and histogram by name and labels, for one thread.
#[derive(Default)]
struct Recording {
    counters: Mutex<std::collections::BTreeMap<String, Arc<AtomicU64>>>,
    histograms: Mutex<std::collections::BTreeMap<String, Arc<Observed>>>,
    described: Mutex<Vec<(String, Option<metrics::Unit>)>>,
}

#[derive(Default)]
struct Observed(Mutex<Vec<f64>>);

impl metrics::HistogramFn for Observed {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
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
        unit: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
        self.described
            .lock()
            .unwrap()
            .push((key.as_str().to_owned(), unit));
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        key: metrics::KeyName,
        unit: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
        self.described
            .lock()
            .unwrap()
            .push((key.as_str().to_owned(), unit));
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
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        let histogram = self
            .histograms
            .lock()
            .unwrap()
            .entry(series(key))
            .or_default()
            .clone();
        metrics::Histogram::from_arc(histogram)
    }
}

impl Recording {
    fn counter(&self, series: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(series)
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }

    fn observed(&self, series: &str) -> Vec<f64> {
        self.histograms
            .lock()
            .unwrap()
            .get(series)
            .map(|h| h.0.lock().unwrap().clone())
            .unwrap_or_default()
    }
}

#[test]
fn every_call_attempt_and_retry_is_counted_and_timed() {
    let recording = Recording::default();
    metrics::with_local_recorder(&recording, || {
        let timer = VirtualTimer::new();
        let engine = engine(&timer).build();
        // One success after two dropped attempts, then a refusal.
        let playback = Playback::new([
            Answer::Drop,
            Answer::Drop,
            Answer::Status(200, OK),
            Answer::Status(200, r#"{"status":"400","msg":"param err"}"#),
        ]);
        let send = |r| playback.send(r);
        run(engine.execute(&send, &change(), &linkv())).unwrap();
        run(engine.execute(&send, &change(), &linkv())).unwrap_err();
        // Polyv: one call through the limiter.
        let playback = Playback::new([Answer::Status(200, POLYV_OK)]);
        let send = |r| playback.send(r);
        run(engine.execute(&send, &GetDonate::new(Scope::Account), &polyv())).unwrap();
    });
    let linkv = "vendor=linkv,operation=changeGold";
    assert_eq!(
        recording.counter(&format!("liveapi_calls_total{{{linkv},outcome=ok}}")),
        1
    );
    assert_eq!(
        recording.counter(&format!("liveapi_calls_total{{{linkv},outcome=refused}}")),
        1
    );
    assert_eq!(
        recording.counter(&format!("liveapi_attempts_total{{{linkv}}}")),
        4
    );
    assert_eq!(
        recording.counter(&format!(
            "liveapi_retries_total{{{linkv},class=unavailable}}"
        )),
        2
    );
    // The successful call waited two backoffs on the virtual clock: its duration says so.
    let durations = recording.observed(&format!("liveapi_call_duration_seconds{{{linkv}}}"));
    assert_eq!(durations.len(), 2);
    assert!(
        durations[0] >= 0.150 && durations[0] <= 0.300,
        "{durations:?}"
    );
    assert_eq!(
        recording.counter("liveapi_calls_total{vendor=polyv,operation=donate/get,outcome=ok}"),
        1
    );
    assert_eq!(
        recording
            .observed("liveapi_rate_limit_wait_seconds{vendor=polyv}")
            .len(),
        1,
        "a Polyv attempt takes a permit; a LinkV one does not"
    );
    assert!(
        recording
            .observed("liveapi_rate_limit_wait_seconds{vendor=linkv}")
            .is_empty()
    );
}

#[test]
fn a_throttled_call_records_how_long_it_waited_for_its_permit() {
    let recording = Recording::default();
    metrics::with_local_recorder(&recording, || {
        let timer = VirtualTimer::new();
        let engine = engine(&timer)
            .polyv_rate_limit(RateLimit::new(1, Duration::from_secs(60)))
            .deadline(Duration::from_secs(5))
            .build();
        let playback = Playback::new(vec![Answer::Status(200, POLYV_OK); 2]);
        let send = |r| playback.send(r);
        let get = GetDonate::new(Scope::Account);
        run(engine.execute(&send, &get, &polyv())).unwrap();
        run(engine.execute(&send, &get, &polyv())).unwrap_err();
    });
    assert_eq!(
        recording
            .counter("liveapi_calls_total{vendor=polyv,operation=donate/get,outcome=throttled}"),
        1
    );
    let waits = recording.observed("liveapi_rate_limit_wait_seconds{vendor=polyv}");
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits[0] < 0.001, "the first permit is free: {waits:?}");
}

#[test]
fn describe_names_every_metric_with_its_unit() {
    let recording = Recording::default();
    metrics::with_local_recorder(&recording, liveapi_request::metrics::describe);
    let described = recording.described.lock().unwrap().clone();
    let names: Vec<&str> = described.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "liveapi_calls_total",
            "liveapi_attempts_total",
            "liveapi_retries_total",
            "liveapi_call_duration_seconds",
            "liveapi_rate_limit_wait_seconds"
        ]
    );
    for (name, unit) in described {
        let seconds = name.ends_with("_seconds");
        assert_eq!(unit == Some(metrics::Unit::Seconds), seconds, "{name}");
    }
}

#[test]
fn the_retry_policy_says_its_settings() {
    assert_eq!(RetryPolicy::default().max_attempts(), 4);
    assert_eq!(
        RetryPolicy::default().with_max_attempts(7).max_attempts(),
        7
    );
    // A longer pause after rate limiting: at least half of it, with jitter 0.
    use liveapi_request::retry::{Attempt, Decision, Failure};
    let policy = RetryPolicy::default().with_rate_limited_backoff(Duration::from_secs(4));
    assert_eq!(
        policy.decide(Attempt::new(1, Failure::RateLimited), 0),
        Decision::RetryAfter(Duration::from_secs(2))
    );
}
