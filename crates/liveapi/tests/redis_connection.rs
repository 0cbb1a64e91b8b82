//! The Redis limiter's connection, against `redis-server`s of the tests' own: TLS with the
//! certificate and host name verified (a CA made in the test), and a Redis it cannot use as
//! configured. Needs `redis-server` on the PATH, built with TLS (Debian's is); without it the
//! tests are skipped with a notice, and in CI (`LIVEAPI_CI`) they fail.
#![cfg(feature = "redis")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveapi::model::polyv::Scope;
use liveapi::request::Timer;
use liveapi::transport::TokioTimer;
use liveapi::{
    AcquireError, PolyvCredentials, RateLimit, RateLimiter, RedisLimiterError, RedisLink,
    RedisRateLimiter, RedisRateLimiterBuilder,
};
use liveapi_test_support::redis::{PrivateRedis, RedisOptions, TestCa};

const PASSWORD: &str = "hunter2-c0rrect-h0rse";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Three sends per 10 s, one process: a fourth is refused at once when Redis counts them.
fn builder(url: &str) -> RedisRateLimiterBuilder {
    RedisRateLimiter::builder(url)
        .app_id("demo_polyv_app")
        .key_prefix("liveapi-test:tls")
        .limit(RateLimit::new(3, Duration::from_secs(10)).unwrap())
        .processes(1)
        .timeout(ms(500))
}

/// Collects what `tracing` prints, to look for the password in it.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
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
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

/// A TLS-only `redis-server` with a password, its certificate signed by `ca` for `names`.
fn tls_redis(ca: &TestCa, names: &[&str]) -> Option<PrivateRedis> {
    PrivateRedis::start_with(
        RedisOptions::default()
            .password(PASSWORD)
            .tls(ca.server(names)),
    )
}

