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
    // The tests' server trusts its connections and ignores a password: one in the URL is
    // only there to be hidden from every output.
    let url = schema
        .url()
        .replacen("postgres://postgres@", "postgres://postgres:S3cretPw@", 1);
    assert!(url.contains("S3cretPw"), "{url}");
    let location = ["--outbox", url.as_str(), "--outbox-schema", schema.name()];
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
    change.assert_hides("S3cretPw");
    assert!(change.stderr.contains("postgres:***@"), "{change:#?}");
    let shown = outbox_run(&server, &location, &["show", "cli-pg-1", "--json"]);
    shown.assert_hides("S3cretPw");
    let shown = shown.json();
    assert_eq!(shown["state"], "applied");
    assert_eq!(applied(&server, "cli-pg-1"), 1);
    for args in [
        &["list"][..],
        &["show", "cli-pg-1"],
        &["counts", "--json"],
        &["drain"],
        &["show", "absent"],
        &["resolve", "cli-pg-1", "--applied", "--note", "x"],
        &["prune", "--settled-before", "1d"],
    ] {
        let run = outbox_run(&server, &location, args);
        run.assert_hides("S3cretPw");
    }
}

#[test]
fn a_location_that_could_be_mistaken_exits_2_creates_nothing_and_hides_the_password() {
    let dir = tempfile::tempdir().unwrap();
    for location in [
        // A PostgreSQL key=value string: PostgreSQL, never a file named after it.
        "host=127.0.0.1 port=1 user=postgres password=S3cretPw dbname=test connect_timeout=2",
        "postgres:/db?password=S3cretPw",
        "mysql://u:S3cretPw@db/x",
        " coins.outbox",
        "",
        "hots=127.0.0.1 password=S3cretPw",
    ] {
        let mut command = liveapi();
        command
            .current_dir(dir.path())
            .args(["outbox", "counts", "--outbox", location]);
        let run = run_command(&mut command, None);
        run.assert_hides("S3cretPw");
        if location.starts_with("host=") {
            // Read as PostgreSQL: nothing listens there.
            let line = run.one_line_error(5);
            assert!(line.contains("connection refused"), "{line}");
            assert!(line.contains("password=***"), "{line}");
        } else {
            let line = run.one_line_error(2);
            assert!(line.contains("cannot be used"), "{location:?}: {line}");
        }
        // The same through a coin change: refused before anything is sent.
        let mut command = liveapi();
        command.current_dir(dir.path()).args([
            "linkv",
            "change-gold",
            "--uid",
            "42",
            "--add",
            "1",
            "--app-id",
            "a",
            "--secret",
            "s",
            "--alias",
            "x",
            "--base-url",
            "http://127.0.0.1:1",
            "--outbox",
            location,
        ]);
        let run = run_command(&mut command, None);
        run.assert_hides("S3cretPw");
        assert_ne!(run.code, 0, "{run:#?}");
    }
    let created: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(created.is_empty(), "{created:?}");
    // A command that only reads creates no SQLite file either.
    let absent = dir.path().join("absent.outbox");
    let listed = run(&["outbox", "list", "--outbox", absent.to_str().unwrap()]);
    assert!(
        listed.one_line_error(2).contains("no outbox file"),
        "{listed:#?}"
    );
    assert!(!absent.exists());
    // --help says what a location is.
    let help = run(&["linkv", "change-gold", "--help"]);
    for word in ["sslmode", "sslrootcert", "verify-full", "key=value"] {
        assert!(help.ok().contains(word), "{word}: {help:#?}");
    }
}

