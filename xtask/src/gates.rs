//! The checks a release must pass first: what CI runs (formatting, lints, tests), plus the
//! documentation with warnings denied.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, CommandError};

/// One check, skippable with its own flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// `cargo fmt --all --check`.
    Fmt,
    /// `cargo clippy --workspace --all-targets --all-features -- -D warnings`.
    Clippy,
    /// The README's test command, `cargo test --workspace --all-features`.
    Tests,
    /// `cargo doc --workspace --no-deps --all-features` with `RUSTDOCFLAGS=-D warnings`.
    Doc,
}

impl Gate {
    /// Every gate, in the order they run (cheapest first).
    pub(crate) const ALL: [Self; 4] = [Self::Fmt, Self::Clippy, Self::Tests, Self::Doc];

    /// The short name, as in `--skip-<name>`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Fmt => "fmt",
            Self::Clippy => "clippy",
            Self::Tests => "tests",
            Self::Doc => "doc",
        }
    }

    /// The command, run at the workspace root.
    ///
    /// Everything but `fmt` runs with `--locked`: a release is cut from the committed
    /// `Cargo.lock`, and a dry run must not rewrite it.
    pub(crate) fn command(self, root: &Path) -> Command {
        let mut command = cmd::new(cmd::cargo(), root);
        match self {
            Self::Fmt => command.args(["fmt", "--all", "--check"]),
            Self::Clippy => command.args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]),
            Self::Tests => command.args(["test", "--workspace", "--all-features", "--locked"]),
            Self::Doc => {
                let mut flags = std::env::var("RUSTDOCFLAGS").unwrap_or_default();
                if !flags.is_empty() {
                    flags.push(' ');
                }
                flags.push_str("-D warnings");
                command.env("RUSTDOCFLAGS", flags).args([
                    "doc",
                    "--workspace",
                    "--no-deps",
                    "--all-features",
                    "--locked",
                ])
            }
        };
        command
    }
}

/// Runs every gate not in `skipped`, stopping at the first failure.
pub(crate) fn run(root: &Path, skipped: &[Gate]) -> Result<(), CommandError> {
    for gate in Gate::ALL {
        if skipped.contains(&gate) {
            println!("--- {}: skipped", gate.name());
            continue;
        }
        println!("--- {}", gate.name());
        cmd::run(&mut gate.command(root))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gates_run_what_the_brief_and_the_readme_say() {
        let root = Path::new(".");
        let shown: Vec<String> = Gate::ALL
            .iter()
            .map(|g| cmd::display(&g.command(root)))
            .collect();
        assert_eq!(shown[0], "cargo fmt --all --check");
        assert_eq!(
            shown[1],
            "cargo clippy --workspace --all-targets --all-features --locked -- -D warnings"
        );
        assert_eq!(shown[2], "cargo test --workspace --all-features --locked");
        assert!(shown[3].ends_with("cargo doc --workspace --no-deps --all-features --locked"));
        assert!(shown[3].contains("-D warnings"));
    }
}
