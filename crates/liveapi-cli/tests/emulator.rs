//! `liveapi emulator` as a user runs it: a real process, its output, a request, a stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

/// Kills the process if the test fails halfway.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn liveapi() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_liveapi"));
    // Its warnings are printed by default; a developer's RUST_LOG could hide them.
    command.env_remove("RUST_LOG");
    command
}

/// Starts `liveapi emulator` with `args` and reads its banner up to the last line.
fn start(args: &[&str]) -> (Running, SocketAddr, Vec<String>) {
    let child = liveapi()
        .arg("emulator")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    let first = lines.first().cloned().unwrap_or_default();
    let url = first
        .strip_prefix("liveapi emulator listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?} in {lines:?}"));
    (running, url.parse().unwrap(), lines)
}

fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn prints_the_address_and_the_demo_credentials_and_serves() {
    let (_running, addr, lines) = start(&["--seed", "3", "--fault-rate", "0.5"]);
    let banner = lines.join("\n");
    for expected in [
        "live_app_key=LM6000100000000000000042",
        "live_app_secret=demo_app_secret",
        "alias=demo",
        "appId=demo_polyv_app",
        "appSecret=demo_polyv_secret",
        "channels=1000001,1000002",
        "faults: rate 0.5 (seed 3)",
        "LinkV errors: in HTTP 200 answers, as the real server's, content type text/html",
    ] {
        assert!(
            banner.contains(expected),
            "{expected} missing from:\n{banner}"
        );
    }
    let health = get(addr, "/_emulator/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let faults = get(addr, "/_emulator/faults");
    assert!(faults.contains("\"seed\":3"), "{faults}");
    // The banner names the dashboard, and the page is there.
    let dashboard = format!("dashboard: http://{addr}/_emulator/");
    assert!(
        banner.contains(&dashboard),
        "{dashboard} missing from:\n{banner}"
    );
    let page = get(addr, "/_emulator/dashboard");
    assert!(page.contains("<title>liveapi emulator</title>"), "{page}");
}

#[test]
fn the_banner_exports_work_when_pasted() {
    let (_running, addr, lines) = start(&[]);
    let exports: Vec<(String, String)> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("export "))
        .map(|l| {
            let (name, value) = l.split_once('=').expect("NAME=VALUE");
            // The demo values need no quotes; a quoted one would show here.
            assert!(!value.starts_with('\''), "{l}");
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "LIVEAPI_LINKV_APP_ID",
            "LIVEAPI_LINKV_SECRET",
            "LIVEAPI_LINKV_ALIAS",
            "LIVEAPI_LINKV_BASE_URL",
            "LIVEAPI_POLYV_APP_ID",
            "LIVEAPI_POLYV_SECRET",
            "LIVEAPI_POLYV_BASE_URL",
        ],
        "{lines:?}"
    );
    // The dashboard's address is still there.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("dashboard: http://{addr}/_emulator/"))),
        "{lines:?}"
    );
    // With only those variables, both vendors' commands reach it, an order included.
    let run = |args: &[&str]| {
        let mut command = liveapi();
        command.args(args).env_remove("RUST_LOG");
        for (name, _) in &exports {
            command.env_remove(name);
        }
        command.envs(exports.iter().map(|(n, v)| (n, v)));
        let output = command.output().unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let token = run(&[
        "linkv",
        "token",
        "--user-id",
        "pat",
        "--name",
        "Pat",
        "--portrait-uri",
        "https://cdn.example.com/pat.png",
        "--json",
    ]);
    let token: serde_json::Value = serde_json::from_str(&token).unwrap();
    let open_id = token["open_id"].as_str().unwrap();
    let order = run(&[
        "linkv",
        "order",
        "--uid",
        open_id,
        "--order-id",
        "P-1",
        "--coins",
        "5",
        "--money",
        "99",
        "--platform",
        "h5",
    ]);
    assert!(order.starts_with("balance: 5\n"), "{order}");
    assert!(run(&["polyv", "donate", "get"]).starts_with("scope: account\n"));
}

#[cfg(unix)]
#[test]
fn stops_gracefully_on_sigterm_and_keeps_its_state() {
    // Removed even when an assertion fails.
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let state = dir.join("state.json");
    let (mut running, addr, lines) = start(&["--state", state.to_str().unwrap()]);
    assert!(lines.iter().any(|l| l.contains("state file:")));
    assert!(get(addr, "/_emulator/health").starts_with("HTTP/1.1 200"));
    let pid = running.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = running.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    running
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("stopping"), "{stderr}");
    // The final snapshot was written even though nothing changed, beside an empty log.
    let written = std::fs::read_to_string(&state).unwrap();
    assert!(written.contains("\"version\": 2"), "{written}");
    assert_eq!(
        std::fs::metadata(dir.join("state.json.log")).unwrap().len(),
        12
    );
}

#[cfg(unix)]
#[test]
fn a_torn_last_log_record_is_dropped_with_a_warning_on_stderr() {
    let temp = tempfile::tempdir().unwrap();
    let state = temp.path().join("state.json");
    // The log's header, then a record cut off after its length and two bytes.
    let mut log = b"LAEMULOG".to_vec();
    log.extend_from_slice(&1u32.to_le_bytes());
    log.extend_from_slice(&[40, 0, 0, 0, 1, 2]);
    std::fs::write(temp.path().join("state.json.log"), &log).unwrap();
    let (mut running, addr, _) = start(&["--state", state.to_str().unwrap()]);
    let store = get(addr, "/_emulator/store");
    assert!(store.contains("dropped a torn last record"), "{store}");
    let pid = running.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(running.0.wait().unwrap().success());
    let mut stderr = String::new();
    running
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("warning: dropped a torn last record (6 bytes at byte offset 12"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let output = liveapi()
        .args(["emulator", "--listen", "127.0.0.1:0", "--fault-rate", "2"])
        .output()
        .unwrap();
    // A configuration that cannot work is a usage error, with its reason.
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rate must be between 0 and 1"), "{stderr}");
    let output = liveapi()
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--fault-latency-ms",
            "50..10",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");

    // An address taken is this machine's failure (5), not the command line's.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = liveapi()
        .args(["emulator", "--listen", &address])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot listen on"),
        "{output:?}"
    );

    let output = liveapi()
        .args(["emulator", "--fault-kinds", "explode"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown fault kind"));

    let output = liveapi().arg("--help").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("emulator"));
}

fn post(addr: SocketAddr, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn linkv_answers_as_the_real_server_unless_told_otherwise() {
    let (_running, addr, _) = start(&[]);
    let response = post(addr, "/open/finanv0/getUserTokens", "uid=1");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{response}"
    );
    assert!(response.contains(r#""status":"400""#), "{response}");

    let (_running, addr, lines) =
        start(&["--linkv-error-http-status", "--linkv-json-content-type"]);
    assert!(
        lines
            .iter()
            .any(|l| l
                .contains("LinkV errors: with their HTTP status, content type application/json")),
        "{lines:?}"
    );
    let response = post(addr, "/open/finanv0/getUserTokens", "uid=1");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{response}"
    );
}