#[test]
fn list_limit_is_checked_as_its_help_says_and_times_are_rfc3339() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");
    server
        .linkv_run(&[
            "change-gold",
            "--uid",
            &uid,
            "--add",
            "2",
            "--request-id",
            "cli-time-1",
            location[0],
            location[1],
        ])
        .ok();
    for bad in ["0", "10001", "-1"] {
        let run = outbox_run(&server, &location, &["list", "--limit", bad]);
        assert_eq!(run.code, 2, "{bad}: {run:#?}");
    }
    let listed = outbox_run(&server, &location, &["list", "--limit", "10000"]);
    let line = listed.ok().lines().next().unwrap().to_owned();
    assert!(line.contains(" enqueued=20"), "{line}");
    let shown = outbox_run(&server, &location, &["show", "cli-time-1", "--json"]).json();
    let at = shown["enqueued_at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == 24, "{at}");
    assert!(shown["enqueued_at_ms"].as_u64().unwrap() > 0);
    assert!(shown["settled_at"].as_str().unwrap().ends_with('Z'));
    // Every key of every outbox command's JSON is snake_case.
    let counts = outbox_run(&server, &location, &["counts", "--json"]).json();
    let drained = outbox_run(&server, &location, &["drain", "--json"]).json();
    for value in [&shown, &counts, &drained] {
        for key in value.as_object().unwrap().keys() {
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{key}"
            );
        }
    }
}

#[test]
fn drain_exits_4_while_entries_remain_pending_and_says_when_the_next_is_due() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");
    server
        .emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetBeforeApply))
        .unwrap();
    let lost = server.linkv_run(&[
        "change-gold",
        "--uid",
        &uid,
        "--add",
        "5",
        "--request-id",
        "cli-pending-1",
        "--expires-at",
        "4000000000",
        "--max-attempts",
        "1",
        location[0],
        location[1],
    ]);
    assert_eq!(lost.code, 4, "{lost:#?}");
    server.emulator.set_faults(Faults::none()).unwrap();
    // Not due yet: nothing sent, and still it exits 4, saying when.
    let drained = outbox_run(&server, &location, &["drain"]);
    let line = last_error_line_after_output(&drained, 4);
    assert!(line.contains("1 entries remain pending"), "{line}");
    assert!(line.contains("the next is due at 20"), "{line}");
    let json = outbox_run(&server, &location, &["drain", "--json"]);
    assert_eq!(json.code, 4, "{json:#?}");
    // One object on standard output: the report, with its failure inside.
    assert_eq!(json.stdout.lines().count(), 1, "{json:#?}");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["pending"], 1);
    assert_eq!(value["sent"], 0);
    assert_eq!(value["error"]["exit_code"], 4, "{value}");
    assert_eq!(value["error"]["kind"], "unavailable", "{value}");
    assert!(value["next_due_at"].as_str().unwrap().ends_with('Z'));
    // A monitoring check: pending for too long.
    let check = outbox_run(&server, &location, &["counts", "--max-pending-age", "0"]);
    assert_eq!(check.code, 4, "{check:#?}");
    let fine = outbox_run(
        &server,
        &location,
        &["counts", "--fail-if-reconcile", "--max-pending-age", "3600"],
    );
    fine.ok();
    // --wait drains until nothing is pending.
    let waited = outbox_run(&server, &location, &["drain", "--wait", "30"]);
    assert!(
        waited.ok().starts_with("sent: 1\napplied: 1\n"),
        "{waited:#?}"
    );
    assert!(
        waited.stderr.contains("drain: "),
        "plain progress lines: {waited:#?}"
    );
    assert_eq!(applied(&server, "cli-pending-1"), 1);
}

/// The status of a run that printed its report, and the last line of its standard error.
#[track_caller]
fn last_error_line_after_output(run: &Run, code: i32) -> &str {
    assert_eq!(run.code, code, "{run:#?}");
    run.stderr.lines().last().unwrap_or_default()
}

