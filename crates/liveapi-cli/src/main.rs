//! The `liveapi` command-line tool.
//!
//! Each subcommand lives in its own module with its arguments (a `clap::Args` struct) and a
//! `run` function; `main` only parses and dispatches. Every `run` but the emulator's returns
//! an [`exit::Outcome`], which [`exit::finish`] turns into the documented exit status, so
//! the meaning of each status is decided in one place.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

mod call;
#[cfg(feature = "console-credentials")]
mod console;
mod credentials;
mod emulator;
mod env;
mod exit;
mod input;
mod linkv;
mod logging;
mod nonce;
mod outbox;
mod output;
mod polyv;
mod rfc3339;
mod sign;
mod timestamp;
mod values;
mod vendor;
mod verify;

use output::Format;

/// Command-line tools for the LinkV and Polyv live-streaming server APIs: compute and check
/// signatures, call the APIs, and run a local emulator of both servers.
#[derive(Debug, Parser)]
#[command(
    name = "liveapi",
    version,
    about,
    propagate_version = true,
    after_long_help = LONG_HELP
)]
struct Cli {
    /// Print more on standard error: -v each call's end, -vv each attempt (its answer's
    /// status and latency, its retries). Warnings are printed without it; RUST_LOG adds
    /// directives of its own (such as RUST_LOG=liveapi_outbox=debug). Never a secret.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

const LONG_HELP: &str = concat!(
    "\
Credentials come from flags or from the environment (a flag wins): LIVEAPI_LINKV_APP_ID,
LIVEAPI_LINKV_SECRET, LIVEAPI_LINKV_ALIAS, LIVEAPI_LINKV_BASE_URL, LIVEAPI_POLYV_APP_ID,
LIVEAPI_POLYV_SECRET, LIVEAPI_POLYV_BASE_URL, LIVEAPI_POLYV_SIGNATURE_METHOD; client settings
from LIVEAPI_ATTEMPT_TIMEOUT_MS, LIVEAPI_DEADLINE_MS, LIVEAPI_MAX_ATTEMPTS,
LIVEAPI_RESEND_WINDOW_SECS and LIVEAPI_ALLOW_INSECURE_HTTP; Polyv's rate limit from the
variables `liveapi polyv --help` names. A variable set but empty is an error, never the
default. Secrets are never printed.

",
    exit::exit_codes_text!(),
    "\n\n",
    exit::json_errors_text!()
);

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the signature of some parameters (LinkV or Polyv), to debug `sign err`.
    Sign(sign::Args),
    /// Check received parameters: valid, or why not (wrong sign, stale time, missing
    /// parameter).
    Verify(verify::Args),
    /// Print a fresh LinkV nonce_str: 8 random characters, the unix time, 8 more.
    Nonce(nonce::Args),
    /// Print a Polyv timestamp for now: 13 digits of unix milliseconds.
    Timestamp(timestamp::Args),
    /// Call the LinkV live API: tokens, orders, coin changes, balances.
    #[command(after_long_help = exit::EXIT_CODES)]
    Linkv(linkv::Args),
    /// Call the Polyv live API: donate (tipping) settings.
    #[command(after_long_help = exit::EXIT_CODES)]
    Polyv(polyv::Args),
    /// Decrypt the LinkV console's app_id + app_secret into live_app_key, alias and base
    /// URL (and, on request, live_app_secret).
    #[cfg(feature = "console-credentials")]
    DecryptCredentials(console::Args),
    /// Run a local emulator of the LinkV and Polyv servers, with demo apps.
    #[command(after_long_help = emulator::EXIT_CODES)]
    Emulator(emulator::Args),
    /// Inspect and drain a durable outbox of coin changes (see --outbox on `linkv order`
    /// and `linkv change-gold`).
    #[command(after_long_help = exit::EXIT_CODES)]
    Outbox(outbox::Args),
}

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => parse_error(e),
    };
    // Read from the matches, not from each command's arguments: every command with `--json`
    // gets its errors as JSON, whichever module defines the flag.
    let format = Format::from_flag(json_requested(&matches));
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => parse_error(e),
    };
    logging::init(cli.verbose);
    let finish = |command: &str, outcome| exit::finish(command, format, outcome);
    match cli.command {
        Command::Sign(args) => finish("liveapi sign", sign::run(args)),
        Command::Verify(args) => finish("liveapi verify", verify::run(args)),
        Command::Nonce(args) => finish("liveapi nonce", nonce::run(args)),
        Command::Timestamp(args) => finish("liveapi timestamp", timestamp::run(args)),
        Command::Linkv(args) => finish("liveapi linkv", linkv::run(args)),
        Command::Polyv(args) => finish("liveapi polyv", polyv::run(args)),
        #[cfg(feature = "console-credentials")]
        Command::DecryptCredentials(args) => {
            finish("liveapi decrypt-credentials", console::run(args))
        }
        Command::Emulator(args) => finish("liveapi emulator", emulator::run(args)),
        Command::Outbox(args) => finish("liveapi outbox", outbox::run(args)),
    }
}

/// Whether the command that runs was given `--json` (the flag is global within its group, so
/// the innermost command's matches hold it).
fn json_requested(matches: &ArgMatches) -> bool {
    let mut matches = matches;
    loop {
        if let Ok(Some(true)) = matches.try_get_one::<bool>("json") {
            return true;
        }
        match matches.subcommand() {
            Some((_, inner)) => matches = inner,
            None => return false,
        }
    }
}

/// Ends the process for a command line clap refused (or help it printed). With `--json`
/// among the arguments, the refusal is also a JSON error on standard output, as every other
/// failure is: the arguments could not be parsed, so the flag is looked for by its text.
fn parse_error(error: clap::Error) -> ! {
    let json = std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    if json && error.use_stderr() {
        let text = error.render().to_string();
        let first = text.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        let _ = output::json(&exit::Failure::usage(message).to_json());
    }
    error.exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
