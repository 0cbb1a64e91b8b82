//! The `LIVEAPI_*` variables: one set but empty is an error naming it, never a default.

mod common;

use common::{Server, liveapi, run, run_command};

#[test]
fn an_empty_variable_is_an_error_never_the_default() {
    let server = Server::start();
    let app = server.emulator.polyv_app();
    // An empty base URL would have meant Polyv's production host.
    let mut command = liveapi();
    command
        .args(["polyv", "donate", "get"])
        .env("LIVEAPI_POLYV_APP_ID", &app.app_id)
        .env("LIVEAPI_POLYV_SECRET", &app.secret)
        .env("LIVEAPI_POLYV_BASE_URL", "");
    let empty = run_command(&mut command, None);
    let error = empty.one_line_error(2);
    assert!(
        error.contains("LIVEAPI_POLYV_BASE_URL is set but empty"),
        "{empty:#?}"
    );
    assert!(error.contains("--base-url"), "{empty:#?}");

    let flag = run(&[
        "polyv",
        "donate",
        "get",
        "--app-id",
        "a",
        "--secret",
        "s",
        "--base-url",
        "",
    ]);
    assert!(
        flag.one_line_error(2).contains("--base-url is empty"),
        "{flag:#?}"
    );

    // Any LIVEAPI_ variable a command reads; blank is empty too.
    let mut command = liveapi();
    command
        .args(["linkv", "balance", "--uid", "1"])
        .args(server.linkv())
        .env("LIVEAPI_ATTEMPT_TIMEOUT_MS", "  ");
    let blank = run_command(&mut command, None);
    assert!(
        blank
            .one_line_error(2)
            .contains("LIVEAPI_ATTEMPT_TIMEOUT_MS is set but empty"),
        "{blank:#?}"
    );
    let mut command = liveapi();
    command
        .args(["sign", "linkv", "a=1"])
        .env("LIVEAPI_LINKV_SECRET", "");
    let secret = run_command(&mut command, None);
    assert!(
        secret
            .one_line_error(2)
            .contains("LIVEAPI_LINKV_SECRET is set but empty"),
        "{secret:#?}"
    );
    let flag = run(&["sign", "polyv", "--secret", "", "a=1"]);
    assert!(
        flag.one_line_error(2).contains("--secret is empty"),
        "{flag:#?}"
    );
    assert!(server.emulator.requests().is_empty(), "nothing was sent");
}