#[test]
fn an_entry_needing_reconciliation_is_resolved_and_reissued_once() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");
    // Never applied (the connection resets before the server handles it), and the resend
    // window is one second: the next drain finds it too old to resend.
    server
        .emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetBeforeApply))
        .unwrap();
    let mut command = liveapi();
    command
        .env("LIVEAPI_RESEND_WINDOW_SECS", "1")
        .args(["linkv", "change-gold", "--uid", &uid, "--add", "9"])
        .args(["--request-id", "cli-stale-1", "--expires-at", "4000000000"])
        .args(["--max-attempts", "1"])
        .args(server.linkv())
        .args(location);
    assert_eq!(run_command(&mut command, None).code, 4);
    server.emulator.set_faults(Faults::none()).unwrap();
    std::thread::sleep(Duration::from_millis(2_100));
    let mut drain = liveapi();
    drain
        .env("LIVEAPI_RESEND_WINDOW_SECS", "1")
        .args(["outbox", "drain"])
        .args(server.linkv())
        .args(location);
    let drained = run_command(&mut drain, None);
    assert_eq!(drained.code, 6, "{drained:#?}");
    let check = outbox_run(&server, &location, &["counts", "--fail-if-reconcile"]);
    assert_eq!(check.code, 6, "{check:#?}");

    // --reissue goes with --not-applied only; a note is required.
    let bad = outbox_run(
        &server,
        &location,
        &[
            "resolve",
            "cli-stale-1",
            "--applied",
            "--reissue",
            "--note",
            "x",
        ],
    );
    assert_eq!(bad.code, 2, "{bad:#?}");
    let resolved = outbox_run(
        &server,
        &location,
        &[
            "resolve",
            "cli-stale-1",
            "--not-applied",
            "--reissue",
            "--note",
            "not in the vendor's records",
            "--json",
        ],
    )
    .json();
    let new_id = resolved["reissued_as"].as_str().unwrap().to_owned();
    assert_eq!(resolved["resolution"], "not_applied");
    let again = outbox_run(
        &server,
        &location,
        &["resolve", "cli-stale-1", "--applied", "--note", "again"],
    );
    assert!(
        again.one_line_error(2).contains("resolved already"),
        "{again:#?}"
    );
    let old = outbox_run(&server, &location, &["show", "cli-stale-1", "--json"]).json();
    assert_eq!(old["state"], "resolved");
    assert_eq!(old["reissued_as"], new_id.as_str());
    assert_eq!(old["resolution_note"], "not in the vendor's records");
    assert!(old["resolved_at"].as_str().unwrap().ends_with('Z'));
    let new = outbox_run(&server, &location, &["show", &new_id, "--json"]).json();
    assert_eq!(new["reissue_of"], "cli-stale-1");
    assert_eq!(new["state"], "pending");
    outbox_run(&server, &location, &["counts", "--fail-if-reconcile"]).ok();

    let drained = outbox_run(&server, &location, &["drain"]);
    assert!(
        drained.ok().starts_with("sent: 1\napplied: 1\n"),
        "{drained:#?}"
    );
    assert_eq!(applied(&server, &new_id), 1);
    assert_eq!(applied(&server, "cli-stale-1"), 0);
    // Pruning keeps what is not settled long enough ago, and never needs a person's entry.
    let pruned = outbox_run(
        &server,
        &location,
        &["prune", "--settled-before", "1d", "--json"],
    )
    .json();
    assert_eq!(pruned["deleted"], 0);
    let pruned = outbox_run(
        &server,
        &location,
        &["prune", "--settled-before", "0s", "--json"],
    )
    .json();
    assert_eq!(pruned["deleted"], 2);
}

