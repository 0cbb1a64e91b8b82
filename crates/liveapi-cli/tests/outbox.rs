//! `--outbox` on `liveapi linkv order|change-gold`, and `liveapi outbox list|show|counts|drain`,
//! against an emulator in the test process and a real SQLite file or PostgreSQL schema.

mod common;

use std::time::Duration;

use common::{Run, Server, liveapi, run, run_command};
use liveapi_emulator::{FaultKind, Faults};
use liveapi_test_support::postgres::TestSchema;

/// How many times the emulator applied `id`.
fn applied(server: &Server, id: &str) -> usize {
    server
        .emulator
        .journal()
        .iter()
        .filter(|c| c.request_id == id)
        .count()
}

/// `liveapi outbox ARGS --outbox LOCATION`; `drain` with the demo app's credentials.
fn outbox_run(server: &Server, outbox: &[&str], args: &[&str]) -> Run {
    let mut command = liveapi();
    command.arg("outbox").args(args).args(outbox);
    if args.first() == Some(&"drain") {
        command.args(server.linkv());
    }
    run_command(&mut command, None)
}

/// Asserts a failure with `code` and nothing on standard output, and answers the last line
/// of standard error (a coin change announces itself on the lines before).
#[track_caller]
fn last_error_line(run: &Run, code: i32) -> &str {
    assert_eq!(run.code, code, "{run:#?}");
    assert_eq!(run.stdout, "", "{run:#?}");
    run.stderr.lines().last().unwrap_or_default()
}

#[test]
fn a_change_through_the_outbox_is_settled_and_never_sent_twice() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");

    let change = [
        "change-gold",
        "--uid",
        &uid,
        "--add",
        "25",
        "--request-id",
        "cli-outbox-1",
        "--expires-at",
        "4000000000",
    ];
    let first = server.linkv_run(&[&change[..], &location[..]].concat());
    assert!(first.ok().starts_with("added: 25\n"), "{first:#?}");
    assert!(
        first.stderr.contains("enqueued cli-outbox-1 in "),
        "{first:#?}"
    );
    assert_eq!(applied(&server, "cli-outbox-1"), 1);

    // The same command again: the outbox settled it, nothing is sent.
    let again = server.linkv_run(&[&change[..], &location[..]].concat());
    again.ok();
    assert!(again.stderr.contains("already in"), "{again:#?}");
    assert!(again.stderr.contains("was applied before"), "{again:#?}");
    assert_eq!(applied(&server, "cli-outbox-1"), 1);

    // Another change under the same request id: refused before anything is sent.
    let mut other = change.to_vec();
    other[4] = "26";
    let conflict = server.linkv_run(&[&other[..], &location[..]].concat());
    let line = last_error_line(&conflict, 6);
    assert!(line.contains("other parameters"), "{line}");

    // An order keeps its balance in the outbox, and answers it again.
    let order = [
        "order",
        "--uid",
        &uid,
        "--order-id",
        "ORD-OUTBOX-1",
        "--coins",
        "100",
        "--money",
        "199",
        "--platform",
        "ios",
        "--request-id",
        "cli-outbox-2",
        "--expires-at",
        "4000000000",
        "--json",
    ];
    let placed = server
        .linkv_run(&[&order[..], &location[..]].concat())
        .json();
    assert_eq!(placed["balance"], 125);
    let replayed = server
        .linkv_run(&[&order[..], &location[..]].concat())
        .json();
    assert_eq!(replayed["balance"], 125);
    assert_eq!(applied(&server, "cli-outbox-2"), 1);

    let shown = outbox_run(&server, &location, &["show", "cli-outbox-2", "--json"]).json();
    assert_eq!(shown["state"], "applied");
    assert_eq!(shown["balance"], 125);
    assert_eq!(shown["attempts"], 1);
    assert_eq!(shown["endpoint"], "orderSuccess");
    assert_eq!(shown["pending_change"]["order_id"], "ORD-OUTBOX-1");
    let text = outbox_run(&server, &location, &["show", "cli-outbox-1"]);
    assert!(text.ok().contains("state: applied\n"), "{text:#?}");
    let missing = outbox_run(&server, &location, &["show", "absent"]);
    assert!(
        missing.one_line_error(1).contains("no entry"),
        "{missing:#?}"
    );

    let listed = outbox_run(&server, &location, &["list"]);
    let lines: Vec<&str> = listed.ok().lines().collect();
    assert_eq!(lines.len(), 2, "{listed:#?}");
    assert!(
        lines[0].contains(" cli-outbox-1 applied changeGold add 25 "),
        "{lines:?}"
    );
    let counts = outbox_run(&server, &location, &["counts", "--json"]).json();
    assert_eq!(counts["applied"], 2);
    assert_eq!(counts["pending"], 0);
    let none = outbox_run(
        &server,
        &location,
        &["list", "--state", "pending", "--json"],
    )
    .json();
    assert_eq!(none["entries"], serde_json::json!([]));
    let drained = outbox_run(&server, &location, &["drain", "--json"]).json();
    assert_eq!(drained["sent"], 0);
}

