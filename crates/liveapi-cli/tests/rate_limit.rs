//! `liveapi polyv` and Polyv's rate limit: the `--rate-limit*` flags, and one budget shared
//! through a real Redis (`LIVEAPI_TEST_REDIS_URL`), or a TLS `redis-server` of the test's own
//! (in CI, `LIVEAPI_CI` set, both must be there).

mod common;

use common::{Server, run};
use liveapi_test_support::redis::{PrivateRedis, RedisOptions, TestCa};
use liveapi_test_support::service::redis_url;

#[test]
fn polyv_calls_share_a_budget_through_redis() {
    let Some(url) = redis_url() else { return };
    let server = Server::start();
    let egress = format!("cli-test-{}", std::process::id());
    let flags = [
        "--rate-limit-redis-url",
        url.as_str(),
        "--rate-limit-processes",
        "4",
        "--rate-limit-egress",
        egress.as_str(),
        "--rate-limit",
        "600",
    ];
    for _ in 0..2 {
        let mut args = vec!["donate", "get"];
        args.extend(flags);
        server.polyv_run(&args, None).ok();
    }
    let app = &server.emulator.polyv_app().app_id;
    let key = format!("liveapi:rate-limit:polyv:{app}:{egress}");
    let mut redis = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let recorded: u64 = redis::cmd("ZCARD").arg(&key).query(&mut redis).unwrap();
    assert_eq!(recorded, 2, "each call took its permit from Redis");
    let _: () = redis::cmd("DEL").arg(&key).query(&mut redis).unwrap();
}

const PASSWORD: &str = "hunter2-c0rrect-h0rse";

/// How many sends the limiter recorded under `key` in the TLS Redis at `url`.
fn recorded_over_tls(url: &str, ca: &TestCa, key: &str) -> u64 {
    let mut redis = redis::Client::build_with_tls(
        url,
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca.pem().as_bytes().to_vec()),
        },
    )
    .unwrap()
    .get_connection()
    .unwrap();
    redis::cmd("ZCARD").arg(key).query(&mut redis).unwrap()
}

#[test]
fn polyv_calls_share_a_budget_through_redis_over_tls() {
    let ca = TestCa::new("liveapi test CA");
    let Some(redis) = PrivateRedis::start_with(
        RedisOptions::default()
            .password(PASSWORD)
            .tls(ca.server(&["127.0.0.1"])),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("redis-ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let server = Server::start();
    let url = redis.url();
    let ca_path = ca_file.to_str().unwrap();
    let flags = [
        "--rate-limit-redis-url",
        url.as_str(),
        "--rate-limit-redis-ca",
        ca_path,
        "--rate-limit-processes",
        "2",
    ];
    let mut args = vec!["donate", "get"];
    args.extend(flags);
    let run = server.polyv_run(&args, None);
    run.ok();
    run.assert_hides(PASSWORD);
    let app = &server.emulator.polyv_app().app_id;
    let key = format!("liveapi:rate-limit:polyv:{app}:default");
    assert_eq!(recorded_over_tls(&url, &ca, &key), 1);
    // The CA from the variable, as from the flag.
    let mut command = common::liveapi();
    command
        .env("LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA", ca_path)
        .args(["polyv", "donate", "get", "--rate-limit-redis-url", &url])
        .args(["--rate-limit-processes", "2"])
        .args(server.polyv());
    common::run_command(&mut command, None).ok();
    assert_eq!(recorded_over_tls(&url, &ca, &key), 2);
}

#[test]
fn a_redis_that_cannot_be_used_is_a_usage_error_not_a_wait() {
    let ca = TestCa::new("liveapi test CA");
    let Some(redis) = PrivateRedis::start_with(
        RedisOptions::default()
            .password(PASSWORD)
            .tls(ca.server(&["127.0.0.1"])),
    ) else {
        return;
    };
    let server = Server::start();
    let wrong_password = redis.url().replace(PASSWORD, "not-the-password");
    let right = redis.url();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("redis-ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let ca_path = ca_file.to_str().unwrap();
    let cases: [(&[&str], &str); 2] = [
        // The Mozilla roots do not know the test's CA.
        (&["--rate-limit-redis-url", &right], "UnknownIssuer"),
        (
            &[
                "--rate-limit-redis-url",
                &wrong_password,
                "--rate-limit-redis-ca",
                ca_path,
            ],
            "WRONGPASS",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["donate", "get", "--rate-limit-processes", "2"];
        args.extend(flags);
        let run = server.polyv_run(&args, None);
        let line = run.one_line_error(2);
        assert!(line.contains(message), "{run:#?}");
        assert!(
            line.contains("cannot use the Redis at 127.0.0.1"),
            "{run:#?}"
        );
        run.assert_hides(PASSWORD);
    }
    assert!(server.emulator.requests().is_empty(), "nothing was sent");
}

#[test]
fn the_help_tells_of_tls_and_the_ca() {
    let help = run(&["polyv", "donate", "get", "--help"]);
    let help = help.ok();
    assert!(help.contains("--rate-limit-redis-ca <PATH>"), "{help}");
    assert!(help.contains("LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA"), "{help}");
    assert!(help.contains("rediss://"), "{help}");
}

#[test]
fn bad_rate_limit_settings_are_refused_before_sending() {
    let server = Server::start();
    let cases: [(&[&str], &str); 7] = [
        (&["--rate-limit", "0"], "LIVEAPI_POLYV_RATE_LIMIT is `0`"),
        (&["--rate-limit", "2000"], "above Polyv's limit of 1500"),
        (
            &["--rate-limit-processes", "0"],
            "LIVEAPI_POLYV_RATE_LIMIT_PROCESSES is 0",
        ),
        (
            &["--rate-limit-redis-url", "redis://127.0.0.1:6379/0"],
            "LIVEAPI_POLYV_RATE_LIMIT_PROCESSES not set",
        ),
        (
            &["--rate-limit-egress", "nat-a"],
            "applies only together with LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL",
        ),
        (
            &["--rate-limit-redis-ca", "/etc/ca.pem"],
            "LIVEAPI_POLYV_RATE_LIMIT_REDIS_CA applies only together with LIVEAPI_POLYV_RATE_LIMIT_REDIS_URL",
        ),
        (
            &[
                "--rate-limit-redis-url",
                "rediss://127.0.0.1:6379/0",
                "--rate-limit-processes",
                "2",
                "--rate-limit-redis-ca",
                "/nonexistent/liveapi-redis-ca.pem",
            ],
            "cannot read /nonexistent/liveapi-redis-ca.pem",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["donate", "get"];
        args.extend(flags);
        let run = server.polyv_run(&args, None);
        assert!(
            run.one_line_error(2).contains(message),
            "{flags:?}: {run:#?}"
        );
    }
    // A URL that cannot be used is named by its problem, never shown: it may hold a password.
    // No setting turns certificate verification off.
    let run = server.polyv_run(
        &[
            "donate",
            "get",
            "--rate-limit-redis-url",
            "rediss://:hunter2@redis.example.com/0#insecure",
            "--rate-limit-processes",
            "2",
        ],
        None,
    );
    assert!(
        run.one_line_error(2)
            .contains("no certificate verification"),
        "{run:#?}"
    );
    run.assert_hides("hunter2");
    assert!(server.emulator.requests().is_empty(), "nothing was sent");
}