/// A permit that gives up at once rather than wait for the fallback share.
async fn permit(limiter: &RedisRateLimiter) -> String {
    match limiter
        .acquire(Some(TokioTimer.now() + ms(10)), &TokioTimer)
        .await
    {
        Ok(()) => "admitted".to_owned(),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn works_over_verified_tls() {
    let ca = TestCa::new("liveapi test CA");
    let Some(redis) = tls_redis(&ca, &["127.0.0.1"]) else {
        return;
    };
    let (logs, _guard) = capture_logs();
    let url = redis.url();
    assert!(url.starts_with("rediss://"), "{url}");
    let limiter = builder(&url).ca_pem(ca.pem()).build().unwrap();
    for _ in 0..3 {
        assert_eq!(permit(&limiter).await, "admitted");
    }
    // Redis counted them: the fourth does not fit, and the limiter is not on its share.
    assert_ne!(permit(&limiter).await, "admitted");
    assert_eq!(limiter.link(), RedisLink::Shared);
    let mut connection = redis::Client::build_with_tls(
        url.as_str(),
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca.pem().as_bytes().to_vec()),
        },
    )
    .unwrap()
    .get_multiplexed_async_connection()
    .await
    .unwrap();
    let recorded: u64 = redis::cmd("ZCARD")
        .arg(limiter.key())
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(recorded, 3);
    // The CA can come from a file as well.
    let dir = std::env::temp_dir().join(format!("liveapi-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ca.pem");
    std::fs::write(&file, ca.pem()).unwrap();
    let from_file = builder(&url)
        .key_prefix("liveapi-test:tls-file")
        .ca_file(&file)
        .build()
        .unwrap();
    assert_eq!(permit(&from_file).await, "admitted");
    let _ = std::fs::remove_dir_all(&dir);
    let debug = format!("{limiter:?} {from_file:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    assert!(!logs.text().contains(PASSWORD), "{}", logs.text());
}

/// Asserts that the limiter cannot use its Redis as configured, saying `needle`: at once,
/// on every call, and without falling back to its share as it would for an outage; and that
/// neither the error, its `Debug`, the limiter's nor the logs show the password.
async fn assert_misconfigured(limiter: &RedisRateLimiter, logs: &Logs, needle: &str) {
    for _ in 0..2 {
        // A deadline far beyond the answer: a fallback would wait it out and throttle.
        let error = limiter
            .acquire(
                Some(TokioTimer.now() + Duration::from_secs(30)),
                &TokioTimer,
            )
            .await
            .unwrap_err();
        let AcquireError::Config(config) = &error else {
            panic!("not a configuration error: {error}");
        };
        let cause = config.cause().downcast_ref::<RedisLimiterError>();
        assert!(
            matches!(cause, Some(RedisLimiterError::Misconfigured { .. })),
            "{error:?}"
        );
        let text = format!("{error} {error:?} {limiter:?}");
        assert!(text.contains(needle), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
        assert_eq!(limiter.link(), RedisLink::Shared, "not an outage");
    }
    assert!(!logs.text().contains(PASSWORD), "{}", logs.text());
}

/// A limiter that never got a permit from Redis, for whatever reason: refused, and no
/// password shown.
async fn assert_refused(limiter: &RedisRateLimiter, logs: &Logs) {
    let answer = permit(limiter).await;
    assert_ne!(answer, "admitted");
    assert!(!answer.contains(PASSWORD), "{answer}");
    assert!(!logs.text().contains(PASSWORD), "{}", logs.text());
    assert!(!format!("{limiter:?}").contains(PASSWORD));
}

#[tokio::test]
async fn refuses_a_certificate_for_another_host() {
    let ca = TestCa::new("liveapi test CA");
    // Signed by the trusted CA, but for another name than the address connected to.
    let Some(redis) = tls_redis(&ca, &["redis.example.com"]) else {
        return;
    };
    let (logs, _guard) = capture_logs();
    let limiter = builder(&redis.url()).ca_pem(ca.pem()).build().unwrap();
    assert_misconfigured(&limiter, &logs, "certificate not valid for name").await;
}

#[tokio::test]
async fn refuses_a_certificate_of_an_unknown_ca() {
    let ca = TestCa::new("liveapi test CA");
    let Some(redis) = tls_redis(&ca, &["127.0.0.1"]) else {
        return;
    };
    let (logs, _guard) = capture_logs();
    let other = TestCa::new("another CA");
    let limiter = builder(&redis.url()).ca_pem(other.pem()).build().unwrap();
    assert_misconfigured(&limiter, &logs, "UnknownIssuer").await;
    // Nor do the Mozilla roots, the default, know the test's CA.
    let limiter = builder(&redis.url()).build().unwrap();
    assert_misconfigured(&limiter, &logs, "UnknownIssuer").await;
}

#[tokio::test]
async fn refuses_a_plain_server_where_tls_was_asked() {
    let Some(redis) = PrivateRedis::start_with(RedisOptions::default().password(PASSWORD)) else {
        return;
    };
    let (logs, _guard) = capture_logs();
    let url = redis.url().replacen("redis://", "rediss://", 1);
    let limiter = builder(&url)
        .ca_pem(TestCa::new("liveapi test CA").pem())
        .build()
        .unwrap();
    // Redis waits for the end of a line that the TLS greeting may not hold: either no
    // answer, or one that is not TLS. Never a permit.
    assert_refused(&limiter, &logs).await;
    // Something that answers at once, and not in TLS: refused as not TLS.
    let port = answering(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let limiter = builder(&format!("rediss://:{PASSWORD}@127.0.0.1:{port}/0"))
        .ca_pem(TestCa::new("liveapi test CA").pem())
        .build()
        .unwrap();
    assert_misconfigured(&limiter, &logs, "TLS handshake failed").await;
}

/// A loopback server that answers `reply` to whatever each connection sends, then holds the
/// connection a moment: a web server, or something that speaks nothing Redis knows.
fn answering(reply: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut request = [0; 1024];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(reply);
                std::thread::sleep(Duration::from_secs(1));
            });
        }
    });
    port
}

#[tokio::test]
async fn a_refused_password_is_a_configuration_error() {
    let Some(redis) = PrivateRedis::start_with(RedisOptions::default().password(PASSWORD)) else {
        return;
    };
    let (logs, _guard) = capture_logs();
    let port = redis.port();
    let wrong = builder(&format!("redis://:not-{PASSWORD}@127.0.0.1:{port}/0"))
        .build()
        .unwrap();
    assert_misconfigured(&wrong, &logs, "WRONGPASS").await;
    let unknown_user = builder(&format!("redis://bob:{PASSWORD}@127.0.0.1:{port}/0"))
        .build()
        .unwrap();
    assert_misconfigured(&unknown_user, &logs, "WRONGPASS").await;
    let none = builder(&format!("redis://127.0.0.1:{port}/0"))
        .build()
        .unwrap();
    assert_misconfigured(&none, &logs, "NOAUTH").await;
    // With the right one, the same server works.
    let right = builder(&redis.url()).build().unwrap();
    assert_eq!(permit(&right).await, "admitted");
}

