//! `cargo xtask release <version>`: bump the version, date the changelog, run the gates,
//! publish, commit and tag. A dry run unless `--execute`; it never pushes.
//!
//! The steps, in order:
//!
//! 1. Refuse a dirty git tree, an existing tag, a version not greater than the current one,
//!    a changelog without entries under "Unreleased", and member manifests that would not
//!    follow the bump. Nothing has run or changed yet.
//! 2. Compute the new `Cargo.toml` and `CHANGELOG.md` in memory and print their diff.
//! 3. Ask crates.io which crates already have the new version (they are skipped), and list
//!    the publishing order.
//! 4. Run the gates (see [`crate::gates`]).
//! 5. Dry run: `cargo publish --workspace --dry-run`, then stop; nothing on disk has changed.
//!    `--execute`: write the two files, `cargo update --workspace` (the lock file's versions),
//!    commit `Release vX.Y.Z`, `cargo publish -p` each crate in dependency order, create the
//!    annotated tag `vX.Y.Z`, and print the push command.

use std::io;
use std::path::{Path, PathBuf};

use crate::changelog::{self, ChangelogError};
use crate::cmd::{self, CommandError};
use crate::date::Date;
use crate::gates::{self, Gate};
use crate::manifest::{self, Edit, ManifestError};
use crate::registry::{self, Published};
use crate::version::{self, Version, VersionError};
use crate::workspace::{self, Package};
use crate::{diff, git};

/// How to call it.
pub(crate) const USAGE: &str = "\
usage: cargo xtask release <version> [--execute] [--no-verify] [--skip-fmt] [--skip-clippy]
                                     [--skip-doc] [--skip-layering] [--skip-tests]

Bumps the workspace version and the internal dependency pins in Cargo.toml, moves the
\"Unreleased\" section of CHANGELOG.md under <version> and today's date (UTC), runs the
gates (fmt, clippy, tests, doc), then publishes.

Without --execute (the default) it is a dry run: it prints what would change and runs
`cargo publish --workspace --dry-run`, and writes nothing.

  <version>       the new version, e.g. 0.2.0 or 1.0.0-rc.1 (a leading `v` is allowed);
                  it must be greater than the current one
  --execute       write, commit `Release v<version>`, publish crate by crate, and create the
                  annotated tag v<version>; then print the push command (it never pushes)
  --no-verify     skip every gate, and pass --no-verify to cargo publish
  --skip-fmt      skip `cargo fmt --all --check`
  --skip-clippy   skip `cargo clippy … -D warnings`
  --skip-doc      skip `cargo doc --workspace --no-deps --all-features` (RUSTDOCFLAGS=-D warnings)
  --skip-layering skip the dependency rules between the crates
  --skip-tests    skip `cargo test --workspace --all-features`

The gates are .ci/run, exactly what CI runs, with the skipped steps left out.";

/// The command line of `cargo xtask release`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// The version as typed.
    pub(crate) version: String,
    /// Really write, commit, publish and tag.
    pub(crate) execute: bool,
    /// Skip the gates and cargo publish's own build.
    pub(crate) no_verify: bool,
    /// Gates not to run.
    pub(crate) skipped: Vec<Gate>,
}

impl Options {
    /// Reads the arguments that follow `release`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut version = None;
        let mut options = Self {
            version: String::new(),
            execute: false,
            no_verify: false,
            skipped: Vec::new(),
        };
        for arg in args {
            match arg.as_str() {
                "--execute" => options.execute = true,
                "--no-verify" => options.no_verify = true,
                flag if flag.starts_with("--skip-") => {
                    let name = &flag["--skip-".len()..];
                    let gate = Gate::ALL
                        .into_iter()
                        .find(|g| g.name() == name)
                        .ok_or_else(|| format!("unknown flag `{flag}`"))?;
                    if !options.skipped.contains(&gate) {
                        options.skipped.push(gate);
                    }
                }
                flag if flag.starts_with('-') => return Err(format!("unknown flag `{flag}`")),
                positional => {
                    if let Some(first) = version.replace(positional.to_owned()) {
                        return Err(format!(
                            "one version expected, got `{first}` and `{positional}`"
                        ));
                    }
                }
            }
        }
        options.version = version.ok_or("the new version is missing")?;
        if options.no_verify {
            options.skipped = Gate::ALL.to_vec();
        }
        Ok(options)
    }
}

