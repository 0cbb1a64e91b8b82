//! The checks a release must pass first: exactly what CI runs, `.ci/run` (formatting, lints,
//! warning-free docs, the layering rules, the README's test command), so that a release can
//! never pass checks that CI would fail. Each step can be skipped by name.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, CommandError};

/// One step of `.ci/run`, skippable with its own flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// `cargo fmt --all --check`.
    Fmt,
    /// `cargo clippy` with warnings denied, with all features and the executor without TLS.
    Clippy,
    /// `cargo doc --workspace --no-deps --all-features` with `RUSTDOCFLAGS=-D warnings`.
    Doc,
    /// The dependency rules between the crates, checked with `cargo tree`.
    Layering,
    /// The README's test command, `cargo test --workspace --all-features`.
    Tests,
}

impl Gate {
    /// Every gate, in the order `.ci/run` runs them.
    pub(crate) const ALL: [Self; 5] = [
        Self::Fmt,
        Self::Clippy,
        Self::Doc,
        Self::Layering,
        Self::Tests,
    ];

    /// The step's name in `.ci/run`, as in `--skip-<name>`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Fmt => "fmt",
            Self::Clippy => "clippy",
            Self::Doc => "doc",
            Self::Layering => "layering",
            Self::Tests => "tests",
        }
    }
}

/// `.ci/run`, told to leave out the `skipped` steps.
pub(crate) fn command(root: &Path, skipped: &[Gate]) -> Command {
    let mut command = cmd::new("bash", root);
    let names: Vec<&str> = skipped.iter().map(|g| g.name()).collect();
    command
        .arg(".ci/run")
        .env("LIVEAPI_CI_SKIP", names.join(" "));
    command
}

/// Runs `.ci/run` without the `skipped` steps; it stops at the first failure.
pub(crate) fn run(root: &Path, skipped: &[Gate]) -> Result<(), CommandError> {
    if Gate::ALL.iter().all(|g| skipped.contains(g)) {
        println!("--- gates: all skipped");
        return Ok(());
    }
    cmd::run(&mut command(root, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gates_are_the_ci_script_with_skipped_steps_named() {
        let command = command(Path::new("."), &[Gate::Doc, Gate::Tests]);
        assert_eq!(
            cmd::display(&command),
            "LIVEAPI_CI_SKIP='doc tests' bash .ci/run"
        );
    }

    #[test]
    fn every_gate_is_a_step_of_the_ci_script() {
        let script = std::fs::read_to_string(crate::workspace_root().join(".ci/run")).unwrap();
        for gate in Gate::ALL {
            assert!(
                script.contains(&format!("if step {}; then", gate.name())),
                "{} is not a step of .ci/run",
                gate.name()
            );
        }
    }
}
