//! The `liveapi` command-line tool.
//!
//! Each subcommand lives in its own module with its arguments (a `clap::Args` struct) and a
//! `run` function; `main` only parses and dispatches, so new subcommands (sign, verify,
//! nonce, linkv, polyv) slot in beside `emulator` without touching the others.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod emulator;

/// Command-line tools for the LinkV and Polyv live-streaming server APIs.
#[derive(Debug, Parser)]
#[command(name = "liveapi", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a local emulator of the LinkV and Polyv servers, with demo apps.
    Emulator(emulator::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Emulator(args) => emulator::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
