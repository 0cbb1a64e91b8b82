//! Running the tools a release drives (cargo, git), showing each command before it runs.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

/// A command that could not be run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandError {
    /// It could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// It exited with a failure.
    #[error("`{command}` failed ({status}){detail}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The end of what it printed on stderr, when that was captured.
        detail: String,
    },
}

/// The cargo that runs this xtask (`$CARGO`), so every step uses the same toolchain.
pub(crate) fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// A command in `dir`.
pub(crate) fn new(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir);
    command
}

/// The command as a person would type it: the program's file name, then the arguments, with
/// the environment variables it sets in front.
pub(crate) fn display(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or_else(|| command.get_program())
        .to_string_lossy()
        .into_owned();
    let envs = command.get_envs().filter_map(|(k, v)| {
        v.map(|v| {
            let v = v.to_string_lossy();
            if v.contains(' ') {
                format!("{}='{v}'", k.to_string_lossy())
            } else {
                format!("{}={v}", k.to_string_lossy())
            }
        })
    });
    let args = command.get_args().map(|a| a.to_string_lossy().into_owned());
    envs.chain([program])
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `command` with the terminal attached, after printing it.
pub(crate) fn run(command: &mut Command) -> Result<(), CommandError> {
    let shown = display(command);
    println!("$ {shown}");
    let status = command.status().map_err(|source| CommandError::Spawn {
        command: shown.clone(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(CommandError::Failed {
            command: shown,
            status,
            detail: String::new(),
        })
    }
}

/// Runs `command` quietly and returns what it printed, whether it succeeded or not.
pub(crate) fn capture(command: &mut Command) -> Result<Output, CommandError> {
    command.output().map_err(|source| CommandError::Spawn {
        command: display(command),
        source,
    })
}

/// Runs `command` quietly and returns its standard output; a failure carries its stderr.
pub(crate) fn stdout(command: &mut Command) -> Result<String, CommandError> {
    let output = capture(command)?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(CommandError::Failed {
            command: display(command),
            status: output.status,
            detail: format!(":\n{}", stderr.trim_end()),
        })
    }
}
