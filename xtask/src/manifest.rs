//! Editing the root `Cargo.toml` (with `toml_edit`, so comments and layout survive) and
//! checking that the member manifests leave the version to it.
//!
//! The whole workspace shares one version: `[workspace.package].version`, inherited by every
//! crate with `version.workspace = true`. Internal crates depend on each other through
//! `[workspace.dependencies]` entries that carry both a `path` (for building here) and a
//! `version` (for `cargo publish`), so a release changes exactly those strings.

use toml_edit::{DocumentMut, Item, TableLike, Value};

use crate::version::{Version, VersionError, check_greater};

/// A manifest that cannot be released as it is.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ManifestError {
    /// Not TOML.
    #[error("{file} is not valid TOML: {source}")]
    Parse {
        /// The manifest.
        file: String,
        /// What the parser said.
        source: toml_edit::TomlError,
    },
    /// No shared version to bump.
    #[error("Cargo.toml has no `[workspace.package]` `version = \"…\"` string")]
    NoWorkspaceVersion,
    /// The shared version is not semver.
    #[error("`[workspace.package].version` = `{0}` is not a semantic version")]
    BadWorkspaceVersion(String),
    /// The new version is not a step forward.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// An internal crate listed without a version cannot be published against.
    #[error(
        "`[workspace.dependencies].{0}` has a `path` but no `version`: \
         `cargo publish` needs the version"
    )]
    UnpinnedInternal(String),
}

/// One value the bump changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Where it is, as a dotted TOML path.
    pub(crate) key: String,
    /// The string before.
    pub(crate) old: String,
    /// The string after.
    pub(crate) new: String,
}

/// The root manifest after the bump.
#[derive(Debug, Clone)]
pub(crate) struct Bump {
    /// The new text of the file.
    pub(crate) text: String,
    /// The version being succeeded.
    pub(crate) previous: Version,
    /// Every value changed, the workspace version first.
    pub(crate) edits: Vec<Edit>,
}

fn parse(file: &str, text: &str) -> Result<DocumentMut, ManifestError> {
    text.parse::<DocumentMut>()
        .map_err(|source| ManifestError::Parse {
            file: file.to_owned(),
            source,
        })
}

/// The `[workspace.package].version` string.
fn workspace_version(doc: &DocumentMut) -> Result<Version, ManifestError> {
    let text = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str)
        .ok_or(ManifestError::NoWorkspaceVersion)?;
    Version::parse(text).map_err(|_| ManifestError::BadWorkspaceVersion(text.to_owned()))
}

/// The workspace's current version, read from the root manifest.
#[cfg(test)]
pub(crate) fn current_version(text: &str) -> Result<Version, ManifestError> {
    workspace_version(&parse("Cargo.toml", text)?)
}

/// Replaces a string value, keeping the whitespace and comment around it.
fn set_string(value: &mut Value, new: &str) {
    let decor = value.decor().clone();
    *value = Value::from(new);
    *value.decor_mut() = decor;
}

/// The requirement that pins `new` the way `old` pinned the previous version: an explicit
/// `=`, `^` or `~` operator is kept; anything else becomes the bare version.
fn repin(old: &str, new: &Version) -> String {
    let operator = ["=", "^", "~"]
        .into_iter()
        .find(|op| old.trim_start().starts_with(op))
        .unwrap_or("");
    format!("{operator}{new}")
}

/// Bumps `[workspace.package].version` and the `version` of every `[workspace.dependencies]`
/// entry that has a `path` (the internal crates) to `new`, in one edit of the text.
///
/// Nothing else changes: third-party entries, comments, key order and spacing are kept byte
/// for byte.
pub(crate) fn bump(text: &str, new: &Version) -> Result<Bump, ManifestError> {
    let mut doc = parse("Cargo.toml", text)?;
    let previous = workspace_version(&doc)?;
    check_greater(&previous, new)?;
    let new_text = new.to_string();

    let mut edits = vec![Edit {
        key: "workspace.package.version".into(),
        old: previous.to_string(),
        new: new_text.clone(),
    }];
    if let Some(value) = doc["workspace"]["package"]["version"].as_value_mut() {
        set_string(value, &new_text);
    }

    let dependencies = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(Item::as_table_like_mut);
    if let Some(dependencies) = dependencies {
        for (name, entry) in dependencies.iter_mut() {
            let Some(entry) = entry.as_table_like_mut() else {
                continue; // `name = "1.0"`: a registry crate.
            };
            if !entry.contains_key("path") {
                continue;
            }
            let Some(value) = entry.get_mut("version").and_then(Item::as_value_mut) else {
                return Err(ManifestError::UnpinnedInternal(name.get().to_owned()));
            };
            let old = value.as_str().unwrap_or_default().to_owned();
            let pinned = repin(&old, new);
            set_string(value, &pinned);
            edits.push(Edit {
                key: format!("workspace.dependencies.{}.version", name.get()),
                old,
                new: pinned,
            });
        }
    }

    Ok(Bump {
        text: doc.to_string(),
        previous,
        edits,
    })
}

/// Why a member manifest would be left behind by the bump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberProblem {
    /// `version = "…"` of its own instead of `version.workspace = true`.
    OwnVersion(String),
    /// A dependency by `path` not taken from `[workspace.dependencies]`: its version pin
    /// would not be bumped.
    PathDependency(String),
}

impl std::fmt::Display for MemberProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OwnVersion(v) => write!(
                f,
                "has `version = \"{v}\"` of its own; use `version.workspace = true`"
            ),
            Self::PathDependency(name) => write!(
                f,
                "depends on `{name}` by `path` directly; list it in `[workspace.dependencies]` \
                 and write `{name}.workspace = true`, so that releases bump its pin"
            ),
        }
    }
}