#[test]
fn a_killed_one_shot_senders_entry_is_drained_after_its_deadline_not_two_minutes() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");
    // Applied at once, answered after 20 s: the sender is killed before it hears back.
    server
        .emulator
        .set_faults(
            Faults::new(1.0)
                .only_kind(FaultKind::Latency)
                .with_latency(Duration::from_secs(20), Duration::from_secs(20)),
        )
        .unwrap();
    let mut command = liveapi();
    command
        .env("LIVEAPI_DEADLINE_MS", "3000")
        .env("LIVEAPI_ATTEMPT_TIMEOUT_MS", "3000")
        .args(["linkv", "change-gold", "--uid", &uid, "--add", "4"])
        .args(["--request-id", "cli-killed-1", "--expires-at", "4000000000"])
        .args(server.linkv())
        .args(location)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    let guard = std::time::Instant::now() + Duration::from_secs(20);
    while applied(&server, "cli-killed-1") == 0 {
        assert!(std::time::Instant::now() < guard, "never sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    server.emulator.set_faults(Faults::none()).unwrap();
    let shown = outbox_run(&server, &location, &["show", "cli-killed-1", "--json"]).json();
    assert_eq!(shown["state"], "pending");
    assert_eq!(
        shown["lease_owner"].as_str().unwrap().split('-').next(),
        Some("liveapi")
    );
    // Leased for the sender's deadline (3 s) plus 5 s, not the dispatcher's 2 minutes.
    let lease =
        shown["lease_until_ms"].as_u64().unwrap() - shown["enqueued_at_ms"].as_u64().unwrap();
    assert!((8_000..=9_000).contains(&lease), "leased for {lease} ms");
    // A drain meanwhile says another sender holds it, and when it comes due.
    let held = outbox_run(&server, &location, &["drain"]);
    let line = last_error_line_after_output(&held, 4);
    assert!(line.contains("being sent by another sender"), "{line}");
    // Drained once the lease ends: applied once (the server remembered the request id).
    let waited = outbox_run(&server, &location, &["drain", "--wait", "30"]);
    assert!(waited.ok().contains("applied: 1\n"), "{waited:#?}");
    assert_eq!(applied(&server, "cli-killed-1"), 1);
    let shown = outbox_run(&server, &location, &["show", "cli-killed-1", "--json"]).json();
    assert_eq!(shown["state"], "applied");
    assert_eq!(shown["attempts"], 2);
}

#[test]
fn a_one_shot_sender_releases_its_lease_when_it_returns() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coins.outbox");
    let location = ["--outbox", path.to_str().unwrap()];
    let uid = server.user("ada");
    server
        .emulator
        .set_faults(Faults::new(1.0).only_kind(FaultKind::ResetBeforeApply))
        .unwrap();
    let lost = server.linkv_run(&[
        "change-gold",
        "--uid",
        &uid,
        "--add",
        "5",
        "--request-id",
        "cli-released-1",
        "--max-attempts",
        "1",
        location[0],
        location[1],
    ]);
    assert_eq!(lost.code, 4, "{lost:#?}");
    let shown = outbox_run(&server, &location, &["show", "cli-released-1", "--json"]).json();
    assert_eq!(shown["state"], "pending");
    assert!(shown["lease_owner"].is_null(), "{shown}");
}

#[test]
fn a_locked_postgres_outbox_gives_a_typed_error_within_the_deadline() {
    let Some(schema) = TestSchema::new("cli_locked") else {
        return;
    };
    let server = Server::start();
    let location = ["--outbox", schema.url(), "--outbox-schema", schema.name()];
    let uid = server.user("ada");
    let change = [
        "change-gold",
        "--uid",
        &uid,
        "--add",
        "3",
        "--request-id",
        "cli-locked-1",
        "--expires-at",
        "4000000000",
        location[0],
        location[1],
        location[2],
        location[3],
    ];
    server.linkv_run(&change).ok();
    // Another session holds the table locked, as a migration or a hand-run LOCK would.
    let (locked, release) = (
        std::sync::mpsc::channel::<()>(),
        std::sync::mpsc::channel::<()>(),
    );
    let (is_locked, unlock) = (locked.0, release.1);
    let holder = {
        let (url, name) = (schema.url().to_owned(), schema.name().to_owned());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                use liveapi_outbox::tokio_postgres;
                let (mut db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                let transaction = db.transaction().await.unwrap();
                transaction
                    .batch_execute(&format!(
                        "LOCK TABLE {name}.outbox IN ACCESS EXCLUSIVE MODE"
                    ))
                    .await
                    .unwrap();
                is_locked.send(()).unwrap();
                let _ = unlock.recv();
                transaction.rollback().await.unwrap();
            });
        })
    };
    locked.1.recv().unwrap();
    let listed = outbox_run(&server, &location, &["list"]);
    let line = listed.one_line_error(5);
    assert!(
        line.contains("locked") || line.contains("timed out"),
        "{line}"
    );
    // A change within its deadline (3 s): refused by the store, typed, before anything is sent.
    let started = std::time::Instant::now();
    let mut command = liveapi();
    let mut second = change.to_vec();
    second[6] = "cli-locked-2";
    command
        .env("LIVEAPI_DEADLINE_MS", "3000")
        .arg("linkv")
        .args(&second)
        .args(server.linkv());
    let blocked = run_command(&mut command, None);
    let took = started.elapsed();
    assert_eq!(blocked.code, 5, "{blocked:#?}");
    assert!(took < Duration::from_secs(3 + 2), "took {took:?}");
    release.0.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(applied(&server, "cli-locked-2"), 0);
    assert_eq!(applied(&server, "cli-locked-1"), 1);
}
