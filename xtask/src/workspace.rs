//! The workspace's crates as cargo sees them (`cargo metadata --no-deps`), and the order in
//! which they can be published.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;

/// The part of `cargo metadata --format-version 1` output the release needs.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    /// The workspace members (with `--no-deps`, nothing else).
    pub(crate) packages: Vec<Package>,
}

/// A workspace member.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Package {
    /// The crate's name.
    pub(crate) name: String,
    /// Its `Cargo.toml`.
    pub(crate) manifest_path: PathBuf,
    /// Registries it may be published to: `None` for any, `Some([])` for `publish = false`.
    pub(crate) publish: Option<Vec<String>>,
    /// What it depends on.
    pub(crate) dependencies: Vec<Dependency>,
}

impl Package {
    /// Whether `cargo publish` would upload it to crates.io.
    pub(crate) fn publishable(&self) -> bool {
        self.publish
            .as_ref()
            .is_none_or(|registries| registries.iter().any(|r| r == "crates-io"))
    }
}

/// One dependency of a member.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Dependency {
    /// The depended-on crate's name (before any renaming).
    pub(crate) name: String,
    /// `None` for a normal dependency, `"dev"` or `"build"`.
    pub(crate) kind: Option<String>,
    /// Set for a path dependency.
    pub(crate) path: Option<PathBuf>,
}

/// Reads `cargo metadata --format-version 1 --no-deps` output.
pub(crate) fn parse(json: &str) -> Result<Metadata, serde_json::Error> {
    serde_json::from_str(json)
}

/// Publishable crates in an order where each comes after the workspace crates it depends
/// on, as `cargo publish --workspace` orders them: dev-dependencies with a version stay in
/// the published manifest, so they count too, unless they close a cycle (which
/// dev-dependencies may); then only normal and build dependencies order the crates. Ties are
/// broken by name, so the order is stable. `Err` names the crates caught in a cycle of normal
/// or build dependencies.
pub(crate) fn publish_order(packages: &[Package]) -> Result<Vec<&Package>, Vec<String>> {
    order_by(packages, true).or_else(|_| order_by(packages, false))
}

/// Kahn's algorithm over the publishable crates, with or without dev-dependency edges.
fn order_by(packages: &[Package], with_dev: bool) -> Result<Vec<&Package>, Vec<String>> {
    let publishable: BTreeMap<&str, &Package> = packages
        .iter()
        .filter(|p| p.publishable())
        .map(|p| (p.name.as_str(), p))
        .collect();
    // For each crate, the publishable workspace crates it waits for.
    let mut waits_for: BTreeMap<&str, BTreeSet<&str>> = publishable
        .iter()
        .map(|(&name, package)| {
            let needs = package
                .dependencies
                .iter()
                .filter(|d| d.path.is_some() && (with_dev || d.kind.as_deref() != Some("dev")))
                .filter_map(|d| publishable.get_key_value(d.name.as_str()).map(|(k, _)| *k))
                .filter(|&dep| dep != name)
                .collect();
            (name, needs)
        })
        .collect();

    let mut order = Vec::with_capacity(publishable.len());
    while !waits_for.is_empty() {
        let ready: Vec<&str> = waits_for
            .iter()
            .filter(|(_, needs)| needs.is_empty())
            .map(|(&name, _)| name)
            .collect();
        let Some(&next) = ready.first() else {
            return Err(waits_for.keys().map(|&n| n.to_owned()).collect());
        };
        waits_for.remove(next);
        for needs in waits_for.values_mut() {
            needs.remove(next);
        }
        order.push(publishable[next]);
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed `cargo metadata` output: a diamond (`top` needs `left` and `right`, which need
    /// `base`), a dev-dependency cycle (`base` dev-depends on `top`), a build dependency, an
    /// unpublished crate and a registry crate.
    const METADATA: &str = r#"{
      "packages": [
        {"name": "top", "version": "0.1.0", "manifest_path": "/w/top/Cargo.toml", "publish": null,
         "dependencies": [
           {"name": "right", "kind": null, "path": "/w/right"},
           {"name": "left", "kind": null, "path": "/w/left"},
           {"name": "serde", "kind": null}
         ]},
        {"name": "left", "version": "0.1.0", "manifest_path": "/w/left/Cargo.toml", "publish": null,
         "dependencies": [{"name": "base", "kind": "build", "path": "/w/base"}]},
        {"name": "right", "version": "0.1.0", "manifest_path": "/w/right/Cargo.toml", "publish": null,
         "dependencies": [{"name": "base", "kind": null, "path": "/w/base"}]},
        {"name": "base", "version": "0.1.0", "manifest_path": "/w/base/Cargo.toml", "publish": null,
         "dependencies": [{"name": "top", "kind": "dev", "path": "/w/top"}]},
        {"name": "xtask", "version": "0.1.0", "manifest_path": "/w/xtask/Cargo.toml", "publish": [],
         "dependencies": [{"name": "top", "kind": null, "path": "/w/top"}]}
      ],
      "workspace_root": "/w"
    }"#;

    fn names(packages: &[&Package]) -> Vec<String> {
        packages.iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn dependencies_come_first_and_unpublished_crates_are_left_out() {
        let metadata = parse(METADATA).unwrap();
        let order = publish_order(&metadata.packages).unwrap();
        assert_eq!(names(&order), ["base", "left", "right", "top"]);
        let xtask = metadata
            .packages
            .iter()
            .find(|p| p.name == "xtask")
            .unwrap();
        assert!(!xtask.publishable());
    }

    #[test]
    fn dev_dependencies_order_crates_when_they_close_no_cycle() {
        let mut metadata = parse(METADATA).unwrap();
        // No dev cycle now: `base` loses its dev edge, and `left` dev-depends on `right`.
        let base = metadata
            .packages
            .iter_mut()
            .find(|p| p.name == "base")
            .unwrap();
        base.dependencies.clear();
        let left = metadata
            .packages
            .iter_mut()
            .find(|p| p.name == "left")
            .unwrap();
        left.dependencies.push(Dependency {
            name: "right".into(),
            kind: Some("dev".into()),
            path: Some("/w/right".into()),
        });
        let order = publish_order(&metadata.packages).unwrap();
        assert_eq!(names(&order), ["base", "right", "left", "top"]);
    }

    #[test]
    fn a_cycle_is_reported() {
        let mut metadata = parse(METADATA).unwrap();
        let base = metadata
            .packages
            .iter_mut()
            .find(|p| p.name == "base")
            .unwrap();
        base.dependencies[0].kind = None;
        assert_eq!(
            publish_order(&metadata.packages).unwrap_err(),
            ["base", "left", "right", "top"]
        );
    }
}
