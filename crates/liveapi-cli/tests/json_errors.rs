//! `--json` failures: one JSON object on standard output, `{"error": {…}}`, while standard
//! error keeps its one line.

mod common;

use common::{Run, Server, run};
use liveapi_emulator::{FaultKind, Faults};
use serde_json::Value;

/// The error object of a failed `--json` run, after checking the run's shape: exit status
/// `code`, exactly one JSON line on standard output, and the message on standard error.
#[track_caller]
fn json_error(run: &Run, code: i32) -> Value {
    assert_eq!(run.code, code, "{run:#?}");
    let line = run.stdout.strip_suffix('\n').unwrap_or(&run.stdout);
    assert!(!line.is_empty() && !line.contains('\n'), "{run:#?}");
    let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {run:#?}"));
    let error = value["error"].clone();
    assert_eq!(error["exit_code"], code, "{run:#?}");
    assert!(error["kind"].is_string(), "{run:#?}");
    let message = error["message"].as_str().expect("a message");
    assert!(run.stderr.contains(message), "{run:#?}");
    assert_eq!(value.as_object().map(|o| o.len()), Some(1), "{run:#?}");
    error
}

#[test]
fn a_refusal_is_a_json_error_with_the_answer() {
    let server = Server::start();
    let refused = server.linkv_run(&["balance", "--uid", "4242", "--json"]);
    let error = json_error(&refused, 1);
    assert_eq!(error["kind"], "refused");
    assert_eq!(error["vendor"], "linkv");
    assert_eq!(error["vendor_code"], 400);
    assert_eq!(error["outcome_unknown"], false);
    assert!(error["message"].as_str().unwrap().contains("uid not found"));
    assert!(
        refused.stderr.starts_with("liveapi linkv: "),
        "{refused:#?}"
    );

    // A coin change refused: its request id, and neither the change nor how to resend it.
    let open_id = server.user("ivy");
    let removed = server.linkv_run(&["change-gold", "--uid", &open_id, "--remove", "1", "--json"]);
    let error = json_error(&removed, 1);
    assert!(error["request_id"].is_string(), "{removed:#?}");
    assert!(error.get("pending_change").is_none(), "{removed:#?}");
    assert!(error.get("resend_flags").is_none(), "{removed:#?}");

    let polyv = server.polyv_run(&["donate", "get", "--channel", "999", "--json"], None);
    let error = json_error(&polyv, 1);
    assert_eq!(error["vendor"], "polyv");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("illegal channel id")
    );
}

#[test]
fn an_unknown_outcome_carries_what_finishes_the_change() {
    let server = Server::start();
    let open_id = server.user("uma");
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
        "--json",
    ]);
    let error = json_error(&lost, 4);
    assert_eq!(error["kind"], "unavailable");
    assert_eq!(error["outcome_unknown"], true);
    let id = error["request_id"]
        .as_str()
        .expect("a request id")
        .to_owned();
    assert_eq!(error["resend_flags"], format!("--request-id {id}"));
    assert_eq!(error["pending_change"]["request_id"], id.as_str());
    assert_eq!(error["pending_change"]["coins"], 7);
}

#[test]
fn usage_configuration_and_credentials_have_their_kinds() {
    let server = Server::start();
    // Refused by the command line's own parsing.
    let zero = server.linkv_run(&["change-gold", "--uid", "1", "--add", "0", "--json"]);
    assert_eq!(json_error(&zero, 2)["kind"], "invalid");
    let unknown_flag = server.linkv_run(&["balance", "--uid", "1", "--json", "--colour"]);
    let error = json_error(&unknown_flag, 2);
    assert!(
        error["message"].as_str().unwrap().contains("--colour"),
        "{unknown_flag:#?}"
    );
    // No credentials at all.
    let none = run(&["linkv", "balance", "--uid", "1", "--json"]);
    let error = json_error(&none, 2);
    assert_eq!(error["kind"], "config");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("LIVEAPI_LINKV_SECRET")
    );
    // A wrong secret.
    let mut flags = server.polyv();
    let at = flags.iter().position(|f| f == "--secret").unwrap();
    flags[at + 1] = "wrong".to_owned();
    let auth = common::run_command(
        common::liveapi()
            .args(["polyv", "donate", "get", "--json"])
            .args(&flags),
        None,
    );
    assert_eq!(json_error(&auth, 3)["kind"], "auth");
    assert_eq!(
        server.emulator.requests().len(),
        1,
        "only the wrong secret was sent"
    );
}

#[test]
fn without_json_standard_output_stays_empty() {
    let server = Server::start();
    let refused = server.linkv_run(&["balance", "--uid", "4242"]);
    refused.one_line_error(1);
}