/// The dependency tables of a manifest: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]` and their `[target.'…'.*]` forms.
fn dependency_tables(doc: &DocumentMut) -> Vec<&dyn TableLike> {
    fn kinds<'a>(table: &'a dyn TableLike, into: &mut Vec<&'a dyn TableLike>) {
        for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(t) = table.get(kind).and_then(Item::as_table_like) {
                into.push(t);
            }
        }
    }
    let mut tables = Vec::new();
    kinds(doc.as_table(), &mut tables);
    if let Some(targets) = doc.get("target").and_then(Item::as_table_like) {
        for (_, target) in targets.iter() {
            if let Some(target) = target.as_table_like() {
                kinds(target, &mut tables);
            }
        }
    }
    tables
}

/// Checks a publishable member's manifest: its version comes from the workspace and its
/// internal dependencies go through `[workspace.dependencies]`.
pub(crate) fn check_member(file: &str, text: &str) -> Result<Vec<MemberProblem>, ManifestError> {
    let doc = parse(file, text)?;
    let mut problems = Vec::new();
    if let Some(version) = doc
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str)
    {
        problems.push(MemberProblem::OwnVersion(version.to_owned()));
    }
    for table in dependency_tables(&doc) {
        for (name, entry) in table.iter() {
            let by_path = entry
                .as_table_like()
                .is_some_and(|e| e.contains_key("path"));
            if by_path {
                problems.push(MemberProblem::PathDependency(name.to_owned()));
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    const ROOT: &str = r#"[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.1.0"   # the one version of every crate
edition = "2024"

[workspace.dependencies]
# Internal crates.
core-a = { version = "0.1.0", path = "crates/core-a" }
core-b = { path = "crates/core-b", version = "=0.1.0" }
# Third-party crates, one of them at the same version string.
lookalike = { version = "0.1.0", default-features = false }
plain = "0.1.0"
git-dep = { git = "https://example.com/x.git" }

[workspace.dependencies.core-c]
path = "crates/core-c"
version = "0.1.0" # table form

[profile.release]
debug = "line-tables-only"
"#;

    #[test]
    fn the_bump_changes_only_the_version_and_the_internal_pins() {
        let bump = bump(ROOT, &v("0.2.0-rc.1")).unwrap();
        assert_eq!(bump.previous, v("0.1.0"));
        let expected = ROOT
            .replace(
                r#"version = "0.1.0"   # the one"#,
                r#"version = "0.2.0-rc.1"   # the one"#,
            )
            .replace(
                r#"core-a = { version = "0.1.0","#,
                r#"core-a = { version = "0.2.0-rc.1","#,
            )
            .replace(r#"version = "=0.1.0" }"#, r#"version = "=0.2.0-rc.1" }"#)
            .replace(
                r#"version = "0.1.0" # table form"#,
                r#"version = "0.2.0-rc.1" # table form"#,
            );
        assert_eq!(bump.text, expected);
        let keys: Vec<_> = bump.edits.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "workspace.package.version",
                "workspace.dependencies.core-a.version",
                "workspace.dependencies.core-b.version",
                "workspace.dependencies.core-c.version",
            ]
        );
        assert_eq!(bump.edits[2].old, "=0.1.0");
        assert_eq!(bump.edits[2].new, "=0.2.0-rc.1");
    }

    #[test]
    fn the_bump_refuses_a_version_that_is_not_greater() {
        for new in ["0.1.0", "0.0.9", "0.1.0-rc.1"] {
            assert!(
                matches!(
                    bump(ROOT, &v(new)),
                    Err(ManifestError::Version(VersionError::NotGreater { .. }))
                ),
                "{new}"
            );
        }
    }

    #[test]
    fn an_internal_crate_without_a_version_is_refused() {
        let text = ROOT.replace(
            r#"core-a = { version = "0.1.0", path = "crates/core-a" }"#,
            r#"core-a = { path = "crates/core-a" }"#,
        );
        assert!(matches!(
            bump(&text, &v("0.2.0")),
            Err(ManifestError::UnpinnedInternal(name)) if name == "core-a"
        ));
    }

    #[test]
    fn a_root_without_a_shared_version_is_refused() {
        let text = ROOT.replace(
            r#"version = "0.1.0"   # the one version of every crate"#,
            "",
        );
        assert!(matches!(
            bump(&text, &v("0.2.0")),
            Err(ManifestError::NoWorkspaceVersion)
        ));
        assert!(matches!(
            current_version("not = [toml"),
            Err(ManifestError::Parse { .. })
        ));
    }

    #[test]
    fn members_must_inherit_the_version_and_the_internal_pins() {
        let good = r#"[package]
name = "core-b"
version.workspace = true

[dependencies]
core-a.workspace = true
serde = { workspace = true, features = ["derive"] }
"#;
        assert_eq!(check_member("core-b", good).unwrap(), []);

        let bad = r#"[package]
name = "core-b"
version = "0.1.0"

[dependencies]
core-a = { path = "../core-a", version = "0.1.0" }

[target.'cfg(unix)'.dev-dependencies]
core-c = { path = "../core-c" }
"#;
        assert_eq!(
            check_member("core-b", bad).unwrap(),
            [
                MemberProblem::OwnVersion("0.1.0".into()),
                MemberProblem::PathDependency("core-a".into()),
                MemberProblem::PathDependency("core-c".into()),
            ]
        );
    }
}
