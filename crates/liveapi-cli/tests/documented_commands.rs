//! Every `liveapi …` command a README, a page of `docs/` or the tool's own help names exists,
//! with the flags it is named with: a newcomer who copies one gets that command, not clap's
//! "unrecognized subcommand".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn liveapi(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_liveapi"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The subcommands a `--help` text lists under `Commands:`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command of the tool, by its path, with its `--help` text.
fn command_tree() -> BTreeMap<Vec<String>, String> {
    let mut tree = BTreeMap::new();
    let mut queue = vec![Vec::<String>::new()];
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let (ok, help) = liveapi(&args);
        assert!(ok, "liveapi {} --help failed: {help}", path.join(" "));
        for sub in subcommands(&help) {
            let mut child = path.clone();
            child.push(sub);
            queue.push(child);
        }
        tree.insert(path, help);
    }
    tree
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Markdown files that talk about the tool.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![repository().join("README.md")];
    for dir in ["crates", "docs"] {
        for entry in std::fs::read_dir(repository().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && path.join("README.md").is_file() {
                files.push(path.join("README.md"));
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files
}

/// The code in a Markdown or help text: fenced blocks and inline code spans, where commands
/// are written to be copied (prose that says "the liveapi tool" is not a command).
fn code(text: &str) -> Vec<String> {
    let mut code = Vec::new();
    // Inside a fence: whether its lines are commands (a `toml` block's are not).
    let mut fence: Option<bool> = None;
    for line in text.lines() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(!info.starts_with("toml")),
            };
            continue;
        }
        if let Some(commands) = fence {
            if commands {
                code.push(line.to_owned());
            }
            continue;
        }
        let mut spans = line.split('`');
        spans.next();
        while let Some(span) = spans.next() {
            code.push(span.to_owned());
            spans.next();
        }
    }
    code
}

/// The words after each `liveapi ` in the code of `text`, up to the end of the span or line.
fn mentions(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in code(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("liveapi ") {
            // `liveapi-cli`, `run -p liveapi …` and the like are not the tool's name.
            let before = rest[..at].chars().last();
            let after = &rest[at + "liveapi ".len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '/') {
                continue;
            }
            let end = after.find(['"', ')', ';', ',']).unwrap_or(after.len());
            let words: Vec<String> = after[..end]
                .split_whitespace()
                .take_while(|w| *w != "#")
                .map(str::to_owned)
                .collect();
            // `liveapi = { … }` is a TOML line naming the crate, not the tool.
            if !words.is_empty() && words[0] != "=" {
                found.push(words);
            }
        }
    }
    found
}

/// Checks one mention against the tool: its subcommands exist, and so do its flags.
fn check(mention: &[String], tree: &BTreeMap<Vec<String>, String>) -> Result<(), String> {
    let mut path = Vec::new();
    let mut words = mention.iter().peekable();
    while let Some(word) = words.peek() {
        let alternatives: Vec<&str> = word.split('|').collect();
        let is_command = |name: &str| {
            let mut child = path.clone();
            child.push(name.to_owned());
            tree.contains_key(&child)
        };
        if alternatives.iter().all(|a| is_command(a)) {
            if alternatives.len() > 1 {
                // `outbox list|show|counts|drain`: each is checked; the path stops here.
                return Ok(());
            }
            path.push((*word).clone());
            words.next();
        } else if !word.starts_with('-') && !subcommands(&tree[&path]).is_empty() {
            // After a command group, a word that is no flag must be one of its commands.
            return Err(format!(
                "no command `{}` in `liveapi {}`",
                word,
                path.join(" ")
            ));
        } else {
            break;
        }
    }
    let help = &tree[&path];
    for word in words {
        let flag = word.split('=').next().unwrap_or(word);
        let flag = flag.trim_end_matches(['.', ':', '…']);
        if flag.starts_with("--") && flag.len() > 2 && !help.contains(flag) {
            return Err(format!("`liveapi {}` has no flag {flag}", path.join(" ")));
        }
    }
    Ok(())
}

#[test]
fn every_documented_command_and_flag_exists() {
    let tree = command_tree();
    assert!(
        tree.len() > 20,
        "the whole tree was walked: {:?}",
        tree.keys()
    );
    let mut texts: Vec<(String, String)> = documents()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect();
    for (path, help) in &tree {
        texts.push((format!("liveapi {} --help", path.join(" ")), help.clone()));
    }
    let mut checked = BTreeSet::new();
    let mut wrong = Vec::new();
    for (source, text) in &texts {
        for mention in mentions(text) {
            if checked.insert(mention.clone())
                && let Err(why) = check(&mention, &tree)
            {
                wrong.push(format!("{source}: `liveapi {}`: {why}", mention.join(" ")));
            }
        }
    }
    assert!(checked.len() > 20, "mentions found: {checked:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_mistyped_command_gets_a_suggestion() {
    let (ok, text) = liveapi(&["outbox", "dran"]);
    assert!(!ok);
    assert!(text.contains("drain"), "{text}");
    let (ok, text) = liveapi(&["polyv", "donate", "update-cahs"]);
    assert!(!ok);
    assert!(text.contains("update-cash"), "{text}");
}

#[test]
fn the_checker_finds_what_is_wrong() {
    let tree = command_tree();
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert!(check(&words("sign linkv --explain"), &tree).is_ok());
    assert!(check(&words("sign --explain"), &tree).is_err());
    assert!(check(&words("polyv donate set-cash"), &tree).is_err());
    assert!(check(&words("outbox list|show|counts|drain"), &tree).is_ok());
    assert!(check(&words("outbox drain --outbox coins.outbox"), &tree).is_ok());
    assert!(check(&words("outbox drain --no-such-flag"), &tree).is_err());
}
