//! Moving `CHANGELOG.md`'s "Unreleased" section under a release heading.
//!
//! The file follows [Keep a Changelog](https://keepachangelog.com/en/1.1.0/):
//!
//! ```text
//! ## [Unreleased]
//!
//! ### Added
//! - …
//!
//! ## [0.1.0] - 2025-01-31
//! …
//!
//! [Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD
//! [0.1.0]: https://github.com/o/r/releases/tag/v0.1.0
//! ```
//!
//! Releasing `0.2.0` leaves a fresh, empty `## [Unreleased]` on top, puts the old section's
//! entries under `## [0.2.0] - <date>`, and, when the file has link references, points
//! `[Unreleased]` at `v0.2.0...HEAD` and adds `[0.2.0]: …/compare/v0.1.0...v0.2.0`.

use crate::date::Date;
use crate::version::Version;

/// The changelog cannot be released as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChangelogError {
    /// No `## [Unreleased]` heading.
    #[error("CHANGELOG.md has no `## [Unreleased]` section to release")]
    NoUnreleased,
    /// The section has no entries.
    #[error(
        "the `## [Unreleased]` section of CHANGELOG.md has no entries: \
         write down what this release changes first"
    )]
    EmptyUnreleased,
    /// The version already has a section.
    #[error("CHANGELOG.md already has a section for {0}")]
    AlreadyReleased(Version),
}

/// The changelog after the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Released {
    /// The new text of the file.
    pub(crate) text: String,
    /// Things left as they were that a person should look at.
    pub(crate) warnings: Vec<String>,
}

/// The title of a level-2 heading (`## [0.1.0] - 2025-01-31` → `[0.1.0] - 2025-01-31`).
fn heading(line: &str) -> Option<&str> {
    line.strip_prefix("## ").map(str::trim)
}

/// Whether a heading title names `label` (`[Unreleased]`, `Unreleased`, `[0.1.0] - date`).
fn names(title: &str, label: &str) -> bool {
    let first = title.split_whitespace().next().unwrap_or("");
    let bare = first
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(first);
    bare.eq_ignore_ascii_case(label)
}

/// A Markdown link reference definition: `[label]: url`. Returns both parts.
fn link_definition(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_end().strip_prefix('[')?;
    let (label, url) = rest.split_once("]:")?;
    let url = url.trim();
    (!label.is_empty() && !url.is_empty() && !url.contains(char::is_whitespace))
        .then_some((label, url))
}

/// Index of the first line of the trailing block of link definitions (blank lines allowed
/// between them), or `lines.len()` if the file does not end with one.
fn link_block_start(lines: &[&str]) -> usize {
    let mut start = lines.len();
    for (i, line) in lines.iter().enumerate().rev() {
        if link_definition(line).is_some() {
            start = i;
        } else if !line.trim().is_empty() {
            break;
        }
    }
    start
}

/// Moves the "Unreleased" entries under `## [version] - date`; `previous` is the version
/// being succeeded (for the compare link).
pub(crate) fn release(
    text: &str,
    version: &Version,
    previous: &Version,
    date: Date,
) -> Result<Released, ChangelogError> {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.lines().collect();
    let links_start = link_block_start(&lines);
    let version_text = version.to_string();

    if lines[..links_start]
        .iter()
        .filter_map(|line| heading(line))
        .any(|title| names(title, &version_text))
    {
        return Err(ChangelogError::AlreadyReleased(version.clone()));
    }
    let unreleased = lines[..links_start]
        .iter()
        .position(|line| heading(line).is_some_and(|title| names(title, "unreleased")))
        .ok_or(ChangelogError::NoUnreleased)?;
    let section_end = lines[unreleased + 1..links_start]
        .iter()
        .position(|line| heading(line).is_some())
        .map_or(links_start, |i| unreleased + 1 + i);

    let body = trim_blank(&lines[unreleased + 1..section_end]);
    // Sub-headings (`### Added`) without a single entry under them are a template, not notes.
    if body
        .iter()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with("###"))
    {
        return Err(ChangelogError::EmptyUnreleased);
    }

    let mut out: Vec<String> = lines[..=unreleased].iter().map(|&l| l.to_owned()).collect();
    out.push(String::new());
    out.push(format!("## [{version}] - {date}"));
    out.push(String::new());
    out.extend(body.iter().map(|&l| l.to_owned()));
    let older = trim_blank(&lines[section_end..links_start]);
    if !older.is_empty() {
        out.push(String::new());
        out.extend(older.iter().map(|&l| l.to_owned()));
    }
    let mut warnings = Vec::new();
    let links = &lines[links_start..];
    if !links.is_empty() {
        let (updated, link_warnings) = update_links(links, version, previous);
        out.push(String::new());
        out.extend(updated);
        warnings = link_warnings;
    }
    let mut text_out = out.join(eol);
    if text.ends_with('\n') {
        text_out.push_str(eol);
    }
    Ok(Released {
        text: text_out,
        warnings,
    })
}

/// The lines without the blank ones at either end.
fn trim_blank<'a, 'b>(mut lines: &'b [&'a str]) -> &'b [&'a str] {
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines = &lines[1..];
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines = &lines[..lines.len() - 1];
    }
    lines
}

