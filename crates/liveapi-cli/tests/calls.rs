//! `liveapi linkv …` and `liveapi polyv donate …` against an emulator in the test process.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::{Server, liveapi, run, run_command};
use liveapi_emulator::{FaultKind, Faults};

/// `flags` with the value of `name` replaced.
fn with_flag(mut flags: Vec<String>, name: &str, value: &str) -> Vec<String> {
    let at = flags
        .iter()
        .position(|f| f == name)
        .expect("the flag is there");
    flags[at + 1] = value.to_owned();
    flags
}

/// The request id a coin change announced on standard error before sending, and the resend
/// flags it gave.
fn announced(stderr: &str) -> (String, String) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("sending "))
        .unwrap_or_else(|| panic!("no announcement in {stderr}"));
    let flags = line
        .split("resend with ")
        .nth(1)
        .unwrap_or_else(|| panic!("no resend flags in {line}"))
        .to_owned();
    let id = flags
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no request id in {line}"))
        .to_owned();
    (id, flags)
}

#[test]
fn token_order_change_gold_and_balance_in_text_and_json() {
    let server = Server::start();
    let app = server.emulator.linkv_app().app_key.clone();

    let registered = server.linkv_run(&[
        "token",
        "--user-id",
        "alice",
        "--name",
        "Alice",
        "--portrait-uri",
        "https://cdn.example.com/alice.png",
        "--sex",
        "female",
    ]);
    let open_id = server.emulator.open_id(&app, "alice").expect("registered");
    let text = registered.ok();
    assert!(text.starts_with("token: "), "{text}");
    assert!(text.contains(&format!("\nopen_id: {open_id}")), "{text}");

    let login = server
        .linkv_run(&["token", "--user-id", "alice", "--json"])
        .json();
    assert_eq!(login["open_id"], open_id.as_str());
    assert!(login["token"].as_str().is_some_and(|t| !t.is_empty()));

    let order = server.linkv_run(&[
        "order",
        "--uid",
        &open_id,
        "--order-id",
        "ORD-1",
        "--coins",
        "100",
        "--money",
        "199",
        "--platform",
        "ios",
    ]);
    assert!(order.ok().starts_with("balance: 100\n"), "{order:#?}");
    let (order_request, _) = announced(&order.stderr);

    let order = server.linkv_run(&[
        "order",
        "--uid",
        &open_id,
        "--order-id",
        "ORD-2",
        "--coins",
        "50",
        "--money",
        "99",
        "--platform",
        "h5",
        "--json",
    ]);
    let order = order.json();
    assert_eq!(order["balance"], 150);
    assert_eq!(order["platform"], "h5");

    let added = server.linkv_run(&["change-gold", "--uid", &open_id, "--add", "5"]);
    assert!(added.ok().starts_with("added: 5\n"), "{added:#?}");
    let removed = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--remove",
        "15",
        "--reason",
        "gift to a streamer",
        "--json",
    ]);
    let removed = removed.json();
    assert_eq!(removed["change"], "remove");
    assert_eq!(removed["coins"], 15);

    assert_eq!(
        server.linkv_run(&["balance", "--uid", &open_id]).ok(),
        "140\n"
    );
    let balance = server
        .linkv_run(&["balance", "--uid", &open_id, "--json"])
        .json();
    assert_eq!(balance["balance"], 140);
    assert_eq!(balance["uid"], open_id.as_str());

    // A refund takes an order's coins back.
    let refund = server.linkv_run(&[
        "order",
        "--refund",
        "--uid",
        &open_id,
        "--order-id",
        "ORD-1-R",
        "--coins",
        "40",
        "--money",
        "199",
        "--platform",
        "ios",
    ]);
    let text = refund.ok();
    assert!(text.starts_with("balance: 100\nrefunded: 40\n"), "{text}");

    let journal = server.emulator.journal();
    assert_eq!(journal.len(), 5);
    assert_eq!(journal[0].request_id, order_request);
    assert_eq!(
        journal[3].request_id,
        removed["request_id"].as_str().unwrap()
    );
    assert_eq!(journal[4].change, liveapi_emulator::ChangeKind::Remove);
    assert_eq!(journal[4].order_id.as_deref(), Some("ORD-1-R"));
}