/// Why a release stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A bad version.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The root manifest cannot be bumped.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The changelog cannot be released.
    #[error(transparent)]
    Changelog(#[from] ChangelogError),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A tool failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A precondition does not hold.
    #[error("{0}")]
    Refused(String),
}

/// A file the release rewrites, relative to the workspace root, with both contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileChange {
    /// Relative path.
    pub(crate) path: &'static str,
    /// The contents now.
    pub(crate) old: String,
    /// The contents after the release.
    pub(crate) new: String,
}

/// Everything the release will write, computed without writing.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The version now.
    pub(crate) current: Version,
    /// The version released.
    pub(crate) new: Version,
    /// The date in the changelog.
    pub(crate) date: Date,
    /// The manifest values changed.
    pub(crate) edits: Vec<Edit>,
    /// `Cargo.toml` and `CHANGELOG.md`.
    pub(crate) files: Vec<FileChange>,
    /// Things a person should check by hand.
    pub(crate) warnings: Vec<String>,
}

fn read(root: &Path, path: &str) -> Result<String, Error> {
    let path = root.join(path);
    std::fs::read_to_string(&path).map_err(|source| Error::Io {
        action: "read",
        path,
        source,
    })
}

fn write(root: &Path, path: &str, text: &str) -> Result<(), Error> {
    let path = root.join(path);
    std::fs::write(&path, text).map_err(|source| Error::Io {
        action: "write",
        path,
        source,
    })
}

/// Computes the new root `Cargo.toml` and `CHANGELOG.md` of the workspace at `root`; reads
/// only.
pub(crate) fn plan(root: &Path, new: &Version, date: Date) -> Result<Plan, Error> {
    let manifest = read(root, "Cargo.toml")?;
    let bump = manifest::bump(&manifest, new)?;
    let changelog = read(root, "CHANGELOG.md")?;
    let released = changelog::release(&changelog, new, &bump.previous, date)?;
    Ok(Plan {
        current: bump.previous,
        new: new.clone(),
        date,
        edits: bump.edits,
        files: vec![
            FileChange {
                path: "Cargo.toml",
                old: manifest,
                new: bump.text,
            },
            FileChange {
                path: "CHANGELOG.md",
                old: changelog,
                new: released.text,
            },
        ],
        warnings: released.warnings,
    })
}

/// Writes the planned contents.
pub(crate) fn apply(root: &Path, files: &[FileChange]) -> Result<(), Error> {
    files.iter().try_for_each(|f| write(root, f.path, &f.new))
}

/// Puts the old contents back (after a failure before the commit).
fn restore(root: &Path, files: &[FileChange]) {
    for file in files {
        if let Err(e) = write(root, file.path, &file.old) {
            eprintln!(
                "xtask: {e}; restore it with `git checkout -- {}`",
                file.path
            );
        }
    }
}

/// The workspace members, from `cargo metadata`.
fn members(root: &Path) -> Result<Vec<Package>, Error> {
    let json = cmd::stdout(cmd::new(cmd::cargo(), root).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))?;
    workspace::parse(&json)
        .map(|m| m.packages)
        .map_err(|e| Error::Refused(format!("cannot read `cargo metadata` output: {e}")))
}

/// Refuses publishable members whose version or internal pins would not follow the bump.
fn check_members(packages: &[Package]) -> Result<(), Error> {
    let mut problems = Vec::new();
    for package in packages.iter().filter(|p| p.publishable()) {
        let path = package.manifest_path.display().to_string();
        let text = std::fs::read_to_string(&package.manifest_path).map_err(|source| Error::Io {
            action: "read",
            path: package.manifest_path.clone(),
            source,
        })?;
        for problem in manifest::check_member(&path, &text)? {
            problems.push(format!("  {}: {problem}", package.name));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "these crates would not follow the version bump:\n{}",
            problems.join("\n")
        )))
    }
}

