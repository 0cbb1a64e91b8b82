//! The README's `Cargo.toml` blocks name crates of this workspace, at its version, with
//! features they have: a newcomer who copies one gets a build, not an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The TOML code blocks of a Markdown text.
fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed.starts_with("```toml") => current = Some(String::new()),
            Some(block) if trimmed.starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The features `crate_dir`'s manifest declares.
fn features(crate_dir: &Path) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let manifest: toml_edit::DocumentMut = manifest.parse().unwrap();
    manifest
        .get("features")
        .and_then(|f| f.as_table())
        .map(|table| table.iter().map(|(name, _)| name.to_owned()).collect())
        .unwrap_or_default()
}

/// The workspace's version, `major.minor`.
fn version() -> String {
    let manifest = std::fs::read_to_string(repository().join("Cargo.toml")).unwrap();
    let manifest: toml_edit::DocumentMut = manifest.parse().unwrap();
    let full = manifest["workspace"]["package"]["version"]
        .as_str()
        .unwrap();
    full.rsplit_once('.').unwrap().0.to_owned()
}

#[test]
fn every_cargo_toml_block_of_the_readme_names_real_crates_and_features() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let blocks = toml_blocks(&readme);
    assert!(blocks.len() >= 4, "a block per use: {blocks:#?}");
    let version = version();
    let mut named = BTreeSet::new();
    for block in blocks {
        let doc: toml_edit::DocumentMut = block.parse().unwrap_or_else(|e| panic!("{e}: {block}"));
        let dependencies = doc["dependencies"]
            .as_table()
            .expect("a [dependencies] table");
        for (name, spec) in dependencies.iter() {
            if !name.starts_with("liveapi") {
                continue;
            }
            named.insert(name.to_owned());
            let crate_dir = repository().join("crates").join(name);
            assert!(crate_dir.is_dir(), "{name} is not a crate of the workspace");
            let (requirement, wanted): (String, Vec<String>) = match spec {
                toml_edit::Item::Value(toml_edit::Value::String(v)) => (v.value().clone(), vec![]),
                item => {
                    let table = item.as_inline_table().expect("a version or a table");
                    let requirement = table["version"].as_str().unwrap().to_owned();
                    let features = table
                        .get("features")
                        .and_then(|f| f.as_array())
                        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                        .unwrap_or_default();
                    (requirement, features)
                }
            };
            assert_eq!(
                requirement, version,
                "{name}: the workspace is at {version}"
            );
            let declared = features(&crate_dir);
            for feature in wanted {
                assert!(
                    declared.contains(&feature),
                    "{name} has no feature `{feature}`"
                );
            }
        }
    }
    for use_case in ["liveapi", "liveapi-outbox", "liveapi-sign"] {
        assert!(named.contains(use_case), "no block for {use_case}");
    }
    // The commented PostgreSQL line is checked too: the feature it names exists.
    assert!(features(&repository().join("crates/liveapi-outbox")).contains("postgres"));
}