#[test]
fn change_gold_prints_its_request_id_and_a_resend_applies_once() {
    let server = Server::start();
    let open_id = server.user("bob");

    // The change is applied, then the connection is reset: the CLI cannot know.
    server
        .emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();
    let lost = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "7",
        "--max-attempts",
        "1",
    ]);
    assert_eq!(lost.code, 4, "{lost:#?}");
    assert_eq!(lost.stdout, "");
    let (request_id, flags) = announced(&lost.stderr);
    assert_eq!(request_id.len(), 32, "{lost:#?}");
    // A generated id carries its time, so it alone repeats the change.
    assert_eq!(flags, format!("--request-id {request_id}"), "{lost:#?}");
    assert!(lost.stderr.contains("outcome is unknown"), "{lost:#?}");
    // Unknown: the change is given whole, to resend or reconcile.
    assert!(lost.stderr.contains("pending change {"), "{lost:#?}");
    let applied = server.emulator.journal();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].request_id, request_id);

    // The resend, as the message says, finishes it without applying it again.
    server.emulator.set_faults(Faults::none()).unwrap();
    let resent = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "7",
        "--request-id",
        &request_id,
    ]);
    assert!(resent.ok().contains(&request_id), "{resent:#?}");
    assert_eq!(server.emulator.journal().len(), 1, "applied twice");
    assert_eq!(
        server.linkv_run(&["balance", "--uid", &open_id]).ok(),
        "7\n"
    );

    // Another expiry is another change under the same id: the server refuses it (its 400,
    // exit 1), and nothing more is applied. Its words say why; they decide nothing.
    let changed = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "7",
        "--request-id",
        &request_id,
        "--expires-in-days",
        "1",
    ]);
    assert_eq!(changed.code, 1, "{changed:#?}");
    let error = changed.stderr.lines().last().unwrap_or_default();
    assert!(error.contains("request_id already used"), "{changed:#?}");
    assert!(error.contains(&request_id), "{changed:#?}");
    // A definite refusal: one short line, without the change or how to resend it.
    assert!(!error.contains("pending change"), "{changed:#?}");
    assert!(!error.contains("resend"), "{changed:#?}");
    assert_eq!(server.emulator.journal().len(), 1);
}

#[test]
fn refusals_and_bad_input_have_their_exit_codes() {
    let server = Server::start();
    let open_id = server.user("carol");

    let insufficient = server.linkv_run(&["change-gold", "--uid", &open_id, "--remove", "1"]);
    assert_eq!(insufficient.code, 1, "{insufficient:#?}");
    assert!(insufficient.stderr.contains("insufficient balance"));

    let unknown = server.linkv_run(&["balance", "--uid", "4242"]);
    let error = unknown.one_line_error(1);
    assert!(error.contains("uid not found"), "{unknown:#?}");
    // A number is the shape of an open id: no hint.
    assert!(!error.contains("open id"), "{unknown:#?}");
    // An app's user id where an open id belongs: the hint says what to pass instead.
    for args in [
        &["balance", "--uid", "carol"][..],
        &["change-gold", "--uid", "carol", "--add", "1"],
    ] {
        let by_user_id = server.linkv_run(args);
        assert_eq!(by_user_id.code, 1, "{by_user_id:#?}");
        let error = by_user_id.stderr.lines().last().unwrap_or_default();
        assert!(error.contains("uid not found"), "{by_user_id:#?}");
        assert!(error.contains("open id"), "{by_user_id:#?}");
        assert!(error.contains("liveapi linkv token"), "{by_user_id:#?}");
    }

    // Refused before sending: nothing reaches the server.
    let sent = server.emulator.requests().len();
    let zero = server.linkv_run(&["change-gold", "--uid", &open_id, "--add", "0"]);
    assert!(zero.one_line_error(2).contains("at least 1"), "{zero:#?}");
    let bad_user = server.linkv_run(&["token", "--user-id", "has space"]);
    assert_eq!(bad_user.code, 2, "{bad_user:#?}");
    let both = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "1",
        "--remove",
        "1",
    ]);
    assert_eq!(both.code, 2, "{both:#?}");
    let half = server.linkv_run(&["token", "--user-id", "dave", "--name", "Dave"]);
    assert_eq!(half.code, 2, "{half:#?}");
    assert_eq!(server.emulator.requests().len(), sent);
}

