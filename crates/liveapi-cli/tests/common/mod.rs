//! Running the built `liveapi` binary as a user would, and an emulator for it to talk to.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use liveapi_emulator::{Emulator, RunningEmulator};
use tokio::runtime::Runtime;

/// Every variable the binary reads, removed so that the developer's own settings cannot leak
/// into a test.
const VARS: [&str; 13] = [
    "LIVEAPI_LINKV_APP_ID",
    "LIVEAPI_LINKV_SECRET",
    "LIVEAPI_LINKV_ALIAS",
    "LIVEAPI_LINKV_BASE_URL",
    "LIVEAPI_POLYV_APP_ID",
    "LIVEAPI_POLYV_SECRET",
    "LIVEAPI_POLYV_BASE_URL",
    "LIVEAPI_POLYV_SIGNATURE_METHOD",
    "LIVEAPI_ATTEMPT_TIMEOUT_MS",
    "LIVEAPI_DEADLINE_MS",
    "LIVEAPI_MAX_ATTEMPTS",
    "LIVEAPI_ALLOW_INSECURE_HTTP",
    "LIVEAPI_RESEND_WINDOW_SECS",
];

/// The binary, with a clean environment (`RUST_LOG` too: what it prints is the test's choice).
pub(crate) fn liveapi() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_liveapi"));
    for var in VARS {
        command.env_remove(var);
    }
    command.env_remove("RUST_LOG");
    command
}

/// What a finished run left behind.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Asserts success and answers standard output.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "{self:#?}");
        &self.stdout
    }

    /// Asserts a failure with `code`, nothing on standard output and exactly one line on
    /// standard error, and answers that line.
    #[track_caller]
    pub(crate) fn one_line_error(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        let line = self.stderr.strip_suffix('\n').unwrap_or(&self.stderr);
        assert!(
            !line.is_empty() && !line.contains('\n'),
            "not one line: {self:#?}"
        );
        line
    }

    /// Asserts that `secret` appears nowhere in the output.
    #[track_caller]
    pub(crate) fn assert_hides(&self, secret: &str) {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "`{secret}` printed: {self:#?}"
        );
    }

    /// Standard output as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }
}

/// Runs `command` with `stdin` (nothing, like `< /dev/null`, when `None`).
pub(crate) fn run_command(command: &mut Command, stdin: Option<&[u8]>) -> Run {
    let mut child = command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // The binary may exit without reading (bad arguments): a broken pipe is fine.
        let _ = pipe.write_all(bytes);
    }
    let output = child.wait_with_output().expect("the binary finishes");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the binary with `args` and nothing on standard input.
pub(crate) fn run(args: &[&str]) -> Run {
    run_command(liveapi().args(args), None)
}

/// Runs the binary with `args` and `stdin`.
pub(crate) fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    run_command(liveapi().args(args), Some(stdin))
}

/// An emulator in this test process, served by a runtime of its own while the test thread
/// blocks on the binary.
pub(crate) struct Server {
    pub(crate) emulator: RunningEmulator,
    // Declared last so that it is dropped after the emulator it runs.
    runtime: Runtime,
}

impl Server {
    pub(crate) fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let emulator = runtime
            .block_on(Emulator::builder().seed(1).rate_limit(None).start())
            .expect("the emulator starts");
        Self { emulator, runtime }
    }

    /// The flags of the demo LinkV app.
    pub(crate) fn linkv(&self) -> Vec<String> {
        let app = self.emulator.linkv_app();
        vec![
            "--app-id".into(),
            app.app_key.clone(),
            "--secret".into(),
            app.app_secret.to_string(),
            "--alias".into(),
            app.alias.clone(),
            "--base-url".into(),
            self.emulator.base_url(),
        ]
    }

    /// The flags of the demo Polyv account.
    pub(crate) fn polyv(&self) -> Vec<String> {
        let app = self.emulator.polyv_app();
        vec![
            "--app-id".into(),
            app.app_id.clone(),
            "--secret".into(),
            app.secret.to_string(),
            "--base-url".into(),
            self.emulator.base_url(),
        ]
    }

    /// `liveapi linkv ARGS` with the demo app's flags.
    pub(crate) fn linkv_run(&self, args: &[&str]) -> Run {
        run_command(liveapi().arg("linkv").args(args).args(self.linkv()), None)
    }

    /// `liveapi polyv ARGS` with the demo account's flags.
    pub(crate) fn polyv_run(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        run_command(liveapi().arg("polyv").args(args).args(self.polyv()), stdin)
    }

    /// Registers `user` and answers their open id.
    pub(crate) fn user(&self, user: &str) -> String {
        let portrait = format!("https://cdn.example.com/{user}.png");
        let run = self.linkv_run(&[
            "token",
            "--user-id",
            user,
            "--name",
            user,
            "--portrait-uri",
            &portrait,
            "--json",
        ]);
        run.json()["open_id"]
            .as_str()
            .expect("an open id")
            .to_owned()
    }
}