/// Updates the link definitions: `[Unreleased]` compares from the new tag, and the new
/// version compares the previous tag with the new one. Lines it does not understand are kept.
fn update_links(
    lines: &[&str],
    version: &Version,
    previous: &Version,
) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::with_capacity(lines.len() + 1);
    let mut warnings = Vec::new();
    let mut found = false;
    for &line in lines {
        let Some((label, url)) =
            link_definition(line).filter(|(l, _)| l.eq_ignore_ascii_case("unreleased"))
        else {
            out.push(line.to_owned());
            continue;
        };
        found = true;
        let parsed = url
            .strip_suffix("...HEAD")
            .and_then(|head| head.rsplit_once("/compare/"));
        match parsed {
            Some((base, from)) => {
                // The tag naming scheme of the previous release: `v0.1.0`, `liveapi-v0.1.0`, …
                let previous = previous.to_string();
                let prefix = from.strip_suffix(previous.as_str()).unwrap_or("v");
                let tag = format!("{prefix}{version}");
                out.push(format!("[{label}]: {base}/compare/{tag}...HEAD"));
                out.push(format!("[{version}]: {base}/compare/{from}...{tag}"));
            }
            None => {
                warnings.push(format!(
                    "CHANGELOG.md: the `[{label}]` link ({url}) is not of the form \
                     `…/compare/<tag>...HEAD`; update it and add a `[{version}]` link by hand"
                ));
                out.push(line.to_owned());
            }
        }
    }
    if !found && !lines.is_empty() {
        warnings.push(format!(
            "CHANGELOG.md has link references but none for `[Unreleased]`; \
             add a `[{version}]` link by hand if the others have one"
        ));
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: Date = Date {
        year: 2025,
        month: 3,
        day: 7,
    };

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn release_0_2_0(text: &str) -> Result<Released, ChangelogError> {
        release(text, &v("0.2.0"), &v("0.1.0"), DATE)
    }

    const WITH_HISTORY: &str = "\
# Changelog

Intro.

## [Unreleased]

### Added
- Thing one.

### Fixed
- Thing two.

## [0.1.0] - 2025-01-31

### Added
- First.

[Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD
[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0
";

    #[test]
    fn entries_move_under_the_dated_version_and_links_follow() {
        let released = release_0_2_0(WITH_HISTORY).unwrap();
        assert_eq!(
            released.text,
            "\
# Changelog

Intro.

## [Unreleased]

## [0.2.0] - 2025-03-07

### Added
- Thing one.

### Fixed
- Thing two.

## [0.1.0] - 2025-01-31

### Added
- First.

[Unreleased]: https://github.com/o/r/compare/v0.2.0...HEAD
[0.2.0]: https://github.com/o/r/compare/v0.1.0...v0.2.0
[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0
"
        );
        assert!(released.warnings.is_empty(), "{:?}", released.warnings);
    }

    #[test]
    fn a_first_release_without_links_or_older_sections() {
        let text = "# Changelog\n\n## [Unreleased]\n\n### Added\n- Everything.\n";
        let released = release_0_2_0(text).unwrap();
        assert_eq!(
            released.text,
            "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2025-03-07\n\n### Added\n- Everything.\n"
        );
        assert!(released.warnings.is_empty());
    }

    #[test]
    fn an_empty_unreleased_section_is_refused() {
        for text in [
            "# Changelog\n\n## [Unreleased]\n",
            "# Changelog\n\n## [Unreleased]\n\n\n## [0.1.0] - 2025-01-31\n- First.\n",
            "# Changelog\n\n## [Unreleased]\n\n### Added\n\n### Fixed\n\n## [0.1.0] - 2025-01-31\n",
            "## Unreleased\n\n[Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD\n",
        ] {
            assert_eq!(
                release_0_2_0(text),
                Err(ChangelogError::EmptyUnreleased),
                "{text}"
            );
        }
    }

    #[test]
    fn a_changelog_without_unreleased_is_an_error() {
        for text in [
            "",
            "# Changelog\n",
            "# Changelog\n\n## [0.1.0] - 2025-01-31\n- First.\n",
            // Not a level-2 heading.
            "# Changelog\n\n### Unreleased\n- Thing.\n",
        ] {
            assert_eq!(
                release_0_2_0(text),
                Err(ChangelogError::NoUnreleased),
                "{text}"
            );
        }
    }

    #[test]
    fn a_version_that_already_has_a_section_is_refused() {
        let text = "## [Unreleased]\n- Thing.\n\n## [0.2.0] - 2025-01-31\n- Old.\n";
        assert_eq!(
            release_0_2_0(text),
            Err(ChangelogError::AlreadyReleased(v("0.2.0")))
        );
    }

    #[test]
    fn the_tag_scheme_of_the_compare_link_is_kept() {
        let text = "## [Unreleased]\n- Thing.\n\n\
                    [unreleased]: https://example.com/r/compare/liveapi-v0.1.0...HEAD\n";
        let released = release_0_2_0(text).unwrap();
        assert!(released.text.ends_with(
            "[unreleased]: https://example.com/r/compare/liveapi-v0.2.0...HEAD\n\
             [0.2.0]: https://example.com/r/compare/liveapi-v0.1.0...liveapi-v0.2.0\n"
        ));
    }

    #[test]
    fn links_it_cannot_read_are_kept_with_a_warning() {
        let text =
            "## [Unreleased]\n- Thing.\n\n[Unreleased]: https://example.com/r/commits/main\n";
        let released = release_0_2_0(text).unwrap();
        assert!(
            released
                .text
                .ends_with("\n\n[Unreleased]: https://example.com/r/commits/main\n")
        );
        assert_eq!(released.warnings.len(), 1);
        assert!(released.warnings[0].contains("by hand"));
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        let text = WITH_HISTORY.replace('\n', "\r\n");
        let released = release_0_2_0(&text).unwrap();
        assert_eq!(
            released.text,
            release_0_2_0(WITH_HISTORY)
                .unwrap()
                .text
                .replace('\n', "\r\n")
        );
    }
}