#[test]
fn a_wrong_secret_exits_3_without_printing_it() {
    let server = Server::start();
    let secret = "wrong-secret-4c9f1d";

    let linkv = run_command(
        liveapi()
            .args(["linkv", "balance", "--uid", "1"])
            .args(with_flag(server.linkv(), "--secret", secret)),
        None,
    );
    assert!(linkv.one_line_error(3).contains("sign err"), "{linkv:#?}");
    linkv.assert_hides(secret);

    let polyv = run_command(
        liveapi().args(["polyv", "donate", "get"]).args(with_flag(
            server.polyv(),
            "--secret",
            secret,
        )),
        None,
    );
    assert!(
        polyv.one_line_error(3).contains("invalid signature"),
        "{polyv:#?}"
    );
    polyv.assert_hides(secret);

    let unknown_app = run_command(
        liveapi().args(["polyv", "donate", "get"]).args(with_flag(
            server.polyv(),
            "--app-id",
            "nobody",
        )),
        None,
    );
    assert!(
        unknown_app
            .one_line_error(3)
            .contains("application not found")
    );
}

#[test]
fn credentials_come_from_the_environment_and_flags_win() {
    let server = Server::start();
    let open_id = server.user("erin");
    let app = server.emulator.linkv_app();
    let with_env = |command: &mut std::process::Command| {
        command
            .env("LIVEAPI_LINKV_APP_ID", &app.app_key)
            .env("LIVEAPI_LINKV_SECRET", &app.app_secret)
            .env("LIVEAPI_LINKV_ALIAS", &app.alias)
            .env("LIVEAPI_LINKV_BASE_URL", server.emulator.base_url())
            // Half a Polyv configuration does not concern LinkV commands.
            .env("LIVEAPI_POLYV_APP_ID", "half");
    };

    let mut command = liveapi();
    command.args(["linkv", "balance", "--uid", &open_id]);
    with_env(&mut command);
    assert_eq!(run_command(&mut command, None).ok(), "0\n");

    let mut command = liveapi();
    command.args(["linkv", "balance", "--uid", &open_id, "--secret", "wrong"]);
    with_env(&mut command);
    assert_eq!(run_command(&mut command, None).code, 3);

    let mut command = liveapi();
    command
        .args(["linkv", "balance", "--uid", &open_id, "--secret"])
        .arg(&app.app_secret);
    with_env(&mut command);
    command.env("LIVEAPI_LINKV_SECRET", "wrong");
    assert_eq!(run_command(&mut command, None).ok(), "0\n");

    let none = run(&["linkv", "balance", "--uid", "1"]);
    assert!(
        none.one_line_error(2).contains("LIVEAPI_LINKV_SECRET"),
        "{none:#?}"
    );
    let partial = run(&[
        "linkv",
        "balance",
        "--uid",
        "1",
        "--app-id",
        "a",
        "--secret",
        "partial-secret-91",
    ]);
    // The alias is optional (only orders send it): the base URL is what is missing.
    let message = partial.one_line_error(2);
    assert!(message.contains("LIVEAPI_LINKV_BASE_URL"), "{partial:#?}");
    assert!(!message.contains("LIVEAPI_LINKV_ALIAS"), "{partial:#?}");
    partial.assert_hides("partial-secret-91");
}

#[test]
fn a_server_that_cannot_be_reached_exits_4() {
    // A port that was free a moment ago: connections are refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let base_url = format!("http://127.0.0.1:{port}");
    let run = run(&[
        "linkv",
        "change-gold",
        "--uid",
        "1",
        "--add",
        "3",
        "--app-id",
        "a",
        "--secret",
        "s3cr3t-value",
        "--alias",
        "x",
        "--base-url",
        &base_url,
        "--max-attempts",
        "1",
    ]);
    assert_eq!(run.code, 4, "{run:#?}");
    let (request_id, _) = announced(&run.stderr);
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(error.contains("could not connect"), "{run:#?}");
    assert!(
        error.contains(&request_id),
        "the error repeats how to resend: {run:#?}"
    );
    run.assert_hides("s3cr3t-value");
}

