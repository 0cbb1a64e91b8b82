//! The Redis limiter's connection, against `redis-server`s of the tests' own: TLS with the
//! certificate and host name verified (a CA made in the test), and a Redis it cannot use as
//! configured. Needs `redis-server` on the PATH, built with TLS (Debian's is); without it the
//! tests are skipped with a notice, and in CI (`LIVEAPI_CI`) they fail.
#![cfg(feature = "redis")]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveapi::request::Timer;
use liveapi::transport::TokioTimer;
use liveapi::{RateLimit, RateLimiter, RedisLink, RedisRateLimiter, RedisRateLimiterBuilder};
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

/// A limiter that never got a permit from Redis: refused, and nothing recorded there.
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
    assert_refused(&limiter, &logs).await;
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
    assert_refused(&limiter, &logs).await;
    // Nor do the Mozilla roots, the default, know the test's CA.
    let limiter = builder(&redis.url()).build().unwrap();
    assert_refused(&limiter, &logs).await;
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
    assert_refused(&limiter, &logs).await;
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