/// A crate in the publishing order and what happens to it.
struct Step<'a> {
    package: &'a Package,
    /// `Some(reason)` when it is not uploaded.
    skip: Option<&'static str>,
}

/// Asks crates.io, in publishing order, which crates already have `version`. In a dry run an
/// unreachable registry only means the answer is unknown; for real it stops the release.
fn publish_steps<'a>(
    root: &Path,
    order: &[&'a Package],
    version: &Version,
    execute: bool,
) -> Result<(Vec<Step<'a>>, bool), Error> {
    let version = version.to_string();
    let mut offline = false;
    let mut steps = Vec::with_capacity(order.len());
    for &package in order {
        let skip = if offline {
            None
        } else {
            match registry::check(root, &package.name, &version) {
                Published::Yes => Some("already on crates.io"),
                Published::No => None,
                Published::Unknown(why) if execute => {
                    return Err(Error::Refused(format!(
                        "cannot ask crates.io whether {}@{version} is published: {why}",
                        package.name
                    )));
                }
                Published::Unknown(why) => {
                    println!(
                        "note: crates.io cannot be reached ({why}); offline, so this dry run \
                         cannot tell which crates are already published and assumes none is"
                    );
                    offline = true;
                    None
                }
            }
        };
        steps.push(Step { package, skip });
    }
    Ok((steps, offline))
}

/// `cargo publish` with the flags every run shares.
fn publish_command(root: &Path, no_verify: bool) -> std::process::Command {
    let mut command = cmd::new(cmd::cargo(), root);
    command.args(["publish", "--locked"]);
    if no_verify {
        command.arg("--no-verify");
    }
    command
}

fn print_plan(plan: &Plan, tag: &str) {
    println!(
        "\nVersion {} -> {} (tag {tag}), changelog dated {} (UTC)",
        plan.current, plan.new, plan.date
    );
    println!("\nCargo.toml:");
    for edit in &plan.edits {
        println!("  {}: {} -> {}", edit.key, edit.old, edit.new);
    }
    for file in &plan.files {
        println!(
            "\n{}",
            diff::unified(file.path, &file.old, &file.new, 2).trim_end()
        );
    }
    println!("\nCargo.lock: the workspace crates' versions, by `cargo update --workspace`");
    for warning in &plan.warnings {
        println!("warning: {warning}");
    }
}

/// Runs the release described by `options` on the workspace at `root`.
pub(crate) fn run(root: &Path, options: &Options) -> Result<(), Error> {
    let new = version::parse_release(&options.version)?;
    let tag = format!("v{new}");
    let message = format!("Release {tag}");
    println!(
        "== {} {tag}",
        if options.execute {
            "Releasing"
        } else {
            "Dry run of the release of"
        }
    );

    // 1. Preconditions: nothing has run or changed yet.
    let uncommitted = git::uncommitted(root)?;
    if !uncommitted.is_empty() {
        return Err(Error::Refused(format!(
            "the git tree is not clean; commit or stash these first:\n  {}",
            uncommitted.join("\n  ")
        )));
    }
    if git::tag_exists(root, &tag)? {
        return Err(Error::Refused(format!("the tag {tag} already exists")));
    }
    let branch = git::branch(root)?;
    if options.execute && branch.is_none() {
        return Err(Error::Refused(
            "HEAD is detached: check out the branch to release from".into(),
        ));
    }
    let plan = plan(root, &new, Date::today_utc())?;
    let packages = members(root)?;
    check_members(&packages)?;
    let order = workspace::publish_order(&packages).map_err(|cycle| {
        Error::Refused(format!(
            "these crates depend on each other in a cycle: {}",
            cycle.join(", ")
        ))
    })?;

    // 2. What will change.
    print_plan(&plan, &tag);

    // 3. What will be published.
    let (steps, offline) = publish_steps(root, &order, &new, options.execute)?;
    println!("\nPublishing order:");
    for (i, step) in steps.iter().enumerate() {
        let note = step
            .skip
            .map_or(String::new(), |why| format!(" (skipped: {why})"));
        println!("  {}. {}{note}", i + 1, step.package.name);
    }
    for package in packages.iter().filter(|p| !p.publishable()) {
        println!("  -  {} (skipped: publish = false)", package.name);
    }

    // 4. The gates.
    println!();
    gates::run(root, &options.skipped)?;

    // 5. Publish.
    if options.execute {
        execute(
            root,
            &plan,
            &steps,
            options,
            &tag,
            &message,
            branch.as_deref(),
        )
    } else {
        let unpublished: Vec<&str> = packages
            .iter()
            .filter(|p| !p.publishable())
            .map(|p| p.name.as_str())
            .collect();
        dry_run_publish(root, options, offline, &unpublished)?;
        println!(
            "\nDry run: nothing was written, committed, published or tagged.\n\
             With --execute this would write Cargo.toml and CHANGELOG.md, run \
             `cargo update --workspace`, commit \"{message}\", publish {} crate(s) in the \
             order above, create the annotated tag {tag} and print the push command.\n\
             To do it: cargo xtask release {new} --execute",
            steps.iter().filter(|s| s.skip.is_none()).count()
        );
        Ok(())
    }
}