#[test]
fn donate_get_update_cash_and_update_good() {
    let server = Server::start();
    let polyv = server.emulator.polyv_app().app_id.clone();

    let account = server.polyv_run(&["donate", "get"], None);
    let text = account.ok();
    assert!(text.starts_with("scope: account\n"), "{text}");
    assert!(
        text.contains("cashes: 0.88 6.66 8.88 18.88 66.66 88.88"),
        "{text}"
    );

    let cash = server.polyv_run(
        &[
            "donate",
            "update-cash",
            "--channel",
            "1000001",
            "--cashes",
            "1,2,3,4,5,6.5",
            "--min",
            "0.5",
            "--enabled",
            "Y",
        ],
        None,
    );
    assert_eq!(cash.ok(), "updated: cash tips of the channel 1000001\n");
    let settings = server
        .emulator
        .donate_settings(&polyv, Some(1_000_001))
        .unwrap();
    let cents: Vec<u32> = settings.cashes.iter().map(|c| c.get()).collect();
    assert_eq!(cents, [100, 200, 300, 400, 500, 650]);

    let goods = server.polyv_run(
        &[
            "donate",
            "update-good",
            "--channel",
            "1000001",
            "--good",
            "鲜花,//cdn.example.com/f.png,0",
            "--good",
            "掌声,//cdn.example.com/c.png,1.5,N",
            "--json",
        ],
        None,
    );
    assert_eq!(goods.json()["updated"], "gift");
    let got = server
        .polyv_run(&["donate", "get", "--channel", "1000001", "--json"], None)
        .json();
    assert_eq!(got["global_setting_enabled"], "N");
    assert_eq!(got["donate_cash_enabled"], "Y");
    assert_eq!(got["cashes"][5], 6.5);
    assert_eq!(got["goods"][1]["good_name"], "掌声");
    assert_eq!(got["goods"][1]["good_price"], 1.5);
    assert_eq!(got["goods"][1]["good_enabled"], "N");
    let text = server.polyv_run(&["donate", "get", "--channel", "1000001"], None);
    assert!(
        text.ok()
            .contains("gift: 掌声  1.50  off  //cdn.example.com/c.png"),
        "{text:#?}"
    );

    let json_flag = server.polyv_run(
        &[
            "donate",
            "update-good",
            "--goods-json",
            r#"[{"goodName":"a","goodImg":"//x/a.png","goodPrice":2}]"#,
        ],
        None,
    );
    assert_eq!(json_flag.ok(), "updated: gift tips of the account\n");
    let stdin = server.polyv_run(
        &["donate", "update-good", "--channel", "1000002"],
        Some(br#"{"goods":[{"goodName":"b","goodImg":"//x/b.png","goodPrice":0}],"enabled":"N"}"#),
    );
    stdin.ok();
    let settings = server
        .emulator
        .donate_settings(&polyv, Some(1_000_002))
        .unwrap();
    assert_eq!(settings.goods[0].name(), "b");
    assert_eq!(settings.good_enabled.map(|e| e.is_on()), Some(false));
    let account = server.emulator.donate_settings(&polyv, None).unwrap();
    assert_eq!(account.goods[0].name(), "a");

    let illegal = server.polyv_run(&["donate", "get", "--channel", "999"], None);
    assert!(illegal.one_line_error(1).contains("illegal channel id"));

    // Each part alone: the switch off, then only the minimum. The switch stays off.
    for args in [
        &[
            "donate",
            "update-cash",
            "--channel",
            "1000001",
            "--enabled",
            "N",
        ][..],
        &[
            "donate",
            "update-cash",
            "--channel",
            "1000001",
            "--min",
            "2.5",
        ],
    ] {
        server.polyv_run(args, None).ok();
    }
    let settings = server
        .emulator
        .donate_settings(&polyv, Some(1_000_001))
        .unwrap();
    assert_eq!(settings.cash_enabled.map(|e| e.is_on()), Some(false));
    assert_eq!(settings.cash_min.map(|c| c.get()), Some(250));
    assert_eq!(settings.cashes[5].get(), 650);

    // Refused before sending.
    let sent = server.emulator.requests().len();
    for args in [
        &["donate", "update-cash", "--cashes", "1,2", "--min", "1"][..],
        &["donate", "update-cash", "--channel", "1000001"],
        &[
            "donate",
            "update-cash",
            "--cashes",
            "1,2,3,4,5,0",
            "--min",
            "1",
        ],
        &["donate", "update-good", "--good", "一二三四五六,//x,1"],
        &["donate", "update-good", "--goods-json", "[]"],
        &["donate", "update-good", "--goods-json", "{"],
        &["donate", "get", "--channel", "0"],
    ] {
        let run = server.polyv_run(args, None);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
    }
    assert_eq!(server.emulator.requests().len(), sent);
}

#[test]
fn a_slow_server_times_out_with_exit_4() {
    let server = Server::start();
    server
        .emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_secs(5), Duration::from_secs(5)),
        )
        .unwrap();
    let run = server.polyv_run(
        &[
            "donate",
            "get",
            "--attempt-timeout-ms",
            "100",
            "--max-attempts",
            "1",
        ],
        None,
    );
    assert_eq!(run.code, 4, "{run:#?}");
    assert!(run.stderr.contains("no response within"), "{run:#?}");
}

