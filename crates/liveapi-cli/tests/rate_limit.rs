//! `liveapi polyv` and Polyv's rate limit: the `--rate-limit*` flags, and one budget shared
//! through a real Redis (`LIVEAPI_TEST_REDIS_URL`; in CI, `LIVEAPI_CI` set, it must be there).

mod common;

use common::Server;
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

#[test]
fn bad_rate_limit_settings_are_refused_before_sending() {
    let server = Server::start();
    let cases: [(&[&str], &str); 5] = [
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
    let run = server.polyv_run(
        &[
            "donate",
            "get",
            "--rate-limit-redis-url",
            "rediss://:hunter2@redis.example.com/0",
            "--rate-limit-processes",
            "2",
        ],
        None,
    );
    assert!(run.one_line_error(2).contains("TLS"), "{run:#?}");
    run.assert_hides("hunter2");
    assert!(server.emulator.requests().is_empty(), "nothing was sent");
}