/// `cargo publish --workspace --dry-run` at the current version: it packages and builds every
/// publishable crate as crates.io would, and uploads nothing. Offline, `cargo publish` cannot
/// start at all, so `cargo package --offline` does the same packaging and build without the
/// registry's checks; if even that fails (dependencies not cached), the dry run says so and
/// carries on.
fn dry_run_publish(
    root: &Path,
    options: &Options,
    offline: bool,
    unpublished: &[&str],
) -> Result<(), Error> {
    let mut command = if offline {
        println!(
            "--- cargo package (offline, instead of `cargo publish --dry-run`; \
             at the current version: the bump changes only versions)"
        );
        let mut command = cmd::new(cmd::cargo(), root);
        command.args(["package", "--workspace", "--locked", "--offline"]);
        for name in unpublished {
            command.args(["--exclude", name]);
        }
        if options.no_verify {
            command.arg("--no-verify");
        }
        command
    } else {
        println!(
            "--- cargo publish (dry run, at the current version: the bump changes only versions)"
        );
        let mut command = publish_command(root, options.no_verify);
        command.args(["--workspace", "--dry-run"]);
        command
    };
    match cmd::run(&mut command) {
        Err(e) if offline => {
            println!(
                "note: the packaging check failed offline ({e}); it may need crates.io for \
                 dependencies that are not cached: run the dry run again when online"
            );
            Ok(())
        }
        result => Ok(result?),
    }
}