#[test]
fn polyv_calls_can_be_signed_with_sha256() {
    let server = Server::start();
    let run = server.polyv_run(&["donate", "get", "--signature-method", "SHA256"], None);
    assert!(run.ok().starts_with("scope: account\n"), "{run:#?}");
    let bad = server.polyv_run(&["donate", "get", "--signature-method", "SHA1"], None);
    assert!(bad.one_line_error(2).contains("SHA1"), "{bad:#?}");
}

#[test]
fn a_change_past_the_resend_window_exits_6_with_nothing_sent() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use liveapi::model::linkv::RequestId;

    let server = Server::start();
    let open_id = server.user("carol");
    // A time-ordered id made two hours ago: the change it names is two hours old.
    let made = SystemTime::now() - Duration::from_secs(2 * 3_600);
    let millis = u64::try_from(made.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap();
    let old = RequestId::from_unix_millis(millis, [9; 10]).to_string();
    let before = server.emulator.requests().len();
    let refused = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "7",
        "--request-id",
        &old,
        "--resend-window",
        "3600",
    ]);
    let error = refused.one_line_error(6);
    assert!(error.contains("past the resend window"), "{refused:#?}");
    assert!(error.contains(&old), "{refused:#?}");
    assert_eq!(server.emulator.requests().len(), before, "nothing was sent");

    // Inside the window (or with the window off) it goes through.
    let sent = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "7",
        "--request-id",
        &old,
        "--resend-window",
        "off",
    ]);
    assert!(sent.ok().contains(&old), "{sent:#?}");
}

#[test]
fn an_own_request_id_gets_the_default_expiry_and_says_how_to_resend() {
    let server = Server::start();
    let open_id = server.user("dan");
    // No expiry given: the default, counted from today, printed to resend with.
    let sent = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "7",
        "--request-id",
        "order-42-credit",
    ]);
    assert!(sent.ok().contains("order-42-credit"), "{sent:#?}");
    let (_, flags) = announced(&sent.stderr);
    assert!(
        flags.starts_with("--request-id order-42-credit --expires-at "),
        "{flags}"
    );
    // --expires-in-days counts from today for an id of one's own.
    let sent = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--remove",
        "2",
        "--request-id",
        "gift-9",
        "--expires-in-days",
        "30",
    ]);
    assert!(sent.ok().contains("gift-9"), "{sent:#?}");
    let sent = server.linkv_run(&[
        "change-gold",
        "--uid",
        &open_id,
        "--add",
        "7",
        "--request-id",
        "order-43-credit",
        "--expires-at",
        "4102444800",
    ]);
    assert!(sent.ok().contains("order-43-credit"), "{sent:#?}");
    let (_, flags) = announced(&sent.stderr);
    assert_eq!(
        flags,
        "--request-id order-43-credit --expires-at 4102444800"
    );
    assert_eq!(
        server.linkv_run(&["balance", "--uid", &open_id]).ok(),
        "12\n"
    );
}

#[test]
fn an_order_without_an_alias_exits_2_before_it_is_announced() {
    let server = Server::start();
    let open_id = server.user("olga");
    let mut flags = server.linkv();
    let at = flags.iter().position(|f| f == "--alias").unwrap();
    flags.drain(at..at + 2);
    let before = server.emulator.requests().len();
    let order = run_command(
        liveapi()
            .args([
                "linkv",
                "order",
                "--uid",
                &open_id,
                "--order-id",
                "ORD-9",
                "--coins",
                "5",
                "--money",
                "99",
                "--platform",
                "ios",
            ])
            .args(&flags),
        None,
    );
    // One line, the fix in it, and no "sending …": nothing was announced or sent.
    let error = order.one_line_error(2);
    assert!(error.contains("--alias"), "{order:#?}");
    assert!(error.contains("LIVEAPI_LINKV_ALIAS"), "{order:#?}");
    assert_eq!(server.emulator.requests().len(), before, "nothing was sent");
    // The other calls do not need it.
    let balance = run_command(
        liveapi()
            .args(["linkv", "balance", "--uid", &open_id])
            .args(&flags),
        None,
    );
    assert_eq!(balance.ok(), "0\n");
}
