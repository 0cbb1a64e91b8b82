//! Release versions: read with cargo's own rules (the `semver` crate), compared by precedence.

use std::cmp::Ordering;

pub(crate) use semver::Version;

/// A version that cannot be released.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VersionError {
    /// Not a semantic version.
    #[error("`{text}` is not a semantic version such as 1.2.3 or 1.2.3-rc.1: {reason}")]
    Malformed {
        /// What was given.
        text: String,
        /// Why it does not parse.
        reason: String,
    },
    /// Build metadata (`+…`) does not tell releases apart on crates.io.
    #[error(
        "`{0}` has build metadata (`+…`): crates.io ignores it when comparing versions, \
         so it cannot name a new release"
    )]
    BuildMetadata(String),
    /// The new version does not come after the current one.
    #[error("{new} is not greater than the current version {current}")]
    NotGreater {
        /// The workspace's version now.
        current: Version,
        /// The version asked for.
        new: Version,
    },
}

/// Reads a release version as typed on the command line: `1.2.3`, `1.2.3-rc.1`, or the same
/// with a leading `v` (as in the tag name).
pub(crate) fn parse_release(text: &str) -> Result<Version, VersionError> {
    let bare = text.strip_prefix('v').unwrap_or(text);
    let version = Version::parse(bare).map_err(|e| VersionError::Malformed {
        text: text.to_owned(),
        reason: e.to_string(),
    })?;
    if !version.build.is_empty() {
        return Err(VersionError::BuildMetadata(text.to_owned()));
    }
    Ok(version)
}

/// Checks that `new` comes strictly after `current` in semver precedence: numeric fields
/// first, then a pre-release sorts before its release (`1.0.0-rc.1 < 1.0.0`), pre-release
/// identifiers compared field by field (numbers numerically, numbers before words, a longer
/// list after its prefix). Build metadata plays no part.
pub(crate) fn check_greater(current: &Version, new: &Version) -> Result<(), VersionError> {
    if new.cmp_precedence(current) == Ordering::Greater {
        Ok(())
    } else {
        Err(VersionError::NotGreater {
            current: current.clone(),
            new: new.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        parse_release(text).unwrap()
    }

    #[test]
    fn precedence_follows_semver_including_pre_releases() {
        // The ordered example of semver.org §11, then numeric fields compared as numbers.
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0-rc.1",
            "2.0.0",
        ];
        for pair in ordered.windows(2) {
            let (lower, higher) = (v(pair[0]), v(pair[1]));
            assert_eq!(check_greater(&lower, &higher), Ok(()), "{lower} < {higher}");
            assert!(
                check_greater(&higher, &lower).is_err(),
                "{higher} > {lower}"
            );
        }
    }

    #[test]
    fn equal_or_lower_versions_are_refused() {
        let current = v("0.2.0");
        for new in ["0.2.0", "0.1.9", "0.2.0-rc.1", "0.0.1"] {
            assert_eq!(
                check_greater(&current, &v(new)),
                Err(VersionError::NotGreater {
                    current: current.clone(),
                    new: v(new),
                }),
                "{new}"
            );
        }
        let err = check_greater(&current, &v("0.1.0")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "0.1.0 is not greater than the current version 0.2.0"
        );
    }

    #[test]
    fn leading_v_is_accepted_and_junk_is_not() {
        assert_eq!(v("v0.3.0"), v("0.3.0"));
        for bad in [
            "", "1", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "latest", "vv1.2.3",
        ] {
            assert!(
                matches!(parse_release(bad), Err(VersionError::Malformed { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            parse_release("1.2.3+build.5"),
            Err(VersionError::BuildMetadata("1.2.3+build.5".into()))
        );
    }
}