/// The `--execute` part: write, commit, publish, tag, and say how to push.
fn execute(
    root: &Path,
    plan: &Plan,
    steps: &[Step<'_>],
    options: &Options,
    tag: &str,
    message: &str,
    branch: Option<&str>,
) -> Result<(), Error> {
    println!("\n--- writing Cargo.toml and CHANGELOG.md");
    let lock_path = root.join("Cargo.lock");
    let lock_before = std::fs::read(&lock_path).ok();
    let mut paths = vec!["Cargo.toml", "CHANGELOG.md"];
    if lock_before.is_some() {
        paths.push("Cargo.lock");
    }
    apply(root, &plan.files)?;
    let committed = cmd::run(cmd::new(cmd::cargo(), root).args(["update", "--workspace"]))
        .and_then(|()| git::commit(root, &paths, message));
    if let Err(e) = committed {
        // Back to the clean tree the release started from.
        git::unstage(root, &paths);
        restore(root, &plan.files);
        if let Some(lock) = &lock_before
            && let Err(e) = std::fs::write(&lock_path, lock)
        {
            eprintln!("xtask: cannot restore Cargo.lock: {e}");
        }
        return Err(e.into());
    }

    let remote = branch.map_or_else(|| "origin".to_owned(), |b| git::remote(root, b));
    let push = format!(
        "git push --atomic {remote} {} {tag}",
        branch.unwrap_or("HEAD")
    );
    for (i, step) in steps.iter().enumerate() {
        if let Some(why) = step.skip {
            println!("--- {}: skipped ({why})", step.package.name);
            continue;
        }
        println!("--- publishing {}", step.package.name);
        let mut command = publish_command(root, options.no_verify);
        command.args(["--package", &step.package.name]);
        if let Err(e) = cmd::run(&mut command) {
            let rest: Vec<String> = steps[i..]
                .iter()
                .filter(|s| s.skip.is_none())
                .map(|s| {
                    let mut command = publish_command(root, options.no_verify);
                    command.args(["--package", &s.package.name]);
                    format!("  {}", cmd::display(&command))
                })
                .collect();
            eprintln!(
                "xtask: publishing stopped at {}. The commit \"{message}\" is made; no tag yet.\n\
                 Once the cause is fixed, finish by hand:\n{}\n  git tag --annotate {tag} -m \"{message}\"\n  {push}",
                step.package.name,
                rest.join("\n")
            );
            return Err(e.into());
        }
    }
    git::tag(root, tag, message)?;
    println!(
        "\nReleased {tag}: committed, published and tagged. Nothing was pushed; push with:\n  {push}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_are_parsed() {
        assert_eq!(
            Options::parse(&args("0.2.0")),
            Ok(Options {
                version: "0.2.0".into(),
                execute: false,
                no_verify: false,
                skipped: vec![],
            })
        );
        let options = Options::parse(&args("--skip-doc v1.0.0-rc.1 --execute --skip-fmt")).unwrap();
        assert_eq!(options.version, "v1.0.0-rc.1");
        assert!(options.execute);
        assert_eq!(options.skipped, [Gate::Doc, Gate::Fmt]);
        let options = Options::parse(&args("0.2.0 --no-verify")).unwrap();
        assert!(options.no_verify);
        assert_eq!(options.skipped, Gate::ALL);
        for bad in [
            "",
            "--execute",
            "0.2.0 0.3.0",
            "0.2.0 --skip-lint",
            "0.2.0 --force",
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad}");
        }
    }

    /// A directory under the system's temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "xtask-{name}-{}-{}",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A temporary copy of the real root `Cargo.toml` and `CHANGELOG.md`.
    fn copy_of_the_workspace(name: &str) -> TempDir {
        let dir = TempDir::new(name);
        for file in ["Cargo.toml", "CHANGELOG.md"] {
            std::fs::copy(crate::workspace_root().join(file), dir.0.join(file)).unwrap();
        }
        dir
    }

    fn next_minor(root: &Path) -> (Version, Version) {
        let current = manifest::current_version(&read(root, "Cargo.toml").unwrap()).unwrap();
        let new = Version::new(current.major, current.minor + 1, 0);
        (current, new)
    }

    const DATE: Date = Date {
        year: 2031,
        month: 5,
        day: 17,
    };

    #[test]
    fn the_real_manifest_changes_only_in_its_versions() {
        let dir = copy_of_the_workspace("manifest");
        let root = dir.0.as_path();
        let (current, new) = next_minor(root);
        let before = read(root, "Cargo.toml").unwrap();

        let plan = plan(root, &new, DATE).unwrap();
        assert_eq!(
            read(root, "Cargo.toml").unwrap(),
            before,
            "plan must not write"
        );
        apply(root, &plan.files).unwrap();
        let after = read(root, "Cargo.toml").unwrap();

        let old_doc: toml_edit::DocumentMut = before.parse().unwrap();
        let new_doc: toml_edit::DocumentMut = after.parse().unwrap();
        assert_eq!(
            new_doc["workspace"]["package"]["version"].as_str(),
            Some(new.to_string().as_str())
        );
        let old_deps = old_doc["workspace"]["dependencies"]
            .as_table_like()
            .unwrap();
        let new_deps = new_doc["workspace"]["dependencies"]
            .as_table_like()
            .unwrap();
        let mut internal = 0;
        for (name, old) in old_deps.iter() {
            let new_entry = new_deps.get(name).unwrap();
            if old.get("path").is_some() {
                internal += 1;
                assert_eq!(
                    old["version"].as_str(),
                    Some(current.to_string().as_str()),
                    "{name}"
                );
                assert_eq!(
                    new_entry["version"].as_str(),
                    Some(new.to_string().as_str()),
                    "{name}"
                );
                assert_eq!(
                    old["path"].to_string(),
                    new_entry["path"].to_string(),
                    "{name}"
                );
            } else {
                assert_eq!(old.to_string(), new_entry.to_string(), "third-party {name}");
            }
        }
        assert!(internal >= 6, "the internal liveapi-* pins: {internal}");
        assert_eq!(plan.edits.len(), 1 + internal);

        // Line by line: same number of lines, comments and layout kept, and the only lines
        // that differ are those holding a version that was bumped.
        let (old_lines, new_lines): (Vec<_>, Vec<_>) =
            (before.lines().collect(), after.lines().collect());
        assert_eq!(old_lines.len(), new_lines.len());
        let changed: Vec<_> = old_lines
            .iter()
            .zip(&new_lines)
            .filter(|(o, n)| o != n)
            .collect();
        assert_eq!(changed.len(), plan.edits.len());
        for (old, new_line) in changed {
            assert_eq!(
                old.replace(&format!("\"{current}\""), &format!("\"{new}\"")),
                **new_line
            );
            assert!(
                old.starts_with("version") || old.starts_with("liveapi"),
                "{old}"
            );
        }
        assert!(after.contains("# Internal crates: pinned by version"));
        assert!(after.contains("# Third-party crates, default features off"));
    }

    #[test]
    fn the_real_changelog_moves_under_the_new_version() {
        let dir = copy_of_the_workspace("changelog");
        let root = dir.0.as_path();
        let (_, new) = next_minor(root);
        let before = read(root, "CHANGELOG.md").unwrap();
        let plan = plan(root, &new, DATE).unwrap();
        apply(root, &plan.files).unwrap();
        let after = read(root, "CHANGELOG.md").unwrap();

        let heading = format!("## [Unreleased]\n\n## [{new}] - 2031-05-17\n\n");
        assert!(after.contains(&heading), "{after}");
        assert_eq!(after.matches("## [Unreleased]").count(), 1);
        // The intro is unchanged, and every entry is still there, now under the version.
        let intro = before.split("## [Unreleased]").next().unwrap();
        assert!(after.starts_with(intro));
        let entries = before.split("## [Unreleased]").nth(1).unwrap().trim();
        let released = after.split(&heading).nth(1).unwrap();
        assert!(released.starts_with(entries.split("\n## ").next().unwrap()));
        let kept: Vec<_> = after.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut expected: Vec<_> = before.lines().filter(|l| !l.trim().is_empty()).collect();
        let at = expected
            .iter()
            .position(|l| *l == "## [Unreleased]")
            .unwrap();
        let version_heading = format!("## [{new}] - 2031-05-17");
        expected.insert(at + 1, &version_heading);
        assert_eq!(kept, expected);
    }

    #[test]
    fn nothing_is_planned_for_a_version_that_is_not_greater() {
        let dir = copy_of_the_workspace("not-greater");
        let root = dir.0.as_path();
        let (current, _) = next_minor(root);
        assert!(matches!(
            plan(root, &current, DATE),
            Err(Error::Manifest(ManifestError::Version(
                VersionError::NotGreater { .. }
            )))
        ));
    }

    #[test]
    fn a_changelog_without_entries_or_without_unreleased_stops_the_plan() {
        let dir = copy_of_the_workspace("bad-changelog");
        let root = dir.0.as_path();
        let (_, new) = next_minor(root);
        let text = read(root, "CHANGELOG.md").unwrap();
        let intro = text.split("## [Unreleased]").next().unwrap();

        write(
            root,
            "CHANGELOG.md",
            &format!("{intro}## [Unreleased]\n\n### Added\n"),
        )
        .unwrap();
        assert!(matches!(
            plan(root, &new, DATE),
            Err(Error::Changelog(ChangelogError::EmptyUnreleased))
        ));
        write(root, "CHANGELOG.md", intro).unwrap();
        assert!(matches!(
            plan(root, &new, DATE),
            Err(Error::Changelog(ChangelogError::NoUnreleased))
        ));
    }
}
