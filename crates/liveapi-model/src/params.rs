//! Reading a request's parameters back from the wire, for servers and emulators.

use std::collections::{BTreeMap, HashMap};

use crate::ValidationError;
use crate::validate::{Check, Rule};

/// Somewhere to look parameters up by name: a parsed form body or query string.
///
/// Empty values count as absent, as both vendors' signing rules treat them.
pub trait ParamSource {
    /// The raw value of `key`, if present.
    fn raw(&self, key: &str) -> Option<&str>;

    /// The value of `key`, or `None` if it is absent or empty.
    fn param(&self, key: &str) -> Option<&str> {
        self.raw(key).filter(|v| !v.is_empty())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> ParamSource for [(K, V)] {
    fn raw(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> ParamSource for Vec<(K, V)> {
    fn raw(&self, key: &str) -> Option<&str> {
        self.as_slice().raw(key)
    }
}

impl ParamSource for BTreeMap<String, String> {
    fn raw(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher> ParamSource for HashMap<String, String, S> {
    fn raw(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

/// Parses a required parameter.
pub(crate) fn required<T, E>(
    source: &(impl ParamSource + ?Sized),
    key: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, ValidationError>
where
    E: Into<ValidationError>,
{
    let value = source
        .param(key)
        .ok_or(Check { field: key }.fail(Rule::Missing))?;
    parse(value).map_err(Into::into)
}

/// Parses an optional parameter.
pub(crate) fn optional<T, E>(
    source: &(impl ParamSource + ?Sized),
    key: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, ValidationError>
where
    E: Into<ValidationError>,
{
    source.param(key).map(parse).transpose().map_err(Into::into)
}
