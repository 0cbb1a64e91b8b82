//! Writing results to standard output and notes to standard error.
//!
//! `println!` panics when standard output is closed (`liveapi nonce | head -c0`); these
//! functions turn that into exit status 5 instead.

use std::fmt;
use std::io::Write;

use serde_json::Value;

use crate::exit::{Failure, Outcome};

/// How a command prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Text for people: a bare value, or `name: value` lines.
    Plain,
    /// One JSON object on one line, for scripts.
    Json,
}

impl Format {
    /// The format the `--json` flag asks for.
    pub(crate) fn from_flag(json: bool) -> Self {
        if json { Self::Json } else { Self::Plain }
    }
}

/// Prints `text` and a line break on standard output.
pub(crate) fn line(text: impl fmt::Display) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::local(format_args!("cannot write to standard output: {e}")))
}

/// Prints `name: value` lines, one per pair.
pub(crate) fn fields<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Outcome {
    let text: Vec<String> = pairs
        .into_iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    line(text.join("\n"))
}

/// Prints `value` as compact JSON on one line.
pub(crate) fn json(value: &Value) -> Outcome {
    line(value)
}

/// Prints a note on standard error. A note that cannot be written is dropped: the result on
/// standard output and the exit status still tell what happened.
pub(crate) fn note(text: impl fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
