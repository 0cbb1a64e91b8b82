//! The git side of a release: a clean tree before, a commit and an annotated tag after.
//! Nothing here pushes.

use std::path::Path;

use crate::cmd::{self, CommandError};

fn git(root: &Path) -> std::process::Command {
    cmd::new("git", root)
}

/// What `git status --porcelain` lists: modified, staged and untracked files.
pub(crate) fn uncommitted(root: &Path) -> Result<Vec<String>, CommandError> {
    let out = cmd::stdout(git(root).args(["status", "--porcelain"]))?;
    Ok(out.lines().map(str::to_owned).collect())
}

/// Whether the tag exists locally.
pub(crate) fn tag_exists(root: &Path, tag: &str) -> Result<bool, CommandError> {
    let out = cmd::stdout(git(root).args(["tag", "--list", tag]))?;
    Ok(!out.trim().is_empty())
}

/// The checked-out branch, `None` on a detached HEAD.
pub(crate) fn branch(root: &Path) -> Result<Option<String>, CommandError> {
    let output = cmd::capture(git(root).args(["symbolic-ref", "--quiet", "--short", "HEAD"]))?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
}

/// The remote the branch pushes to: its upstream's, else `origin`.
pub(crate) fn remote(root: &Path, branch: &str) -> String {
    cmd::stdout(git(root).args(["config", "--get", &format!("branch.{branch}.remote")]))
        .ok()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "origin".to_owned())
}

/// Commits exactly `paths` with `message`.
pub(crate) fn commit(root: &Path, paths: &[&str], message: &str) -> Result<(), CommandError> {
    cmd::run(git(root).arg("add").arg("--").args(paths))?;
    cmd::run(
        git(root)
            .args(["commit", "--quiet", "-m", message, "--"])
            .args(paths),
    )
}

/// Creates the annotated tag on HEAD.
pub(crate) fn tag(root: &Path, tag: &str, message: &str) -> Result<(), CommandError> {
    cmd::run(git(root).args(["tag", "--annotate", tag, "-m", message]))
}

/// Takes `paths` out of the index again (after a failed commit), best effort.
pub(crate) fn unstage(root: &Path, paths: &[&str]) {
    if let Err(e) = cmd::stdout(git(root).args(["reset", "--quiet", "--"]).args(paths)) {
        eprintln!("xtask: {e}");
    }
}
