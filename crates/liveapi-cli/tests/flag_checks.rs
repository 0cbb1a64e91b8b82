//! What each flag accepts is what its help says, and a value or setting that cannot be used
//! exits 2 with a sentence naming it, before anything is sent.

mod common;

use common::{Server, liveapi, run, run_command};

#[test]
fn a_reason_takes_the_1024_bytes_its_help_promises() {
    let help = run(&["linkv", "change-gold", "--help"]);
    assert!(help.ok().contains("1 to 1024 bytes"), "{help:#?}");
    let server = Server::start();
    let open_id = server.user("rhea");
    let longest = "r".repeat(1024);
    let added = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "1",
        "--reason",
        &longest,
    ]);
    added.ok();
    let before = server.emulator.requests().len();
    let longer = "r".repeat(1025);
    let refused = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "1",
        "--reason",
        &longer,
    ]);
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(refused.stderr.contains("reason"), "{refused:#?}");
    assert_eq!(server.emulator.requests().len(), before, "nothing was sent");
}

#[test]
fn amounts_of_yuan_are_plain_decimals() {
    let server = Server::start();
    let before = server.emulator.requests().len();
    for args in [
        &["donate", "update-cash", "--min", "1e2"][..],
        &["donate", "update-cash", "--min", "0.885"],
        &["donate", "update-cash", "--cashes", "1,2,3,4,5,6e0"],
        &["donate", "update-good", "--good", "a,//x/a.png,1E1"],
    ] {
        let run = server.polyv_run(args, None);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(
            run.stderr.contains("at most 2 decimals"),
            "{args:?}: {run:#?}"
        );
    }
    assert_eq!(server.emulator.requests().len(), before, "nothing was sent");
    server
        .polyv_run(&["donate", "update-cash", "--min", "100"], None)
        .ok();
    let polyv = server.emulator.polyv_app().app_id.clone();
    let account = server.emulator.donate_settings(&polyv, None).unwrap();
    assert_eq!(account.cash_min.map(|c| c.get()), Some(10_000));
}

#[test]
fn a_negative_number_of_coins_gets_a_sentence_not_an_unknown_flag() {
    let server = Server::start();
    let cases: [(&[&str], &str); 4] = [
        (
            &["change-gold", "--uid", "1", "--add", "-1"],
            "to take coins away use --remove N",
        ),
        (
            &["change-gold", "--uid", "1", "--remove", "-5"],
            "to add coins use --add N",
        ),
        (
            &[
                "order",
                "--uid",
                "1",
                "--order-id",
                "o",
                "--coins",
                "-5",
                "--money",
                "1",
                "--platform",
                "ios",
            ],
            "to take an order's coins back use --refund",
        ),
        (
            &[
                "order",
                "--uid",
                "1",
                "--order-id",
                "o",
                "--coins",
                "5",
                "--money",
                "-1",
                "--platform",
                "ios",
            ],
            "whole US cents",
        ),
    ];
    for (args, expected) in cases {
        let run = server.linkv_run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.stderr.contains(expected), "{args:?}: {run:#?}");
        assert!(
            !run.stderr.contains("unexpected argument"),
            "{args:?}: {run:#?}"
        );
        if args.contains(&"-1") && args.contains(&"--add") {
            assert!(
                run.stderr.contains("coins are a positive whole number"),
                "{run:#?}"
            );
        }
    }
    assert!(server.emulator.requests().is_empty(), "nothing was sent");
}

#[test]
fn client_settings_and_expiries_are_checked_with_the_flag_named() {
    let server = Server::start();
    let cases: [(&[&str], &str); 6] = [
        (
            &["balance", "--uid", "1", "--attempt-timeout-ms", "0"],
            "--attempt-timeout-ms",
        ),
        (
            &["balance", "--uid", "1", "--deadline-ms", "0"],
            "--deadline-ms",
        ),
        (
            &["balance", "--uid", "1", "--max-attempts", "0"],
            "--max-attempts",
        ),
        (
            &[
                "change-gold",
                "--uid",
                "1",
                "--add",
                "1",
                "--resend-window",
                "0",
            ],
            "--resend-window",
        ),
        (
            &[
                "change-gold",
                "--uid",
                "1",
                "--add",
                "1",
                "--expires-at",
                "9223372036854775808",
            ],
            "--expires-at",
        ),
        (
            &[
                "change-gold",
                "--uid",
                "1",
                "--add",
                "1",
                "--expires-in-days",
                "0",
            ],
            "--expires-in-days",
        ),
    ];
    for (args, flag) in cases {
        let run = server.linkv_run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.stderr.contains(flag), "{args:?}: {run:#?}");
    }
    assert!(server.emulator.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_setting_the_sdk_refuses_is_named_by_its_flag_too() {
    let server = Server::start();
    let run = server.polyv_run(&["donate", "get", "--signature-method", "SHA1"], None);
    let error = run.one_line_error(2);
    assert!(error.contains("LIVEAPI_POLYV_SIGNATURE_METHOD"), "{run:#?}");
    assert!(error.contains("--signature-method"), "{run:#?}");
    let partial = run_command(
        liveapi().args(["linkv", "balance", "--uid", "1", "--app-id", "a"]),
        None,
    );
    let error = partial.one_line_error(2);
    assert!(
        error.contains("--base-url for LIVEAPI_LINKV_BASE_URL"),
        "{partial:#?}"
    );
}
