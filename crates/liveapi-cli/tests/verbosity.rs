//! `-v`, `-vv` and `RUST_LOG`: more on standard error, and never a secret or a signature.

mod common;

use common::{Server, liveapi, run_command};

/// `flags` with the value of `name` replaced.
fn with_flag(mut flags: Vec<String>, name: &str, value: &str) -> Vec<String> {
    let at = flags
        .iter()
        .position(|f| f == name)
        .expect("the flag is there");
    flags[at + 1] = value.to_owned();
    flags
}

#[test]
fn more_detail_on_request_and_never_a_secret_or_a_signature() {
    let server = Server::start();
    let secret = "wrong-secret-7e21b9";
    let flags = with_flag(server.linkv(), "--secret", secret);

    let quiet = run_command(
        liveapi()
            .args(["linkv", "balance", "--uid", "1"])
            .args(&flags),
        None,
    );
    // By default, nothing but the error: the SDK has no warning to give here.
    quiet.one_line_error(3);

    let mut runs = Vec::new();
    for verbose in ["-v", "-vv"] {
        runs.push(run_command(
            liveapi()
                .args(["linkv", "balance", "--uid", "1", verbose])
                .args(&flags),
            None,
        ));
    }
    runs.push(run_command(
        liveapi()
            .args(["linkv", "balance", "--uid", "1"])
            .args(&flags)
            .env("RUST_LOG", "trace"),
        None,
    ));
    // Each run's refused request, with the sign it carried and the one the emulator expected.
    let refusals: Vec<_> = server
        .emulator
        .requests()
        .into_iter()
        .filter_map(|r| r.signature)
        .collect();
    assert_eq!(refusals.len(), 4, "{refusals:#?}");
    let mut signatures: Vec<String> = Vec::new();
    for refusal in refusals {
        signatures.extend(refusal.received);
        signatures.push(refusal.expected);
    }
    assert!(signatures.iter().all(|s| s.len() == 32), "{signatures:?}");

    let [v, vv, trace] = &runs[..] else {
        unreachable!()
    };
    assert!(v.stderr.contains("liveapi: info: "), "{v:#?}");
    assert!(v.stderr.contains("call failed"), "{v:#?}");
    assert!(!v.stderr.contains("answered"), "{v:#?}");
    assert!(vv.stderr.contains("liveapi: debug: "), "{vv:#?}");
    assert!(vv.stderr.contains("answered status="), "{vv:#?}");
    assert!(vv.stderr.contains("operation=\"getUserTokens\""), "{vv:#?}");
    assert!(trace.stderr.contains("liveapi: trace: "), "{trace:#?}");
    for run in [&quiet, v, vv, trace] {
        assert_eq!(run.code, 3, "{run:#?}");
        run.assert_hides(secret);
        for signature in &signatures {
            run.assert_hides(signature);
        }
    }
}

#[test]
fn an_unusable_rust_log_is_named_and_ignored() {
    let server = Server::start();
    let run = run_command(
        liveapi()
            .args(["linkv", "balance", "--uid", "1"])
            .args(server.linkv())
            .env("RUST_LOG", "[["),
        None,
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("RUST_LOG is ignored"), "{run:#?}");
}
