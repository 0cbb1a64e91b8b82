//! Exit statuses, and what a failed command leaves behind: one line on standard error, and
//! with `--json` one object on standard output.
//!
//! Every command returns [`Outcome`]; `main` turns it into the process's exit status, so the
//! mapping from what went wrong to a number lives here and nowhere else.

use std::fmt;
use std::process::ExitCode;

use liveapi::model::ValidationError;
use liveapi::request::meaning::Class;
use serde_json::{Map, Value};

use crate::output::Format;

/// The text of [`EXIT_CODES`], as a macro so that `concat!` can put it in longer help.
macro_rules! exit_codes_text {
    () => {
        "\
Exit status:
  0  success
  1  refused: the server refused the call (bad parameter, unknown user, insufficient
     balance, order already completed, a request id already used with other
     parameters...), `verify` found the request invalid, or `outbox show` found no
     such entry
  2  usage, invalid input or configuration (credentials, settings, a LIVEAPI_ variable
     set but empty), refused before anything was announced or sent
  3  authentication: the server rejected the signature or does not know the app
  4  network failure, timeout, rate limit or server error, after retries: the outcome
     may be unknown; resend a coin change with the request id (and expiry) printed; with
     --outbox the change stays in the outbox, and `liveapi outbox drain` resends it
  5  local failure: TLS setup, randomness, this machine's clock (the server refused
     its time twice), writing the output, or an outbox that cannot be opened or written
  6  reconcile: the request id names another change in the outbox, or the change is
     older than the resend window; nothing was sent or applied now: check the balance
     and the vendor's records before sending anything else for it
`liveapi outbox drain` exits 6 if an entry it sent needs reconciliation, else 5 (2 for a
setting) if the store failed (its report still printed), else 4 if entries remain pending
after it, else 1 if one was refused, else 0. `liveapi outbox counts --fail-if-reconcile
--max-pending-age SECS` exits 6 if an entry needs reconciliation, else 4 if the oldest pending
entry is older than SECS. An outbox location that cannot be read exits 2."
    };
}
pub(crate) use exit_codes_text;

/// The text of [`JSON_ERRORS`], as a macro so that `concat!` can put it in longer help.
macro_rules! json_errors_text {
    () => {
        "\
With --json, a failure prints one JSON object on one line of standard output (the message
stays on standard error, as without it):
  {\"error\": {\"kind\": \"refused\", \"message\": \"...\", \"exit_code\": 1, \"request_id\": \"...\"}}
  kind          what happened: invalid, config, local, refused, auth, clock, rate_limited,
                unavailable or reconcile (the SDK's classes, docs/answers.md)
  message       what standard error says, on one line
  exit_code     the exit status
and, when they apply: request_id (the coin change's), outcome_unknown (a call that may
have been applied), resend_flags (the flags that finish it without applying it twice),
pending_change (the change as stored, when it must be resent or reconciled), vendor,
vendor_code (LinkV's body status or Polyv's code) and http_status (the server's answer)."
    };
}
pub(crate) use json_errors_text;

/// The exit statuses and the shape of `--json` errors, as `--help` documents them.
pub(crate) const EXIT_CODES: &str = concat!(exit_codes_text!(), "\n\n", json_errors_text!());

/// Why a command did not succeed, and therefore its exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// 1: the server, or `verify`, said no.
    Refused,
    /// 2: the command line or the input cannot be used; nothing was sent.
    Usage,
    /// 3: the credentials were rejected.
    Auth,
    /// 4: no definite answer from the server.
    Unavailable,
    /// 5: something on this machine failed.
    Local,
    /// 6: the change must be reconciled by hand before anything else is sent for it.
    Reconcile,
}

impl Status {
    /// The class of a failure that has no meaning of its own, such as a check of the command
    /// line (`docs/answers.md`).
    fn class(self) -> Class {
        match self {
            Self::Refused => Class::Refused,
            Self::Usage => Class::Invalid,
            Self::Auth => Class::Auth,
            Self::Unavailable => Class::Unavailable,
            Self::Local => Class::Local,
            Self::Reconcile => Class::Reconcile,
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::Refused => 1,
            Self::Usage => 2,
            Self::Auth => 3,
            Self::Unavailable => 4,
            Self::Local => 5,
            Self::Reconcile => 6,
        }
    }
}

/// A command that did not succeed: its status and what to tell the user.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    status: Status,
    /// What happened, in the SDK's words (`docs/answers.md`): the `kind` of a `--json` error.
    class: Class,
    /// `None` when the command already said why on standard output (`verify`).
    message: Option<String>,
    /// Facts a script acts on, added to a `--json` error: `request_id`, `pending_change`…
    details: Map<String, Value>,
    /// The command printed its own JSON result with this failure in it (`outbox drain`): the
    /// error object is not printed a second time.
    in_result: bool,
}

