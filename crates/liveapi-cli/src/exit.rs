//! Exit statuses, and the one-line message a failed command leaves on standard error.
//!
//! Every command returns [`Outcome`]; `main` turns it into the process's exit status, so the
//! mapping from what went wrong to a number lives here and nowhere else.

use std::fmt;
use std::process::ExitCode;

use liveapi::model::ValidationError;

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
  2  usage or invalid input, refused before anything was sent
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

/// The exit statuses, as `--help` documents them.
pub(crate) const EXIT_CODES: &str = exit_codes_text!();

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
    /// `None` when the command already said why on standard output (`verify`).
    message: Option<String>,
}

/// What every command's `run` returns.
pub(crate) type Outcome = Result<(), Failure>;

impl Failure {
    /// A failure explained by `message`.
    pub(crate) fn new(status: Status, message: impl fmt::Display) -> Self {
        Self {
            status,
            message: Some(message.to_string()),
        }
    }

    /// A failure whose explanation has been printed already.
    pub(crate) fn quiet(status: Status) -> Self {
        Self {
            status,
            message: None,
        }
    }

    /// Unusable command-line arguments or input.
    pub(crate) fn usage(message: impl fmt::Display) -> Self {
        Self::new(Status::Usage, message)
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

/// The exit status of `outcome`, after printing `command: message` on standard error.
pub(crate) fn finish(command: &str, outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(message) = failure.message() {
                crate::output::note(format_args!("{command}: {}", one_line(message)));
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