#[tokio::test]
async fn a_database_redis_lacks_is_a_configuration_error() {
    let Some(redis) = PrivateRedis::start() else {
        return;
    };
    let (logs, _guard) = capture_logs();
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/99", redis.port());
    let limiter = builder(&url).build().unwrap();
    // The server has no password: it refuses the one given first.
    assert_misconfigured(&limiter, &logs, "WRONGPASS").await;
    let limiter = builder(&format!("redis://127.0.0.1:{}/99", redis.port()))
        .build()
        .unwrap();
    assert_misconfigured(&limiter, &logs, "no database 99").await;
}

#[tokio::test]
async fn something_that_is_not_redis_is_a_configuration_error() {
    let (logs, _guard) = capture_logs();
    for reply in [
        &b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"[..],
        b"\x00\x01\x02 garbage \xff\r\n",
    ] {
        let port = answering(reply);
        let limiter = builder(&format!("redis://:{PASSWORD}@127.0.0.1:{port}/0"))
            .build()
            .unwrap();
        assert_misconfigured(&limiter, &logs, "does not answer as Redis does").await;
    }
}

#[tokio::test]
async fn a_call_fails_as_configuration_and_nothing_is_sent() {
    let Some(redis) = PrivateRedis::start_with(RedisOptions::default().password(PASSWORD)) else {
        return;
    };
    let emulator = liveapi_emulator::Emulator::builder().start().await.unwrap();
    let app = emulator.polyv_app();
    let url = format!("redis://:wrong-{PASSWORD}@127.0.0.1:{}/0", redis.port());
    let client = liveapi::Client::builder()
        .polyv(
            PolyvCredentials::builder()
                .app_id(&app.app_id)
                .secret(app.secret.to_string())
                .base_url(emulator.base_url())
                .build()
                .unwrap(),
        )
        .polyv_rate_limit(RedisRateLimiter::builder(url).processes(2))
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = client.donate_settings(Scope::Account).await.unwrap_err();
    assert!(error.is_config() && !error.is_retryable(), "{error:?}");
    assert!(!error.is_rate_limited(), "{error:?}");
    let text = format!("{error} {error:?}");
    assert!(text.contains("WRONGPASS"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(emulator.requests().is_empty(), "nothing was sent");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_environment_gives_the_url_and_the_ca() {
    let ca = TestCa::new("liveapi test CA");
    let Some(redis) = tls_redis(&ca, &["127.0.0.1"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("liveapi-env-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ca.pem");
    std::fs::write(&file, ca.pem()).unwrap();
    let url = redis.url();
    let ca_path = file.to_str().unwrap().to_owned();
    let lookup = |name: &str| -> Option<String> {
        match name {
            "LIVEAPI_POLYV_APP_ID" => Some("demo_polyv_app".into()),
            "LIVEAPI_POLYV_SECRET" => Some("secret".into()),
            "LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL" => Some(url.clone()),
            "LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA" => Some(ca_path.clone()),
            "LIVEAPI_POLYV_RATE_LIMIT_PROCESSES" => Some("2".into()),
            "LIVEAPI_POLYV_RATE_LIMIT_EGRESS" => Some("env-ca".into()),
            _ => None,
        }
    };
    let client = liveapi::Client::builder()
        .from_env_with(lookup)
        .unwrap()
        .build()
        .unwrap();
    let limiter = client.engine().polyv_rate_limiter().unwrap();
    limiter
        .acquire(Some(TokioTimer.now() + ms(10)), &TokioTimer)
        .await
        .unwrap();
    let debug = format!("{:?}", client.engine());
    assert!(debug.contains("tls: true"), "{debug}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    let _ = std::fs::remove_dir_all(&dir);
}