#[test]
fn an_unknown_outcome_stays_in_the_outbox_until_a_drain_settles_it() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");
    server
        .emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetAfterApply))
        .unwrap();
    let lost = server.linkv_run(&[
        "change-gold",
        "--uid",
        &uid,
        "--add",
        "5",
        "--request-id",
        "cli-unknown-1",
        "--expires-at",
        "4000000000",
        "--max-attempts",
        "1",
        location[0],
        location[1],
    ]);
    assert_eq!(lost.code, 4, "{lost:#?}");
    assert!(lost.stderr.contains("stays in the outbox"), "{lost:#?}");
    server.emulator.set_faults(Faults::none()).unwrap();

    let pending = outbox_run(&server, &location, &["list", "--state", "pending"]);
    assert!(
        pending.ok().contains("cli-unknown-1 pending"),
        "{pending:#?}"
    );
    assert!(
        pending.stdout.contains("last error: outcome_unknown: "),
        "{pending:#?}"
    );
    // The backoff of the first retry is at most 2 s.
    std::thread::sleep(Duration::from_millis(2_100));
    let drained = outbox_run(&server, &location, &["drain"]);
    assert!(
        drained.ok().starts_with("sent: 1\napplied: 1\n"),
        "{drained:#?}"
    );
    assert_eq!(
        applied(&server, "cli-unknown-1"),
        1,
        "applied once, resent once"
    );
}

#[test]
fn a_refusal_is_settled_and_reported_again_without_a_resend() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");
    let remove = [
        "change-gold",
        "--uid",
        &uid,
        "--remove",
        "500",
        "--request-id",
        "cli-refused-1",
        "--expires-at",
        "4000000000",
        location[0],
        location[1],
    ];
    let refused = server.linkv_run(&remove);
    let line = last_error_line(&refused, 1);
    assert!(line.contains("settled in the outbox"), "{line}");
    let again = server.linkv_run(&remove);
    let line = last_error_line(&again, 1);
    assert!(line.contains("was refused before"), "{line}");
    let shown = outbox_run(&server, &location, &["show", "cli-refused-1", "--json"]).json();
    assert_eq!(shown["state"], "refused");
    assert_eq!(shown["refusal"], "bad_parameter");
    assert_eq!(shown["attempts"], 1, "sent once");
}

#[test]
fn outboxes_that_cannot_be_used_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.outbox");
    std::fs::write(&garbage, vec![0x42u8; 4096]).unwrap();
    let damaged = run(&["outbox", "list", "--outbox", garbage.to_str().unwrap()]);
    let line = damaged.one_line_error(5);
    assert!(line.contains("damaged or not a database"), "{line}");
    assert_eq!(std::fs::read(&garbage).unwrap(), vec![0x42u8; 4096]);

    let missing = run(&["outbox", "counts"]);
    assert!(
        missing.one_line_error(2).contains("--outbox"),
        "{missing:#?}"
    );

    let schema_on_sqlite = run(&[
        "outbox",
        "counts",
        "--outbox",
        garbage.to_str().unwrap(),
        "--outbox-schema",
        "coins",
    ]);
    assert!(schema_on_sqlite.one_line_error(2).contains("PostgreSQL"));

    // The password of an unreachable server is never printed.
    let unreachable = run(&[
        "outbox",
        "counts",
        "--outbox",
        "postgres://payments:s3cr3t-pw@127.0.0.1:1/ledger?connect_timeout=2",
    ]);
    unreachable.assert_hides("s3cr3t-pw");
    let line = unreachable.one_line_error(5);
    assert!(line.contains("127.0.0.1:1/ledger"), "{line}");
}

#[test]
fn a_change_through_a_postgres_outbox() {
    let Some(schema) = TestSchema::new("cli") else {
        return;
    };
    let server = Server::start();
    let location = ["--outbox", schema.url(), "--outbox-schema", schema.name()];
    let uid = server.user("ada");
    let change = server.linkv_run(&[
        "change-gold",
        "--uid",
        &uid,
        "--add",
        "7",
        "--request-id",
        "cli-pg-1",
        "--expires-at",
        "4000000000",
        location[0],
        location[1],
        location[2],
        location[3],
    ]);
    assert!(change.ok().starts_with("added: 7\n"), "{change:#?}");
    let shown = outbox_run(&server, &location, &["show", "cli-pg-1", "--json"]).json();
    assert_eq!(shown["state"], "applied");
    assert_eq!(applied(&server, "cli-pg-1"), 1);
}
