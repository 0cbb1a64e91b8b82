//! Reading the JSON body of a donate update, as a server does: the body's error and the
//! field lookups the settings' parsers share.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::Enabled;
use crate::ValidationError;
use crate::validate::{Check, Rule};

/// A request body that is not what the call takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// Empty, not JSON, or not a JSON object.
    #[error("the body is not a JSON object: {0}")]
    Syntax(String),
    /// A JSON object whose fields break a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

pub(super) fn object_fields(
    field: &'static str,
    raw: &RawValue,
) -> Result<BTreeMap<String, Box<RawValue>>, ValidationError> {
    serde_json::from_str(raw.get()).map_err(|_| {
        Check { field }.fail(Rule::Format {
            expected: "a JSON object",
        })
    })
}

pub(super) fn body_fields(body: &[u8]) -> Result<BTreeMap<String, Box<RawValue>>, BodyError> {
    serde_json::from_slice(body).map_err(|e| BodyError::Syntax(e.to_string()))
}

pub(super) fn optional_enabled(
    fields: &BTreeMap<String, Box<RawValue>>,
) -> Result<Option<Enabled>, ValidationError> {
    present(fields, "enabled")
        .map(|raw| Enabled::from_json("enabled", raw))
        .transpose()
}

/// A body field that may be absent or `null`.
pub(super) fn present<'a>(
    fields: &'a BTreeMap<String, Box<RawValue>>,
    key: &str,
) -> Option<&'a RawValue> {
    fields
        .get(key)
        .map(AsRef::as_ref)
        .filter(|raw| raw.get().trim() != "null")
}