/// What every command's `run` returns.
pub(crate) type Outcome = Result<(), Failure>;

impl Failure {
    /// A failure explained by `message`.
    pub(crate) fn new(status: Status, message: impl fmt::Display) -> Self {
        Self {
            status,
            class: status.class(),
            message: Some(message.to_string()),
            details: Map::new(),
            in_result: false,
        }
    }

    /// A failure whose explanation has been printed already.
    pub(crate) fn quiet(status: Status) -> Self {
        Self {
            status,
            class: status.class(),
            message: None,
            details: Map::new(),
            in_result: false,
        }
    }

    /// Unusable command-line arguments or input.
    pub(crate) fn usage(message: impl fmt::Display) -> Self {
        Self::new(Status::Usage, message)
    }

    /// Configuration that cannot work (credentials, settings): exit status 2 like unusable
    /// input, but of the class `config`.
    pub(crate) fn config(message: impl fmt::Display) -> Self {
        Self::new(Status::Usage, message).with_class(Class::Config)
    }

    /// The same failure, of the class `class` (a failed call's, from its meaning).
    pub(crate) fn with_class(mut self, class: Class) -> Self {
        self.class = class;
        self
    }

    /// The same failure, with `key` among the facts of its `--json` error.
    pub(crate) fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// A failure on this machine.
    pub(crate) fn local(message: impl fmt::Display) -> Self {
        Self::new(Status::Local, message)
    }

    /// Adds `text` to the explanation.
    pub(crate) fn append(&mut self, text: &str) {
        self.message.get_or_insert_with(String::new).push_str(text);
    }

    /// The exit status.
    pub(crate) fn status(&self) -> Status {
        self.status
    }

    /// The explanation, if there is one to print.
    pub(crate) fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The same failure, already printed inside the command's JSON result.
    pub(crate) fn in_result(mut self) -> Self {
        self.in_result = true;
        self
    }

    /// The failure as `--json` prints it: `{"error": {"kind", "message", "exit_code", …}}`,
    /// the three that every error has and the facts of this one.
    pub(crate) fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("kind".to_owned(), self.class.as_str().into());
        let message = self
            .message
            .as_deref()
            .map_or_else(|| "see standard output".to_owned(), one_line);
        error.insert("message".to_owned(), message.into());
        error.insert("exit_code".to_owned(), self.status.code().into());
        for (key, value) in &self.details {
            error.insert(key.clone(), value.clone());
        }
        let mut object = Map::new();
        object.insert("error".to_owned(), Value::Object(error));
        Value::Object(object)
    }
}

impl From<ValidationError> for Failure {
    fn from(e: ValidationError) -> Self {
        Self::usage(e)
    }
}

/// Text on one line: scripts read one line per error, so embedded line breaks (from a key or
/// a server message) are escaped rather than printed.
pub(crate) fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            c if c.is_control() => line.extend(c.escape_default()),
            c => line.push(c),
        }
    }
    line
}

/// The exit status of `outcome`, after printing `command: message` on standard error and,
/// in `Format::Json`, the failure as one JSON object on standard output.
pub(crate) fn finish(command: &str, format: Format, outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(message) = failure.message() {
                crate::output::note(format_args!("{command}: {}", one_line(message)));
            }
            if format == Format::Json && !failure.in_result {
                // Standard output closed: the exit status and standard error still tell.
                let _ = crate::output::json(&failure.to_json());
            }
            ExitCode::from(failure.status().code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\u{7}c"), "a\\nb\\r\\u{7}c");
        assert_eq!(one_line("鲜花 ok"), "鲜花 ok");
    }

    #[test]
    fn a_json_error_has_kind_message_exit_code_and_its_facts() {
        let failure = Failure::new(Status::Refused, "no\nway").with_detail("request_id", "r-1");
        assert_eq!(
            failure.to_json(),
            serde_json::json!({"error": {
                "kind": "refused",
                "message": "no\\nway",
                "exit_code": 1,
                "request_id": "r-1",
            }})
        );
        let config = Failure::config("no alias");
        assert_eq!(config.status(), Status::Usage);
        assert_eq!(config.to_json()["error"]["kind"], "config");
        assert_eq!(Failure::usage("bad").to_json()["error"]["kind"], "invalid");
        assert_eq!(
            Failure::quiet(Status::Refused).to_json()["error"]["message"],
            "see standard output"
        );
    }

    #[test]
    fn every_status_has_its_documented_code() {
        for (status, code) in [
            (Status::Refused, 1),
            (Status::Usage, 2),
            (Status::Auth, 3),
            (Status::Unavailable, 4),
            (Status::Local, 5),
            (Status::Reconcile, 6),
        ] {
            assert_eq!(status.code(), code);
            assert!(EXIT_CODES.contains(&format!("\n  {code}  ")));
        }
    }
}
